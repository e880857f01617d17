package io.switchboard.server.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.EventExecutor;
import io.switchboard.server.SlowConsumerPolicy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;

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
        LoopTable loop = loops.computeIfAbsent(ctx.executor(), LoopTable::new);
        return new Connection(ctx, loop, policy, hardLimitBytes, onHardLimit);
    }

    /** The outcome of a subscribe: the membership and the channel's count right after it. */
    record Joined(Subscription subscription, int totalSubscribers) {
    }

    /**
     * Adds {@code connection} to the subscribers of {@code channelName}, creating the channel if
     * needed. The caller makes sure the connection is not subscribed already.
     */
    Joined subscribe(Connection connection, String channelName) {
        LoopTable loop = connection.loop;
        LocalGroup group = loop.groups.get(channelName);
        int total;
        synchronized (lock) {
            if (group == null) {
                ChannelEntry entry = channels.computeIfAbsent(channelName, ChannelEntry::new);
                group = new LocalGroup(loop, entry);
                entry.addGroup(group);
                loop.groups.put(channelName, group);
            }
            // A group with members keeps its entry registered, so group.entry is the current one.
            total = ++group.entry.subscribers;
        }
        return new Joined(group.add(connection), total);
    }

    /** Removes a membership; the channel disappears with its last subscriber. */
    void unsubscribe(Subscription subscription) {
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
        }
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

    /** Returns the channel named {@code name}, or {@code null}. */
    ChannelEntry channel(String name) {
        return channels.get(name);
    }

    /** Returns a snapshot of every channel, ordered by name (UTF-8 bytes). */
    List<ChannelEntry> channels() {
        List<ChannelEntry> list = new ArrayList<>(channels.values());
        list.sort(ChannelEntry::compareByName);
        return list;
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
