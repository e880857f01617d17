package io.switchboard.server.internal.broker;

/**
 * One connection's membership of one channel. Not thread-safe; owned by the connection's loop.
 */
public final class Subscription {

    final LocalGroup group;
    final Connection connection;
    /** This subscription's slot in {@link #group}'s member array. */
    int index;

    Subscription(LocalGroup group, Connection connection, int index) {
        this.group = group;
        this.connection = connection;
        this.index = index;
    }

    public ChannelEntry entry() {
        return group.entry;
    }
}
