package io.switchboard.server.internal;

/**
 * One connection's membership of one channel. Not thread-safe; owned by the connection's loop.
 */
final class Subscription {

    final LocalGroup group;
    final Connection connection;
    /** This subscription's slot in {@link #group}'s member array. */
    int index;

    Subscription(LocalGroup group, Connection connection, int index) {
        this.group = group;
        this.connection = connection;
        this.index = index;
    }

    ChannelEntry entry() {
        return group.entry;
    }
}
