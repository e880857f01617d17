package io.switchboard.server.internal.broker;

import io.netty.util.concurrent.EventExecutor;
import io.switchboard.server.internal.compression.FrameCompressor;
import io.switchboard.server.internal.metrics.Metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One event loop's share of every channel: the local group of subscribers of each channel that
 * has subscribers on this loop, and the connections that wait for the batch flush.
 *
 * <p>Not thread-safe; all methods must be called from the event loop, {@link #executor}.
 */
public final class LoopTable {

    public final EventExecutor executor;
    public final Metrics metrics;
    /** The node's permessage-deflate compressor, for the fan-outs sent to this loop's connections. */
    final FrameCompressor compressor;
    /**
     * Per dialect, channel name to the local group; a group is here exactly while it has members.
     */
    @SuppressWarnings("unchecked")
    private final Map<String, LocalGroup>[] groups = new Map[Dialect.MAX_CODE + 1];

    private final ArrayList<Connection> toFlush = new ArrayList<>();
    private final Runnable flushTask = this::flushAll;
    private boolean flushScheduled;

    LoopTable(EventExecutor executor, Metrics metrics, FrameCompressor compressor) {
        this.compressor = compressor;
        this.executor = executor;
        this.metrics = metrics;
        for (int i = 0; i < groups.length; i++) {
            groups[i] = new HashMap<>();
        }
    }

    /** Channel name to this loop's group of {@code dialect}'s subscribers of it. */
    Map<String, LocalGroup> groups(Dialect dialect) {
        assert executor.inEventLoop();
        return groups[dialect.code()];
    }

    /**
     * Notes that {@code connection} has unflushed deliveries. The flush runs as a task queued
     * behind whatever the loop already has to do, so every delivery that reaches this loop before
     * it (from any number of publishes) shares one flush per connection.
     */
    public void flushLater(Connection connection) {
        assert executor.inEventLoop();
        if (connection.flushPending) {
            return;
        }
        connection.flushPending = true;
        toFlush.add(connection);
        if (!flushScheduled) {
            flushScheduled = true;
            executor.execute(flushTask);
        }
    }

    private void flushAll() {
        flushScheduled = false;
        // Index loop: a flush may fail and close a connection, which must not upset the iteration.
        for (int i = 0; i < toFlush.size(); i++) {
            Connection c = toFlush.get(i);
            c.flushPending = false;
            c.flush();
        }
        toFlush.clear();
    }
}
