package io.switchboard.server.internal.broker;

import java.util.Arrays;

/**
 * The targets of a fan-out on one event loop: connections that all live on {@link #loop()}.
 * {@link Fanout} reads them on that loop, when the frame arrives there.
 *
 * <p>Two kinds, one class (so a fan-out walks a plain array, with no call per target): a snapshot a
 * dialect makes ({@link #of}, {@link #with}, {@link #without}), never changed once made, which may
 * be handed from the thread that made it to the loop; and a channel's {@link LocalGroup}'s own,
 * changed in place, and only on its loop, as members join and leave.
 */
public final class Targets {

    private static final Connection[] NONE = new Connection[0];

    final LoopTable loop;
    Connection[] connections;
    int size;
    /**
     * Per target, index for index, the offset up to which it skips a channel's publishes (a
     * subscription with positions that joined at that offset, issue 18); {@code null} until a group
     * has such a member, and always for a snapshot.
     */
    long[] floors;
    /**
     * Per target, the generation of the stream its floor is of ({@link ChannelEvent#generation}): a
     * floor holds only within its generation, so a stream started afresh (a cluster's new epoch) is
     * not skipped. Allocated with {@link #floors}.
     */
    int[] floorGenerations;

    private Targets(LoopTable loop, Connection[] connections, int size) {
        this.loop = loop;
        this.connections = connections;
        this.size = size;
    }

    /** A channel group's growable targets, changed in place on {@code loop} ({@link #add}, {@link #removeAt}). */
    static Targets growable(LoopTable loop) {
        return new Targets(loop, new Connection[4], 0);
    }

    /** A snapshot of {@code connections}, which all live on {@code loop}; the array is not kept. */
    public static Targets of(LoopTable loop, Connection... connections) {
        return new Targets(loop, connections.clone(), connections.length);
    }

    /** An empty snapshot of {@code loop}'s connections, to grow with {@link #with}. */
    public static Targets none(LoopTable loop) {
        return new Targets(loop, NONE, 0);
    }

    /** A new snapshot: these targets and {@code connection}, which lives on {@link #loop()}. */
    public Targets with(Connection connection) {
        assert connection.loop == loop;
        Connection[] more = Arrays.copyOf(connections, size + 1);
        more[size] = connection;
        return new Targets(loop, more, size + 1);
    }

    /** A new snapshot: these targets without {@code connection} (the same snapshot if it is not one). */
    public Targets without(Connection connection) {
        Connection[] rest = new Connection[size];
        int n = 0;
        for (int i = 0; i < size; i++) {
            if (connections[i] != connection) {
                rest[n++] = connections[i];
            }
        }
        return n == size ? this : new Targets(loop, rest, n);
    }

    public LoopTable loop() {
        return loop;
    }

    public int size() {
        return size;
    }

    public boolean isEmpty() {
        return size == 0;
    }

    /** The {@code i}th target, {@code 0 <= i < size()}. */
    public Connection get(int i) {
        return connections[i];
    }

    /** Appends {@code connection}, in place: a {@link LocalGroup}'s, on its loop. */
    void add(Connection connection) {
        if (size == connections.length) {
            connections = Arrays.copyOf(connections, size * 2);
            if (floors != null) {
                floors = Arrays.copyOf(floors, connections.length);
                floorGenerations = Arrays.copyOf(floorGenerations, connections.length);
            }
        }
        if (floors != null) {
            floors[size] = 0;
            floorGenerations[size] = 0;
        }
        connections[size++] = connection;
    }

    /**
     * Makes the target at {@code index} skip publishes up to {@code offset} of the stream's
     * {@code generation} ({@link Long#MAX_VALUE}: everything, until its position is known), in place:
     * a {@link LocalGroup}'s, on its loop.
     */
    void skipUpTo(int index, long offset, int generation) {
        if (floors == null) {
            floors = new long[connections.length];
            floorGenerations = new int[connections.length];
        }
        floors[index] = offset;
        floorGenerations[index] = generation;
    }

    /** Whether the target at {@code index} skips a publish at {@code offset} of {@code generation} (-1: unnumbered). */
    boolean skips(int index, long offset, int generation) {
        long floor = floors[index];
        return floor == Long.MAX_VALUE || offset >= 0 && offset <= floor && floorGenerations[index] == generation;
    }

    /** Swap-removes the target at {@code index}, in place: a {@link LocalGroup}'s, on its loop. */
    void removeAt(int index) {
        int last = --size;
        connections[index] = connections[last];
        connections[last] = null;
        if (floors != null) {
            floors[index] = floors[last];
            floors[last] = 0;
            floorGenerations[index] = floorGenerations[last];
            floorGenerations[last] = 0;
        }
    }
}
