package io.switchboard.server.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.EventExecutor;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.minichats.MinichatsEncoder.ChannelSummary;
import io.switchboard.server.SlowConsumerPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;

/**
 * Routes published messages to the subscribers of a channel (DESIGN.md, "the fan-out hot path").
 *
 * <p>The registry (channel name to {@link ChannelEntry}) is the only structure shared between
 * event loops. Subscribe and unsubscribe change it under one lock, so counts and the set of
 * loops with subscribers always agree; publish takes no lock: it reads the entry's groups and
 * sends one task per other loop that has subscribers, each carrying a retained duplicate of the
 * one encoded frame, and fans out inline on its own loop. Every loop writes to its own
 * subscribers only ({@link LoopTable}, {@link LocalGroup}).
 *
 * <p>In a cluster the broker tells its {@link ClusterLink} of every change of a channel's local
 * count; subscriber counts it reports are the local count plus the other nodes'.
 *
 * <p>Thread-safe. Methods taking a {@link Connection} or {@link Subscription} must be called from
 * that connection's event loop.
 */
public final class Broker {

    private static final Logger logger = LoggerFactory.getLogger(Broker.class);

    /**
     * Frames are encoded with the pooled allocator, not Netty 4.2's default adaptive one: a pooled
     * buffer's {@code retainedDuplicate()} comes from a recycler, so a fan-out allocates nothing
     * per subscriber.
     */
    private final ByteBufAllocator frameAllocator = PooledByteBufAllocator.DEFAULT;
    private final ConcurrentHashMap<String, ChannelEntry> channels = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<EventExecutor, LoopTable> loops = new ConcurrentHashMap<>();
    private final Object lock = new Object();
    private final ClusterLink cluster;
    private final Metrics metrics;

    /** A single node's broker. */
    Broker(Metrics metrics) {
        this.metrics = metrics;
        this.cluster = ClusterLink.NONE;
    }

    /** A cluster member's broker; {@code link} makes its link to the others from the broker. */
    Broker(Metrics metrics, Function<Broker, ClusterLink> link) {
        this.metrics = metrics;
        this.cluster = link.apply(this);
    }

    ClusterLink cluster() {
        return cluster;
    }

    /** The allocator deliveries must be encoded with. */
    ByteBufAllocator frameAllocator() {
        return frameAllocator;
    }

    /**
     * Returns the broker's view of a new connection. Call from the connection's event loop.
     *
     * @param onHardLimit closes the connection as a slow consumer (close policy)
     */
    Connection connect(ChannelHandlerContext ctx, SlowConsumerPolicy policy, long hardLimitBytes,
                       Runnable onHardLimit) {
        LoopTable loop = loops.computeIfAbsent(ctx.executor(), e -> new LoopTable(e, metrics));
        return new Connection(ctx, loop, policy, hardLimitBytes, onHardLimit);
    }

    /**
     * The outcome of a subscribe: the membership, the channel's count right after it, and when the
     * node receives the other nodes' publishes to the channel ({@link ClusterLink#READY} on a
     * single node).
     */
    record Joined(Subscription subscription, int totalSubscribers, CompletableFuture<Void> receiving) {
    }

    /**
     * Adds {@code connection} to the subscribers of {@code channelName}, creating the channel if
     * needed. The caller makes sure the connection is not subscribed already.
     */
    Joined subscribe(Connection connection, String channelName) {
        LoopTable loop = connection.loop;
        LocalGroup group = loop.groups.get(channelName);
        int local;
        CompletableFuture<Void> receiving;
        synchronized (lock) {
            if (group == null) {
                ChannelEntry entry = channels.computeIfAbsent(channelName, ChannelEntry::new);
                group = new LocalGroup(loop, entry);
                entry.addGroup(group);
                loop.groups.put(channelName, group);
            }
            // A group with members keeps its entry registered, so group.entry is the current one.
            local = ++group.entry.subscribers;
            receiving = cluster.localCountChanged(channelName, local == 1);
        }
        metrics.subscriptions.increment();
        return new Joined(group.add(connection), local + cluster.remoteSubscribers(channelName), receiving);
    }

    /** Removes a membership; the channel disappears with its last subscriber. */
    void unsubscribe(Subscription subscription) {
        metrics.subscriptions.decrement();
        LocalGroup group = subscription.group;
        group.remove(subscription);
        ChannelEntry entry = group.entry;
        synchronized (lock) {
            if (group.isEmpty()) {
                entry.removeGroup(group);
                group.loop.groups.remove(entry.name);
            }
            if (--entry.subscribers == 0) {
                channels.remove(entry.name, entry);
            }
            cluster.localCountChanged(entry.name, false);
        }
    }

    /** Runs {@code action} under the broker's lock if no channel named {@code name} exists. */
    void ifNoChannel(String name, Runnable action) {
        synchronized (lock) {
            if (!channels.containsKey(name)) {
                action.run();
            }
        }
    }

    /** The channel's subscribers on every node. */
    int totalSubscribers(ChannelEntry entry) {
        return entry.subscribers + cluster.remoteSubscribers(entry.name);
    }

    /**
     * Hands a publish to the other nodes; a no-op on a single node. Does not take ownership of
     * {@code content}.
     */
    void forward(String channel, byte[] senderUtf8, long sentAt, ByteBuf content) {
        cluster.publish(channel, senderUtf8, sentAt, content);
    }

    /**
     * Delivers {@code frame}, a complete WebSocket frame, to every subscriber of {@code entry}.
     * Must be called from {@code origin}'s event loop, whose subscribers are served inline; with
     * {@code origin} {@code null} (a publish from outside the loops) every loop gets a task.
     * Takes ownership of {@code frame}.
     */
    void publish(LoopTable origin, ChannelEntry entry, ByteBuf frame) {
        try {
            LocalGroup local = null;
            for (LocalGroup group : entry.groups) {
                if (group.loop == origin) {
                    local = group;
                } else {
                    ByteBuf duplicate = frame.retainedDuplicate();
                    try {
                        group.loop.executor.execute(new Fanout(group, duplicate));
                    } catch (RejectedExecutionException e) {
                        duplicate.release();
                        logger.debug("Dropped a delivery to {}: its event loop is shutting down", group.loop.executor);
                    }
                }
            }
            if (local != null) {
                local.deliver(frame);
            }
        } finally {
            frame.release();
        }
    }

    /** The channels with subscribers on this node. */
    int localChannelCount() {
        return channels.size();
    }

    /** Returns the channel named {@code name}, or {@code null}. */
    ChannelEntry channel(String name) {
        return channels.get(name);
    }

    /** Returns the channels whose local subscriber counts are not 0, with their counts. */
    Map<String, Integer> localCounts() {
        Map<String, Integer> counts = new HashMap<>();
        for (ChannelEntry e : channels.values()) {
            int n = e.subscribers;
            if (n > 0) {
                counts.put(e.name, n);
            }
        }
        return counts;
    }

    /** Returns a snapshot of every channel of the cluster with its total count, ordered by name (UTF-8 bytes). */
    List<Listed> channels() {
        Map<String, Integer> remote = cluster.remoteTotals();
        List<Listed> list = new ArrayList<>(channels.size() + remote.size());
        for (ChannelEntry e : channels.values()) {
            int total = e.subscribers + cluster.remoteSubscribers(e.name);
            if (total > 0) {
                list.add(new Listed(e.name, e.utf8Name, e.quotedName(), total));
            }
        }
        for (Map.Entry<String, Integer> r : remote.entrySet()) {
            if (!channels.containsKey(r.getKey())) {
                String name = r.getKey();
                list.add(new Listed(name, name.getBytes(StandardCharsets.UTF_8), JsonStrings.quote(name), r.getValue()));
            }
        }
        list.sort((a, b) -> Arrays.compareUnsigned(a.utf8Name, b.utf8Name));
        return list;
    }

    /** A channel as listed: its name and its subscribers on every node. */
    record Listed(String name, byte[] utf8Name, byte[] quotedName, int totalSubscribers) implements ChannelSummary {
    }

    /** One publish's fan-out on one other event loop. */
    private static final class Fanout implements Runnable {
        private final LocalGroup group;
        private final ByteBuf frame;

        /** Takes ownership of {@code frame}. */
        Fanout(LocalGroup group, ByteBuf frame) {
            this.group = group;
            this.frame = frame;
        }

        @Override
        public void run() {
            try {
                group.deliver(frame);
            } finally {
                frame.release();
            }
        }
    }
}
