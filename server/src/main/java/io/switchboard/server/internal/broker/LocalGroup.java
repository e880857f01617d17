package io.switchboard.server.internal.broker;

import java.util.Arrays;

/**
 * The subscribers of one channel that live on one event loop and speak one dialect. Members are kept in an array with
 * swap-removal, so joining and leaving cost O(1); their connections, in the same order, are the group's
 * {@link Targets}, which a {@link Fanout} walks as a plain loop.
 *
 * <p>Not thread-safe; all methods must be called from {@link #loop}'s event loop.
 */
public final class LocalGroup {

    final LoopTable loop;
    final ChannelEntry entry;
    final Dialect dialect;
    /** The members' connections, index for index: changed in place, read by fan-outs on this loop. */
    final Targets targets;
    /**
     * Members whose connections negotiated permessage-deflate: changed on {@link #loop}, read by the
     * publisher's thread ({@link Broker#publish}) to decide whether to compress. A member that has
     * just joined may not be seen yet: it gets the plain frame, which the extension allows.
     */
    volatile int deflating;
    /**
     * Members whose connections take batched frames (minichats {@code ?batch=1}): read by the
     * publisher's thread to decide whether to make the batched payload ({@link FrameVariants#batched}),
     * like {@link #deflating}; a member not seen yet makes its own.
     */
    volatile int batching;
    private Subscription[] members = new Subscription[4];
    private int size;

    LocalGroup(LoopTable loop, ChannelEntry entry, Dialect dialect) {
        this.loop = loop;
        this.entry = entry;
        this.dialect = dialect;
        this.targets = Targets.growable(loop);
    }

    Subscription add(Connection connection) {
        assert loop.executor.inEventLoop();
        if (size == members.length) {
            members = Arrays.copyOf(members, size * 2);
        }
        Subscription s = new Subscription(this, connection, size);
        members[size++] = s;
        targets.add(connection);
        if (connection.deflate) {
            deflating++; // only this loop writes it
        }
        if (connection.batched) {
            batching++;
        }
        return s;
    }

    void remove(Subscription s) {
        assert loop.executor.inEventLoop();
        s.removed = true;
        int last = --size;
        Subscription moved = members[last];
        members[s.index] = moved;
        moved.index = s.index;
        members[last] = null;
        targets.removeAt(s.index); // the same swap
        if (s.connection.deflate) {
            deflating--;
        }
        if (s.connection.batched) {
            batching--;
        }
    }

    boolean isEmpty() {
        return size == 0;
    }
}
