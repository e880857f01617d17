package io.switchboard.server.internal.broker;

import io.netty.buffer.ByteBuf;

import java.util.Arrays;

/**
 * The subscribers of one channel that live on one event loop and speak one dialect. Members are kept in an array with
 * swap-removal, so joining and leaving cost O(1) and a fan-out is a plain loop.
 *
 * <p>Not thread-safe; all methods must be called from {@link #loop}'s event loop.
 */
public final class LocalGroup {

    final LoopTable loop;
    final ChannelEntry entry;
    final Dialect dialect;
    private Subscription[] members = new Subscription[4];
    private int size;

    LocalGroup(LoopTable loop, ChannelEntry entry, Dialect dialect) {
        this.loop = loop;
        this.entry = entry;
        this.dialect = dialect;
    }

    Subscription add(Connection connection) {
        assert loop.executor.inEventLoop();
        if (size == members.length) {
            members = Arrays.copyOf(members, size * 2);
        }
        Subscription s = new Subscription(this, connection, size);
        members[size++] = s;
        return s;
    }

    void remove(Subscription s) {
        assert loop.executor.inEventLoop();
        int last = --size;
        Subscription moved = members[last];
        members[s.index] = moved;
        moved.index = s.index;
        members[last] = null;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /**
     * Writes {@code frame} to every member but {@code skip} (may be {@code null}); each connection
     * is flushed once at the end of the batch. Does not take ownership of {@code frame}.
     */
    void deliver(ByteBuf frame, Connection skip) {
        assert loop.executor.inEventLoop();
        Subscription[] m = members;
        int written = 0;
        for (int i = 0, n = size; i < n; i++) {
            Connection c = m[i].connection;
            if (c != skip && c.deliver(frame)) {
                written++;
            }
        }
        loop.metrics.deliveries.add(written); // once per batch, not per delivery
    }
}
