package io.switchboard.server.internal.broker;

/**
 * One connection's membership of one channel. Not thread-safe; owned by the connection's loop.
 */
public final class Subscription {

    final LocalGroup group;
    final Connection connection;
    /** This subscription's slot in {@link #group}'s member array. */
    int index;
    /** Set when it leaves its group: its slot may be another's then. */
    boolean removed;

    Subscription(LocalGroup group, Connection connection, int index) {
        this.group = group;
        this.connection = connection;
        this.index = index;
    }

    public ChannelEntry entry() {
        return group.entry;
    }

    /**
     * Makes this subscription skip the channel's publishes up to {@code offset} of the stream's
     * {@code generation}: those on their way to its loop when it joined at that position (issue 18).
     * On the connection's loop.
     */
    void skipUpTo(long offset, int generation) {
        assert group.loop.executor.inEventLoop();
        if (!removed) {
            group.targets.skipUpTo(index, offset, generation);
        }
    }
}
