package io.switchboard.server.internal.cluster;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.RedisCodec;
import io.lettuce.core.event.connection.ConnectionActivatedEvent;
import io.lettuce.core.event.connection.ConnectionDeactivatedEvent;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.switchboard.server.SwitchboardConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node's one way to Redis (issue 16): every Redis user of a clustered node (the cluster link,
 * the chatroom's and randomchat's {@code redis} packages) connects, runs its own work and retries
 * through this, and {@code Node} closes it once, after its users.
 *
 * <ul>
 *   <li><b>One {@link ClientResources}</b> (Lettuce's Netty threads: 2 I/O, 2 computation) and one
 *       {@link RedisURI} ({@code REDIS_ENDPOINT}, {@code REDIS_SECRET}).</li>
 *   <li><b>Two {@link RedisClient}s</b>, because Lettuce's {@link ClientOptions} belong to a client, not
 *       to a connection: one whose connections Lettuce reconnects (pub/sub, which it also subscribes
 *       again, and the chatroom's commands), one whose connections it never reconnects (commands that
 *       must run at most once: a reconnect would resend what was in flight, publishing twice or
 *       running a script twice; their user opens a new connection instead). Otherwise they are
 *       configured alike: no queueing while disconnected (a command reaches Redis now or fails), at
 *       most {@link #REQUEST_QUEUE_SIZE} commands waiting, {@link #COMMAND_TIMEOUT} per command.</li>
 *   <li><b>One reconnect policy</b>, {@link #RECONNECT}: the delays of Lettuce's reconnects and of the
 *       users' own retry loops ({@link #retryDelay}).</li>
 *   <li><b>One scheduled executor</b> of {@link #THREADS} threads for the users' own work. Two users
 *       need their tasks run one at a time, in order: the cluster link confines its state to its
 *       tasks (and keeps SUBSCRIBEs and count updates in order), and the randomchat store sends its
 *       scripts in the order they were called. Each user therefore gets a {@link Lane}, a serial view
 *       of the shared executor, instead of a thread of its own. The only blocking work on the lanes is
 *       connecting (bounded by {@link #COMMAND_TIMEOUT}), so two threads keep one user's connect from
 *       holding up the others' timers.</li>
 * </ul>
 *
 * <p>Loading this class loads Lettuce: {@code Node} makes it only when {@code REDIS_ENDPOINT} is set.
 * Thread-safe.
 */
public final class RedisConnections {

    private static final Logger logger = LoggerFactory.getLogger(RedisConnections.class);

    /** What a command may take, and a connect. */
    public static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(5);
    /** Commands waiting for Redis at most, per connection; beyond, a command fails at once. */
    public static final int REQUEST_QUEUE_SIZE = 100_000;
    /** Delays between attempts to connect: 100 ms at first, doubling up to 2 s. */
    public static final Delay RECONNECT = Delay.exponential(Duration.ofMillis(100), Duration.ofSeconds(2), 2,
            TimeUnit.MILLISECONDS);
    static final int THREADS = 2;
    /** Tasks a lane runs before it lets the executor's other work have the thread. */
    private static final int LANE_BATCH = 64;

    private final RedisURI uri;
    private final String endpoint;
    private final ClientResources resources;
    private final RedisClient reconnecting;
    private final RedisClient atMostOnce;
    private final ScheduledThreadPoolExecutor executor;
    private final List<reactor.core.Disposable> listeners = new CopyOnWriteArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    private RedisConnections(SwitchboardConfig config) {
        uri = uri(config);
        endpoint = uri.getHost() + ":" + uri.getPort();
        resources = ClientResources.builder()
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(2)
                .reconnectDelay(RECONNECT)
                .build();
        ClientOptions options = ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .requestQueueSize(REQUEST_QUEUE_SIZE)
                .timeoutOptions(TimeoutOptions.enabled(COMMAND_TIMEOUT))
                .socketOptions(SocketOptions.builder().connectTimeout(COMMAND_TIMEOUT).keepAlive(true).build())
                .build();
        reconnecting = RedisClient.create(resources);
        reconnecting.setOptions(options);
        atMostOnce = RedisClient.create(resources);
        atMostOnce.setOptions(options.mutate().autoReconnect(false).build());
        AtomicInteger threads = new AtomicInteger();
        executor = new ScheduledThreadPoolExecutor(THREADS, r -> {
            Thread t = new Thread(r, "switchboard-redis-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
    }

    /** Returns the node's Redis connections, of {@code REDIS_ENDPOINT}; connects nothing yet. */
    public static RedisConnections open(SwitchboardConfig config) {
        return new RedisConnections(config);
    }

    /** The Redis of {@code REDIS_ENDPOINT} ({@code host:port} or a {@code redis://} URI) with {@code REDIS_SECRET}. */
    static RedisURI uri(SwitchboardConfig config) {
        String e = config.redisEndpoint();
        RedisURI parsed = RedisURI.create(e.startsWith("redis://") || e.startsWith("rediss://") ? e : "redis://" + e);
        RedisURI.Builder b = RedisURI.builder(parsed).withTimeout(COMMAND_TIMEOUT);
        if (config.redisSecret() != null) {
            b.withPassword(config.redisSecret().toCharArray());
        }
        return b.build();
    }

    /** {@code host:port} of the Redis, for messages. */
    public String endpoint() {
        return endpoint;
    }

    /**
     * Opens a commands connection, blocking for at most {@link #COMMAND_TIMEOUT}. When
     * {@code lettuceReconnects}, Lettuce reconnects it after a drop and resends what was in flight;
     * otherwise it stays closed and its user opens a new one, so that every command runs at most once.
     *
     * @throws io.lettuce.core.RedisException when Redis cannot be reached or refuses the connection
     */
    public <K, V> StatefulRedisConnection<K, V> commands(RedisCodec<K, V> codec, boolean lettuceReconnects) {
        return (lettuceReconnects ? reconnecting : atMostOnce).connect(codec, uri);
    }

    /**
     * Opens a pub/sub connection, blocking for at most {@link #COMMAND_TIMEOUT}; Lettuce reconnects it
     * after a drop and subscribes again to its channels (SUBSCRIBE is idempotent).
     *
     * @throws io.lettuce.core.RedisException when Redis cannot be reached or refuses the connection
     */
    public <K, V> StatefulRedisPubSubConnection<K, V> pubsub(RedisCodec<K, V> codec) {
        return reconnecting.connectPubSub(codec, uri);
    }

    /** Calls {@code listener}, on a Lettuce thread, whenever one of the node's Redis connections opens or drops. */
    public void onConnectionChange(Runnable listener) {
        listeners.add(resources.eventBus().get().subscribe(event -> {
            if (event instanceof ConnectionActivatedEvent || event instanceof ConnectionDeactivatedEvent) {
                listener.run();
            }
        }));
    }

    /** How long a user's retry loop waits before its {@code attempt}th attempt (from 1) to connect: {@link #RECONNECT}. */
    public static Duration retryDelay(int attempt) {
        return RECONNECT.createDelay(attempt);
    }

    /** Returns a new lane of the shared executor, named {@code name} in its log messages. */
    public Lane lane(String name) {
        return new Lane(name);
    }

    /**
     * Closes every connection still open, the clients, Lettuce's threads and the executor. Call once,
     * after every user closed. Completes when all is released.
     */
    public CompletableFuture<Void> close() {
        if (!closed.compareAndSet(false, true)) {
            return CompletableFuture.completedFuture(null);
        }
        listeners.forEach(reactor.core.Disposable::dispose);
        executor.shutdownNow();
        // Off Lettuce's and Netty's threads: shutting a client down from one of its own threads waits on itself.
        return CompletableFuture.supplyAsync(() -> CompletableFuture.allOf(
                        reconnecting.shutdownAsync(0, 2, TimeUnit.SECONDS), atMostOnce.shutdownAsync(0, 2, TimeUnit.SECONDS)))
                .thenCompose(shutdown -> shutdown)
                .handle((ignored, failure) -> null)
                .thenCompose(ignored -> {
                    CompletableFuture<Void> released = new CompletableFuture<>();
                    resources.shutdown(0, 2, TimeUnit.SECONDS).addListener(f -> released.complete(null));
                    return released;
                });
    }

    /**
     * A serial view of the shared executor: its tasks run one at a time, in the order they were
     * given, each seeing what the one before it did, on whichever of the executor's threads is free.
     * What a user confines to its lane is as safe as if it were confined to a thread of its own.
     * Once closed it takes no more tasks ({@link RejectedExecutionException}), drops those waiting
     * and stops its timers. Thread-safe.
     */
    public final class Lane implements Executor {
        private final String name;
        private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
        private final AtomicBoolean running = new AtomicBoolean();
        private final Set<ScheduledFuture<?>> timers = ConcurrentHashMap.newKeySet();
        private volatile boolean closed;

        private Lane(String name) {
            this.name = name;
        }

        /** @throws RejectedExecutionException once the lane or the connections are closed */
        @Override
        public void execute(Runnable task) {
            if (closed) {
                throw new RejectedExecutionException(name + " is closed");
            }
            tasks.add(task);
            drainLater();
        }

        /** Runs {@code task} on this lane after {@code delay}; nothing once the lane is closed. */
        public void schedule(Runnable task, long delay, TimeUnit unit) {
            if (closed) {
                return;
            }
            try {
                executor.schedule(() -> {
                    try {
                        execute(task);
                    } catch (RejectedExecutionException e) {
                        // closed meanwhile
                    }
                }, delay, unit);
            } catch (RejectedExecutionException e) {
                // the node's Redis connections are closed
            }
        }

        /**
         * Runs {@code task} on this lane every {@code period}, first after {@code initialDelay}; a run
         * that is due while the last one still waits for the lane is skipped. Nothing once the lane is closed.
         */
        public void scheduleAtFixedRate(Runnable task, long initialDelay, long period, TimeUnit unit) {
            if (closed) {
                return;
            }
            AtomicBoolean queued = new AtomicBoolean();
            Runnable run = () -> {
                queued.set(false);
                task.run();
            };
            timers.add(executor.scheduleAtFixedRate(() -> {
                if (!queued.getAndSet(true)) {
                    try {
                        execute(run);
                    } catch (RejectedExecutionException e) {
                        // closed meanwhile: close() cancels this timer
                    }
                }
            }, initialDelay, period, unit));
        }

        /** Takes no more tasks, drops those waiting and stops the timers; a task running now finishes. */
        public void close() {
            closed = true;
            timers.forEach(t -> t.cancel(false));
            tasks.clear();
        }

        private void drainLater() {
            if (running.compareAndSet(false, true)) {
                try {
                    executor.execute(this::drain);
                } catch (RejectedExecutionException e) {
                    running.set(false);
                    tasks.clear();
                    throw new RejectedExecutionException(name + ": the node's Redis connections are closed", e);
                }
            }
        }

        private void drain() {
            try {
                for (int i = 0; i < LANE_BATCH && !closed; i++) {
                    Runnable task = tasks.poll();
                    if (task == null) {
                        break;
                    }
                    try {
                        task.run();
                    } catch (RuntimeException | Error e) {
                        logger.error("{}: a task failed", name, e);
                    }
                }
            } finally {
                running.set(false);
            }
            if (!closed && !tasks.isEmpty()) {
                try {
                    drainLater();
                } catch (RejectedExecutionException e) {
                    // the connections are closing
                }
            }
        }
    }
}
