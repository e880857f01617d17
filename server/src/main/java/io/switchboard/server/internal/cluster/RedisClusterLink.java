package io.switchboard.server.internal.cluster;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.switchboard.protocol.minichats.MinichatsEncoder;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.broker.Broker;
import io.switchboard.server.internal.broker.ChannelEntry;
import io.switchboard.server.internal.broker.ChannelEvent;
import io.switchboard.server.internal.broker.ClusterLink;
import io.switchboard.server.internal.broker.History;
import io.switchboard.server.internal.broker.Dialect;
import io.switchboard.server.internal.broker.RosterMember;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * Joins this node to the others through Redis pub/sub, with Lettuce (docs/cluster.md).
 *
 * <ul>
 *   <li>Messages: the node SUBSCRIBEs to {@code <prefix>ch:<channel>} while it has local subscribers
 *       of the channel, PUBLISHes each local publish there as a {@link ClusterEnvelope} after
 *       delivering it locally, and skips its own echo. A subscribe that makes the node a channel's
 *       first subscriber is answered once Redis confirmed the SUBSCRIBE, so its ok means publishes
 *       from every node reach it.</li>
 *   <li>Counts: the node keeps its per-channel counts in the hash {@code <prefix>node:<id>}, which
 *       expires unless refreshed by its heartbeat, and tells the others of each change on
 *       {@code <prefix>ctl} ({@link ClusterView} has the messages).</li>
 *   <li>Presence: each channel's members of every dialect are in the hash
 *       {@code <prefix>presence:<channel>} (field {@code node TAB id}, value {@code dialect-code TAB name}),
 *       which expires unless a node with members there refreshes it with its heartbeat; a reader
 *       ignores the fields of nodes it does not hear from, so a dead node's members are gone within
 *       the node timeout.</li>
 *   <li>Failures: while Redis is unreachable, local delivery goes on, publishes for other nodes are
 *       counted and dropped (never queued), and {@link #problem()} says why. Lettuce reconnects;
 *       the node then resubscribes, rewrites its hash and rereads the others'.</li>
 * </ul>
 *
 * <p>Thread-safe. Redis state and the {@link ClusterView} are touched only on the link's lane of the
 * node's {@link RedisConnections} ({@link #lane}: one task at a time, in order, as on a thread of its
 * own); publishes and deliveries go straight through, keeping per-publisher order.
 */
public final class RedisClusterLink implements ClusterLink {

    private static final Logger logger = LoggerFactory.getLogger(RedisClusterLink.class);

    /** The hash field holding the node's seq; channel names cannot hold control characters. */
    private static final byte[] SEQ_FIELD = "\u0001seq".getBytes(StandardCharsets.UTF_8);
    /**
     * Changes this node's hash and announces it, atomically, so a hash read and the control messages
     * never disagree. KEYS[1]: the hash; ARGV: ttl ms, seq, control channel, message, 1 to replace
     * the hash, then channel/count pairs (count 0 removes the channel).
     */
    private static final String UPDATE_SCRIPT = LuaScripts.load(RedisClusterLink.class, "update_node_counts.lua");
    /** Replaces this node's fields in a channel's presence hash; see the script. */
    private static final String REPLACE_MEMBERS_SCRIPT = LuaScripts.load(RedisClusterLink.class, "replace_node_members.lua");
    private static final int SUBSCRIBE_BATCH = 1000;
    /** Appends to a channel's stream and publishes it numbered (history on, issue 18). */
    private static final String PUBLISH_KEPT = LuaScripts.load(RedisClusterLink.class, "publish_kept.lua");
    /** Reads a channel's stream. */
    private static final String READ_KEPT = LuaScripts.load(RedisClusterLink.class, "read_kept.lua");
    private static final SecureRandom EPOCHS = new SecureRandom();

    private final Broker broker;
    private final int maxMessageBytes;
    private final int historySize;
    private final long historyTtlMillis;
    /** The most publications a {@code history} read takes from Redis. */
    private final int readCap;
    private final long nodeId;
    private final String nodeName;
    private final String endpoint;
    private final String prefix;
    private final byte[] channelPrefix;
    private final byte[] controlChannel;
    private final byte[] ownKey;
    private final Duration nodeTimeout;
    private final RedisConnections redis;
    private final RedisConnections.Lane lane;
    private final ClusterView view;

    /** Futures of subscribes waiting for their channel's SUBSCRIBE; created and dropped under the broker's lock. */
    private final ConcurrentHashMap<String, CompletableFuture<Void>> waiting = new ConcurrentHashMap<>();
    private final Set<String> dirty = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean reconcileScheduled = new AtomicBoolean();
    private final LongAdder unforwarded = new LongAdder();
    private final LongAdder nodesExpired = new LongAdder();
    private final BiConsumer<Object, Throwable> countFailure = (result, failure) -> {
        if (failure != null) {
            unforwarded.increment();
        }
    };

    /**
     * Does not reconnect by itself: Lettuce would resend what was in flight when it dropped, delivering
     * a publish twice or late (at most {@link RedisConnections#REQUEST_QUEUE_SIZE} wait; beyond, publishes
     * are counted as not forwarded). The link reconnects it. The pub/sub connection Lettuce reconnects
     * and resubscribes (SUBSCRIBE is idempotent).
     */
    private volatile StatefulRedisConnection<byte[], byte[]> commands;
    private volatile boolean up;
    private volatile String downReason;
    private volatile long unforwardedWhenDown;
    private volatile boolean closed;

    // Touched only on the link's thread.
    private StatefulRedisPubSubConnection<byte[], byte[]> pubsub;
    private final Map<String, Subscribed> subscribed = new HashMap<>();
    private final Map<String, Integer> publishedCounts = new HashMap<>();
    /**
     * Channels with members on this node, to those members by id, as written to Redis: changed on the
     * link's lane only, in the order the members came and went, so a rewrite never revives a member
     * that left.
     */
    private final Map<String, Map<String, RosterMember>> members = new HashMap<>();
    /**
     * Channels whose presence hash may not hold this node's members as {@link #members} has them: a
     * write failed, or members came or went while the link was down. Replaced whole by the next
     * heartbeat (or the link coming up). On the link's lane only.
     */
    private final Set<String> staleMembers = new HashSet<>();
    private long seq;
    private long generation;
    private boolean rewriteDue;
    private int failedConnects;
    private boolean reconnectingCommands;
    private int failedReconnects;
    private long downSinceNanos;
    private long unforwardedReported;

    /** A channel this node SUBSCRIBEd to; {@code acked} once Redis confirmed that SUBSCRIBE. */
    private static final class Subscribed {
        final long generation;
        boolean acked;

        Subscribed(long generation) {
            this.generation = generation;
        }
    }

    private RedisClusterLink(SwitchboardConfig config, RedisConnections redis, Broker broker) {
        this.broker = broker;
        this.maxMessageBytes = config.maxMessageBytes();
        this.historySize = config.historySize();
        this.historyTtlMillis = config.historyTtl().toMillis();
        this.readCap = Math.max(1, config.maxMessageBytes() / 64);
        SecureRandom random = new SecureRandom();
        long id;
        do {
            id = random.nextLong();
        } while (id == 0);
        nodeId = id;
        nodeName = String.format("%016x", id);
        prefix = config.redisKeyPrefix();
        channelPrefix = utf8(prefix + "ch:");
        controlChannel = utf8(prefix + "ctl");
        ownKey = nodeKey(nodeName);
        nodeTimeout = config.clusterNodeTimeout();
        this.redis = redis;
        endpoint = redis.endpoint();
        downReason = "connecting to Redis at " + endpoint;
        view = new ClusterView(nodeName);
        lane = redis.lane("Cluster link");
        // Any of the node's Redis connections: checkLink looks at the link's own two.
        redis.onConnectionChange(() -> onLinkThread(this::checkLink));
        long beat = nodeTimeout.toMillis() / 3;
        lane.scheduleAtFixedRate(this::heartbeat, beat, beat, TimeUnit.MILLISECONDS);
        long sweep = Math.min(1000, Math.max(100, nodeTimeout.toMillis() / 10));
        lane.scheduleAtFixedRate(this::sweep, sweep, sweep, TimeUnit.MILLISECONDS);
    }

    /** Returns a link for {@code broker}'s node, through {@code redis}, that starts connecting in the background. */
    public static ClusterLink start(SwitchboardConfig config, RedisConnections redis, Broker broker) {
        RedisClusterLink link = new RedisClusterLink(config, redis, broker);
        logger.info("Cluster mode: node {} joins through Redis at {} (keys '{}*', node timeout {})",
                link.nodeName, link.endpoint, link.prefix, link.nodeTimeout);
        link.onLinkThread(link::connect);
        return link;
    }

    // ---- ClusterLink: called by the broker and the sessions, on any thread ----

    @Override
    public CompletableFuture<Void> localCountChanged(String channel, boolean first) {
        CompletableFuture<Void> receiving = READY;
        if (first && up) {
            receiving = waiting.computeIfAbsent(channel, c -> new CompletableFuture<>());
        } else if (!first) {
            receiving = waiting.getOrDefault(channel, READY);
        }
        if (dirty.add(channel) && reconcileScheduled.compareAndSet(false, true)) {
            onLinkThread(this::reconcile);
        }
        return receiving;
    }

    @Override
    public void publish(String channel, ChannelEvent event) {
        StatefulRedisConnection<byte[], byte[]> c = commands;
        if (!up || c == null) {
            unforwarded.increment();
            return;
        }
        try {
            c.async().publish(redisChannel(channel), ClusterEnvelope.encode(nodeId, event)).whenComplete(countFailure);
        } catch (RuntimeException e) {
            unforwarded.increment(); // e.g. Lettuce's request queue is full
        }
    }

    @Override
    public CompletableFuture<List<RosterMember>> remoteMembers(String channel) {
        StatefulRedisConnection<byte[], byte[]> c = commands;
        if (!up || c == null) {
            return MEMBERS_UNKNOWN;
        }
        CompletableFuture<List<RosterMember>> found = new CompletableFuture<>();
        c.async().hgetall(presenceKey(channel)).whenComplete((hash, failure) -> onLinkThread(() -> {
            if (failure != null) {
                logger.debug("Cluster: could not read {}'s members: {}", channel, rootMessage(failure));
                found.complete(null);
                return;
            }
            found.complete(othersOf(hash));
        }));
        // Never let a presence or a welcome wait on a link that stopped answering.
        return found.completeOnTimeout(null, RedisConnections.COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * The members in a channel's presence hash of the nodes this one hears from, itself left out (its
     * own members are in the broker's roster). A field this build cannot read is skipped.
     */
    private List<RosterMember> othersOf(Map<byte[], byte[]> hash) {
        List<RosterMember> list = new ArrayList<>(hash.size());
        for (Map.Entry<byte[], byte[]> field : hash.entrySet()) {
            String key = new String(field.getKey(), StandardCharsets.UTF_8);
            String value = new String(field.getValue(), StandardCharsets.UTF_8);
            int tab = key.indexOf('\t');
            int valueTab = value.indexOf('\t');
            // A node not heard of within the node timeout is gone, and its members with it.
            if (tab < 0 || valueTab < 0 || !view.knows(key.substring(0, tab))) {
                continue;
            }
            try {
                Dialect dialect = broker.dialects().byCode(Integer.parseInt(value.substring(0, valueTab)));
                list.add(RosterMember.of(key.substring(tab + 1), value.substring(valueTab + 1), dialect));
            } catch (IllegalArgumentException e) {
                logger.debug("Cluster: skipped a presence field this node cannot read: {}", e.getMessage());
            }
        }
        return list;
    }

    @Override
    public void memberJoined(String channel, RosterMember member) {
        onLinkThread(() -> {
            members.computeIfAbsent(channel, ch -> new HashMap<>()).put(member.id(), member);
            if (up) {
                byte[] key = presenceKey(channel);
                writePresence(channel, () -> commands.async().hset(key, presenceField(member), presenceValue(member)));
                writePresence(channel, () -> commands.async().pexpire(key, nodeTimeout.toMillis()));
            } else {
                staleMembers.add(channel);
            }
        });
    }

    @Override
    public void memberLeft(String channel, RosterMember member) {
        onLinkThread(() -> {
            Map<String, RosterMember> here = members.get(channel);
            if (here != null && here.remove(member.id()) != null && here.isEmpty()) {
                members.remove(channel);
            }
            if (up) {
                writePresence(channel, () -> commands.async().hdel(presenceKey(channel), presenceField(member)));
            } else {
                staleMembers.add(channel); // the field must go when the link is back, though the member is gone here
            }
        });
    }

    /**
     * Sends a write of {@code channel}'s presence hash; if it fails, or cannot be sent (Lettuce's
     * request queue is full), marks the channel for the next repair ({@link #staleMembers}).
     */
    private void writePresence(String channel, Supplier<CompletionStage<?>> write) {
        try {
            write.get().whenComplete((ignored, failure) -> {
                if (failure != null) {
                    onLinkThread(() -> staleMembers.add(channel));
                }
            });
        } catch (RuntimeException e) {
            staleMembers.add(channel);
        }
    }

    /**
     * Writes this node's members again (Redis may have lost them), or keeps their hashes alive; then
     * replaces its fields in the hashes that may be stale ({@link #staleMembers}).
     */
    private void writeMembers(boolean rewrite) {
        for (Map.Entry<String, Map<String, RosterMember>> channel : members.entrySet()) {
            byte[] key = presenceKey(channel.getKey());
            if (rewrite) {
                Map<byte[], byte[]> fields = new HashMap<>();
                channel.getValue().values().forEach(m -> fields.put(presenceField(m), presenceValue(m)));
                writePresence(channel.getKey(), () -> commands.async().hset(key, fields));
            }
            writePresence(channel.getKey(), () -> commands.async().pexpire(key, nodeTimeout.toMillis()));
        }
        for (String channel : new ArrayList<>(staleMembers)) {
            staleMembers.remove(channel);
            Map<String, RosterMember> here = members.getOrDefault(channel, Map.of());
            byte[][] args = new byte[2 + 2 * here.size()][];
            args[0] = utf8(nodeName + "\t");
            args[1] = utf8(Long.toString(nodeTimeout.toMillis()));
            int i = 2;
            for (RosterMember m : here.values()) {
                args[i++] = presenceField(m);
                args[i++] = presenceValue(m);
            }
            writePresence(channel, () -> commands.async().eval(REPLACE_MEMBERS_SCRIPT, ScriptOutputType.INTEGER,
                    new byte[][] {presenceKey(channel)}, args));
        }
    }

    @Override
    public int remoteSubscribers(String channel) {
        return view.remoteSubscribers(channel);
    }

    @Override
    public Map<String, Integer> remoteTotals() {
        return view.remoteTotals();
    }

    @Override
    public long unforwarded() {
        return unforwarded.sum();
    }

    @Override
    public long nodesExpired() {
        return nodesExpired.sum();
    }

    @Override
    public String nodeName() {
        return nodeName;
    }

    @Override
    public String problem() {
        if (up) {
            return null;
        }
        long lost = unforwarded.sum() - unforwardedWhenDown;
        return "cluster link down: " + downReason + (lost > 0 ? "; " + lost + " publishes did not reach other nodes" : "");
    }

    @Override
    public CompletableFuture<Void> close() {
        if (closed) {
            return READY;
        }
        closed = true;
        CompletableFuture<Void> left = new CompletableFuture<>();
        onLinkThread(() -> {
            StatefulRedisConnection<byte[], byte[]> c = commands;
            if (up && c != null) {
                // Leave cleanly: the others stop counting this node now rather than after the timeout.
                CompletableFuture.allOf(c.async().del(ownKey).toCompletableFuture(),
                                c.async().publish(controlChannel, utf8("B\t" + nodeName)).toCompletableFuture())
                        .whenComplete((ignored, failure) -> left.complete(null));
            } else {
                left.complete(null);
            }
            up = false;
            downReason = "the node is stopping";
        });
        // The link's connections close with the node's RedisConnections, which Node closes after this.
        return left.completeOnTimeout(null, 2, TimeUnit.SECONDS)
                .thenRun(() -> {
                    lane.close();
                    waiting.values().forEach(f -> f.complete(null));
                })
                .whenComplete((ignored, failure) -> logger.info("Cluster: node {} left", nodeName));
    }

    // ---- The link's lane ----

    private void onLinkThread(Runnable task) {
        try {
            lane.execute(task);
        } catch (RejectedExecutionException e) {
            // Closed: nothing more to tell anybody.
        }
    }

    private void connect() {
        if (closed) {
            return;
        }
        StatefulRedisConnection<byte[], byte[]> c = null;
        StatefulRedisPubSubConnection<byte[], byte[]> p = null;
        try {
            c = redis.commands(ByteArrayCodec.INSTANCE, false);
            p = redis.pubsub(ByteArrayCodec.INSTANCE);
            p.addListener(new Listener());
            commands = c;
            pubsub = p;
            checkLink();
        } catch (RuntimeException e) {
            if (p != null) {
                p.closeAsync();
            }
            if (c != null) {
                c.closeAsync();
            }
            failedConnects++;
            downReason = "cannot connect to Redis at " + endpoint + ": " + rootMessage(e);
            if (failedConnects == 1) {
                logger.error("CLUSTER LINK DOWN: {}. This node serves its own clients only until Redis answers; "
                        + "retrying every {} to {} ms", downReason, RedisConnections.retryDelay(1).toMillis(),
                        RedisConnections.retryDelay(Integer.MAX_VALUE).toMillis());
            } else if (failedConnects % 10 == 0) {
                logger.warn("Cluster link still down after {} attempts: {}", failedConnects, downReason);
            }
            retry(this::connect, failedConnects);
        }
    }

    /** Follows the connections' state: both open is up. */
    private void checkLink() {
        StatefulRedisConnection<byte[], byte[]> c = commands;
        if (c != null && !c.isOpen() && !closed && !reconnectingCommands) {
            reconnectingCommands = true;
            c.closeAsync();
            failedReconnects = 0;
            retry(this::reconnectCommands, 1);
        }
        boolean open = !closed && c != null && pubsub != null && c.isOpen() && pubsub.isOpen();
        if (open && !up) {
            linkUp();
        } else if (!open && up) {
            linkDown("lost the connection to Redis at " + endpoint);
        }
    }

    /** Opens a new commands connection after the last one dropped (at most once: nothing is resent). */
    private void reconnectCommands() {
        if (closed) {
            return;
        }
        try {
            commands = redis.commands(ByteArrayCodec.INSTANCE, false);
            reconnectingCommands = false;
            checkLink();
        } catch (RuntimeException e) {
            retry(this::reconnectCommands, ++failedReconnects + 1);
        }
    }

    /** Runs {@code attempt} (the {@code n}th, from 1) on the link's lane after the node's reconnect delay. */
    private void retry(Runnable attempt, int n) {
        lane.schedule(attempt, RedisConnections.retryDelay(n).toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Brings Redis up to date with this node, whatever it missed or lost: subscriptions, this node's
     * hash; and asks the others to announce themselves, since their changes may have been missed.
     */
    private void linkUp() {
        up = true;
        if (downSinceNanos != 0) {
            logger.warn("Cluster link restored after {} s; {} publishes did not reach other nodes meanwhile",
                    (System.nanoTime() - downSinceNanos) / 1_000_000_000, unforwarded.sum() - unforwardedWhenDown);
        } else {
            logger.info("Cluster link up: node {} connected to Redis at {}", nodeName, endpoint);
        }
        downSinceNanos = 0;
        unforwardedReported = unforwarded.sum();
        pubsub.async().subscribe(controlChannel).whenComplete((ignored, failure) -> {
            if (failure != null) {
                logger.warn("Cluster: could not subscribe to control messages: {}", rootMessage(failure));
            }
        });
        subscribed.clear();
        Map<String, Integer> counts = broker.localCounts();
        subscribe(new ArrayList<>(counts.keySet()));
        publishedCounts.clear();
        publishedCounts.putAll(counts);
        writeCounts('S', counts);
        writeMembers(true);
        view.markAllStale();
        reconcile();
    }

    private void linkDown(String reason) {
        up = false;
        downReason = reason + " (since " + Instant.now() + ")";
        downSinceNanos = System.nanoTime();
        unforwardedWhenDown = unforwarded.sum();
        logger.error("CLUSTER LINK DOWN: {}. Local delivery goes on; publishes cannot reach other nodes until it "
                + "is back; reconnecting", reason);
        releaseWaiting();
    }

    /** Answers every waiting subscribe: nothing better will come while the link is down. */
    private void releaseWaiting() {
        for (String channel : new ArrayList<>(waiting.keySet())) {
            CompletableFuture<Void> f = waiting.remove(channel);
            if (f != null) {
                f.complete(null);
            }
        }
    }

    /** Brings Redis in line with the channels whose local counts changed: subscriptions and counts. */
    private void reconcile() {
        reconcileScheduled.set(false);
        if (!up) {
            releaseWaiting();
            return; // dirty names stay; linkUp rewrites everything anyway
        }
        List<String> toSubscribe = new ArrayList<>();
        List<byte[]> toUnsubscribe = new ArrayList<>();
        Map<String, Integer> changed = new LinkedHashMap<>();
        for (String channel : new ArrayList<>(dirty)) {
            dirty.remove(channel);
            ChannelEntry entry = broker.channel(channel);
            int count = entry == null ? 0 : entry.subscribers;
            if (count != publishedCounts.getOrDefault(channel, 0)) {
                changed.put(channel, count);
                if (count == 0) {
                    publishedCounts.remove(channel);
                } else {
                    publishedCounts.put(channel, count);
                }
            }
            Subscribed s = subscribed.get(channel);
            if (count > 0) {
                if (s == null) {
                    toSubscribe.add(channel);
                } else if (s.acked) {
                    release(channel);
                }
            } else {
                if (s != null) {
                    subscribed.remove(channel);
                    toUnsubscribe.add(redisChannel(channel));
                }
                broker.ifNoChannel(channel, () -> waiting.remove(channel));
            }
        }
        if (!toUnsubscribe.isEmpty()) {
            pubsub.async().unsubscribe(toUnsubscribe.toArray(new byte[0][]));
        }
        subscribe(toSubscribe);
        if (!changed.isEmpty()) {
            writeCounts('C', changed);
        }
    }

    /** SUBSCRIBEs to {@code channels}, in batches; each confirmation answers the subscribes waiting for it. */
    private void subscribe(List<String> channels) {
        for (int from = 0; from < channels.size(); from += SUBSCRIBE_BATCH) {
            List<String> batch = channels.subList(from, Math.min(channels.size(), from + SUBSCRIBE_BATCH));
            long gen = ++generation;
            byte[][] keys = new byte[batch.size()][];
            for (int i = 0; i < keys.length; i++) {
                subscribed.put(batch.get(i), new Subscribed(gen));
                keys[i] = redisChannel(batch.get(i));
            }
            List<String> names = new ArrayList<>(batch);
            // Redis runs a SUBSCRIBE whole before it answers, so its first confirmation covers every channel.
            pubsub.async().subscribe(keys).whenComplete((ignored, failure) -> onLinkThread(() -> {
                for (String channel : names) {
                    Subscribed s = subscribed.get(channel);
                    if (s == null || s.generation != gen) {
                        continue; // a later SUBSCRIBE or UNSUBSCRIBE of the channel decides
                    }
                    if (failure == null) {
                        s.acked = true;
                    } else {
                        subscribed.remove(channel);
                        retryLater(channel);
                    }
                    release(channel); // a failure answers too: the retry must not hold the client up
                }
                if (failure != null) {
                    logger.warn("Cluster: SUBSCRIBE to {} channels failed: {}", names.size(), rootMessage(failure));
                }
            }));
        }
    }

    /** Reconciles {@code channel} again in a second, after a failed SUBSCRIBE. */
    private void retryLater(String channel) {
        lane.schedule(() -> {
            if (dirty.add(channel) && reconcileScheduled.compareAndSet(false, true)) {
                reconcile();
            }
        }, 1, TimeUnit.SECONDS);
    }

    private void release(String channel) {
        CompletableFuture<Void> f = waiting.remove(channel);
        if (f != null) {
            f.complete(null);
        }
    }

    /**
     * Writes this node's counts to its hash and tells the others: {@code 'C'} for changes,
     * {@code 'S'} to replace the whole hash (and ask the others to announce themselves).
     */
    private void writeCounts(char type, Map<String, Integer> counts) {
        long s = ++seq;
        StringBuilder message = new StringBuilder().append(type).append('\t').append(nodeName).append('\t').append(s);
        byte[][] args = new byte[5 + 2 * counts.size()][];
        int i = 5;
        for (Map.Entry<String, Integer> e : counts.entrySet()) {
            if (type == 'C') {
                message.append('\n').append(e.getKey()).append('\t').append(e.getValue());
            }
            args[i++] = utf8(e.getKey());
            args[i++] = utf8(Integer.toString(e.getValue()));
        }
        args[0] = utf8(Long.toString(nodeTimeout.toMillis()));
        args[1] = utf8(Long.toString(s));
        args[2] = controlChannel;
        args[3] = utf8(message.toString());
        args[4] = utf8(type == 'S' ? "1" : "0");
        commands.async().eval(UPDATE_SCRIPT, ScriptOutputType.INTEGER, new byte[][] {ownKey}, args)
                .whenComplete((ignored, failure) -> {
                    if (failure != null) {
                        logger.warn("Cluster: could not write this node's counts: {}", rootMessage(failure));
                        onLinkThread(() -> rewriteDue = true);
                    }
                });
    }

    /** Keeps this node's hash alive and tells the others it is; rewrites the hash when it was lost. */
    private void heartbeat() {
        if (!up) {
            return;
        }
        long lost = unforwarded.sum();
        if (lost > unforwardedReported) {
            logger.warn("Cluster: {} publishes did not reach other nodes in the last {} ms (Redis too slow or "
                    + "failing; {} in all)", lost - unforwardedReported, nodeTimeout.toMillis() / 3, lost);
        }
        unforwardedReported = lost;
        if (rewriteDue) {
            rewriteDue = false;
            Map<String, Integer> counts = broker.localCounts();
            publishedCounts.clear();
            publishedCounts.putAll(counts);
            writeCounts('S', counts);
            return;
        }
        StatefulRedisConnection<byte[], byte[]> c = commands;
        c.async().pexpire(ownKey, nodeTimeout.toMillis()).whenComplete((alive, failure) -> {
            if (Boolean.FALSE.equals(alive)) {
                onLinkThread(() -> rewriteDue = true); // the hash is gone: Redis restarted or evicted it
            }
        });
        writeMembers(false);
        announce();
    }

    private void announce() {
        commands.async().publish(controlChannel, utf8("H\t" + nodeName + "\t" + seq));
    }

    private void sweep() {
        checkLink(); // in case a connection event was missed
        forgetSilentNodes();
    }

    private void forgetSilentNodes() {
        // Two heartbeats missed in a row: forgotten within the node timeout of its last sign of life.
        for (String node : view.expire(System.nanoTime(), nodeTimeout.toNanos() * 2 / 3)) {
            nodesExpired.increment();
            logger.warn("Cluster: node {} went silent; its subscribers and disposable members are no longer counted",
                    node);
        }
    }

    private void onControl(String message) {
        ClusterView.Action action;
        try {
            action = view.onMessage(message, System.nanoTime());
        } catch (IllegalArgumentException e) {
            logger.warn("Cluster: ignored a malformed control message: {}", e.getMessage());
            return;
        }
        if (action == ClusterView.Action.FETCH || action == ClusterView.Action.FETCH_AND_ANNOUNCE) {
            fetch(ClusterView.sender(message));
        }
        if (up && (action == ClusterView.Action.ANNOUNCE || action == ClusterView.Action.FETCH_AND_ANNOUNCE)) {
            announce();
        }
    }

    /** Reads another node's hash into the view. */
    private void fetch(String node) {
        if (!up) {
            view.fetchFailed(node);
            return;
        }
        commands.async().hgetall(nodeKey(node)).whenComplete((hash, failure) -> onLinkThread(() -> {
            if (failure != null) {
                view.fetchFailed(node);
                return;
            }
            Map<String, Integer> counts = new HashMap<>();
            long s;
            try {
                s = ClusterView.parseHash(hash, SEQ_FIELD, counts);
            } catch (IllegalArgumentException e) {
                logger.warn("Cluster: ignored node {}'s malformed hash: {}", node, e.getMessage());
                view.fetchFailed(node);
                return;
            }
            if (view.replace(node, s, counts, System.nanoTime())) {
                fetch(node);
            }
        }));
    }

    /** A channel's messages that nobody here wants any more (left over from a lost UNSUBSCRIBE). */
    private void dropStale(String channel) {
        if (up && !subscribed.containsKey(channel) && broker.channel(channel) == null) {
            pubsub.async().unsubscribe(redisChannel(channel));
        }
    }

    /** Receives from Redis, on a Lettuce thread. */
    private final class Listener extends RedisPubSubAdapter<byte[], byte[]> {
        private final LongAdder malformed = new LongAdder();

        @Override
        public void message(byte[] channel, byte[] message) {
            if (Arrays.equals(channel, controlChannel)) {
                String text = new String(message, StandardCharsets.UTF_8);
                onLinkThread(() -> onControl(text));
                return;
            }
            try {
                deliver(channel, message);
            } catch (IllegalArgumentException e) {
                malformed.increment();
                if (malformed.sum() % 1000 == 1) {
                    logger.warn("Cluster: ignored a malformed message on {} ({} so far): {}",
                            new String(channel, StandardCharsets.UTF_8), malformed.sum(), e.getMessage());
                }
            }
        }

        private void deliver(byte[] redisChannel, byte[] message) {
            if (message.length > 0 && message[0] == 'K') {
                deliverKept(redisChannel, message);
                return;
            }
            if (ClusterEnvelope.origin(message) == nodeId || !startsWith(redisChannel, channelPrefix)) {
                return;
            }
            ChannelEntry entry = subscribedEntry(redisChannel);
            if (entry == null) {
                return;
            }
            ClusterEnvelope envelope = ClusterEnvelope.decode(message, broker.dialects());
            ChannelEvent event = envelope.event();
            if (event.kind == ChannelEvent.Kind.MESSAGE) {
                int size = MinichatsEncoder.deliveryPayloadLength(event.quotedName(), entry.quotedName(),
                        envelope.contentLength());
                if (size > maxMessageBytes) {
                    throw new IllegalArgumentException("a delivery of " + size + " bytes, over this node's limit of "
                            + maxMessageBytes);
                }
            }
            broker.deliverReceived(entry, event);
        }
    }

    // ---- History (issue 18): the channels' streams in Redis ----

    @Override
    public boolean publishKept(String channel, ChannelEvent event) {
        StatefulRedisConnection<byte[], byte[]> c = commands;
        if (!up || c == null) {
            return false;
        }
        byte[] envelope = ClusterEnvelope.encode(nodeId, event);
        try {
            c.async().eval(PUBLISH_KEPT, ScriptOutputType.INTEGER, streamKeys(channel), utf8(Long.toString(historyTtlMillis)),
                    utf8(Integer.toString(historySize)), utf8(newEpoch()), redisChannel(channel), envelope)
                    .whenComplete((offset, failure) -> {
                        if (failure != null) {
                            // Not numbered (or not known to be: a timeout may yet have published it):
                            // delivered here, unnumbered, as while the link is down.
                            unforwarded.increment();
                            ChannelEntry entry = broker.channel(channel);
                            if (entry != null) {
                                broker.deliverReceived(entry, ClusterEnvelope.decode(envelope, broker.dialects()).event());
                            }
                        }
                    });
            return true;
        } catch (RuntimeException e) {
            unforwarded.increment(); // e.g. Lettuce's request queue is full
            return false;
        }
    }

    @Override
    public CompletableFuture<StreamRead> readKept(String channel, ReadMode mode, long after, int count) {
        StatefulRedisConnection<byte[], byte[]> c = commands;
        if (!up || c == null) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<StreamRead> read = new CompletableFuture<>();
        try {
            // history without a limit reads at most what a reply can hold (a publication takes 64 bytes
            // or more of it), not a whole stream: Redis runs the script alone.
            int most = mode == ReadMode.NEWEST || mode == ReadMode.SINCE
                    ? (count == 0 ? readCap : Math.min(count, readCap)) : count;
            c.async().<List<Object>>eval(READ_KEPT, ScriptOutputType.MULTI, streamKeys(channel),
                    utf8(Long.toString(historyTtlMillis)), utf8(newEpoch()), utf8(mode.name().toLowerCase(Locale.ROOT)),
                    utf8(Long.toString(after)), utf8(Integer.toString(most))).whenComplete((reply, failure) -> {
                        if (failure != null) {
                            logger.debug("Cluster: could not read {}'s stream: {}", channel, rootMessage(failure));
                            read.complete(null);
                            return;
                        }
                        try {
                            read.complete(streamRead(reply));
                        } catch (RuntimeException e) {
                            logger.warn("Cluster: a malformed stream of {}: {}", channel, e.toString());
                            read.complete(null);
                        }
                    });
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(null);
        }
        return read.completeOnTimeout(null, RedisConnections.COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** {@code read_kept.lua}'s reply: epoch, top, the first envelope's offset, the envelopes. */
    private StreamRead streamRead(List<Object> reply) {
        String epoch = new String((byte[]) reply.get(0), StandardCharsets.UTF_8);
        long top = (Long) reply.get(1);
        long first = (Long) reply.get(2);
        List<History.Kept> publications = new ArrayList<>(reply.size() - 3);
        for (int i = 3; i < reply.size(); i++) {
            ClusterEnvelope envelope = ClusterEnvelope.decode((byte[]) reply.get(i), broker.dialects());
            ChannelEvent event = envelope.event();
            byte[] content = Arrays.copyOfRange(envelope.bytes, envelope.contentOffset, envelope.bytes.length);
            publications.add(new History.Kept(first + i - 3, event.quotedName(), event.sentAt, content));
        }
        return new StreamRead(epoch, top, first, publications);
    }

    /**
     * A numbered publish from {@code publish_kept.lua}, {@code K<offset> <epoch> <envelope>}, this
     * node's own included: the broker notes it in its copy of the stream and delivers it.
     */
    private void deliverKept(byte[] redisChannel, byte[] message) {
        if (!startsWith(redisChannel, channelPrefix) || broker.history() == null) {
            // A node without history takes no part in the streams (the nodes of a cluster should agree
            // on HISTORY_SIZE; docs/cluster.md).
            return;
        }
        int space = indexOf(message, (byte) ' ', 1);
        int space2 = space < 0 ? -1 : indexOf(message, (byte) ' ', space + 1);
        if (space2 < 0) {
            throw new IllegalArgumentException("a numbered publish without offset and epoch");
        }
        long offset = Long.parseLong(new String(message, 1, space - 1, StandardCharsets.US_ASCII));
        String epoch = new String(message, space + 1, space2 - space - 1, StandardCharsets.UTF_8);
        ChannelEntry entry = subscribedEntry(redisChannel);
        if (entry == null) {
            return;
        }
        ClusterEnvelope envelope = ClusterEnvelope.decode(Arrays.copyOfRange(message, space2 + 1, message.length),
                broker.dialects());
        ChannelEvent event = envelope.event();
        int size = MinichatsEncoder.deliveryPayloadLength(event.quotedName(), entry.quotedName(), envelope.contentLength());
        if (size > maxMessageBytes) {
            throw new IllegalArgumentException("a delivery of " + size + " bytes, over this node's limit of "
                    + maxMessageBytes);
        }
        event.offset = offset;
        broker.deliverKept(entry.name, epoch, event);
    }

    /**
     * The channel a message on {@code redisChannel} is for, when it has subscribers here; otherwise
     * {@code null}, and the node's stale SUBSCRIBE is dropped.
     */
    private ChannelEntry subscribedEntry(byte[] redisChannel) {
        String channel = new String(redisChannel, channelPrefix.length, redisChannel.length - channelPrefix.length,
                StandardCharsets.UTF_8);
        ChannelEntry entry = broker.channel(channel);
        if (entry == null) {
            onLinkThread(() -> dropStale(channel));
        }
        return entry;
    }

    private byte[][] streamKeys(String channel) {
        return new byte[][] {utf8(prefix + "hs:" + channel), utf8(prefix + "hl:" + channel)};
    }

    private static String newEpoch() {
        return Long.toString(EPOCHS.nextLong() >>> 4, 36);
    }

    private static int indexOf(byte[] bytes, byte b, int from) {
        for (int i = from; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    // ---- Helpers ----

    private byte[] redisChannel(String channel) {
        return concat(channelPrefix, utf8(channel));
    }

    /** The hash of a channel's members: field {@code node TAB id}, value {@code dialect-code TAB name}. */
    private byte[] presenceKey(String channel) {
        return utf8(prefix + "presence:" + channel);
    }

    private byte[] presenceField(RosterMember member) {
        return utf8(nodeName + "\t" + member.id());
    }

    private static byte[] presenceValue(RosterMember member) {
        return utf8(member.dialect().code() + "\t" + member.name());
    }

    private byte[] nodeKey(String node) {
        return utf8(prefix + "node:" + node);
    }

    private static boolean startsWith(byte[] bytes, byte[] start) {
        return bytes.length >= start.length && Arrays.equals(bytes, 0, start.length, start, 0, start.length);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() != null ? root.getMessage() : root.toString();
    }
}
