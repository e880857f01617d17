package io.switchboard.server.internal.transport;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.embedded.EmbeddedChannel;
import io.switchboard.server.internal.metrics.Metrics;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The outbound limits at their exact boundaries, which a socket test cannot reach (the kernel's
 * buffers blur them): OUTBOUND_SOFT_LIMIT_BYTES turns reading off ({@code read_pauses_total}),
 * OUTBOUND_HARD_LIMIT_BYTES lets a write go while less than the limit is pending and closes the
 * connection at the write that finds the limit reached ({@code closes_total{reason="slow_consumer"}}).
 * Writes are not flushed, so they stay pending in the channel's outbound buffer as they would for
 * a client that does not read. Netty counts each pending message's bytes plus a fixed overhead per
 * message (96 bytes by default), and so do the limits: the tests fill the buffer to an exact count.
 */
class BackpressureTest {

    private static final int SOFT = 1000;
    private static final long HARD = 10_000;

    @Test
    void aWriteGoesWhileUnderTheHardLimitAndTheOneThatFindsItReachedClosesTheConnection() {
        Metrics metrics = new Metrics();
        EmbeddedChannel channel = new EmbeddedChannel(new Backpressure(SOFT, HARD, metrics));
        fillTo(channel, HARD - 1);
        // HARD - 1 pending: one more write goes, even one that crosses the limit ...
        ChannelFuture crossing = channel.write(Unpooled.wrappedBuffer(new byte[10]));
        assertTrue(channel.isActive(), "open while less than the hard limit was pending");
        assertFalse(crossing.isDone() && !crossing.isSuccess(), "the write under the limit went out");
        assertEquals(0, metrics.closes.get(Metrics.Close.SLOW_CONSUMER).sum());
        // ... and the next one finds HARD + 9 pending: refused, the connection closed and counted.
        ChannelFuture refused = channel.write(Unpooled.wrappedBuffer(new byte[1]));
        channel.runPendingTasks();
        assertTrue(refused.isDone() && !refused.isSuccess(), "refused");
        assertTrue(refused.cause() instanceof Backpressure.OutboundLimitException, String.valueOf(refused.cause()));
        assertFalse(channel.isActive(), "closed at the hard limit");
        assertEquals(1, metrics.closes.get(Metrics.Close.SLOW_CONSUMER).sum());
        channel.finishAndReleaseAll();
    }

    @Test
    void exactlyTheHardLimitPendingIsReached() {
        Metrics metrics = new Metrics();
        EmbeddedChannel channel = new EmbeddedChannel(new Backpressure(SOFT, HARD, metrics));
        fillTo(channel, HARD);
        assertTrue(channel.isActive());
        ChannelFuture refused = channel.write(Unpooled.wrappedBuffer(new byte[1]));
        channel.runPendingTasks();
        assertTrue(refused.isDone() && !refused.isSuccess(), "HARD bytes pending: the limit is reached");
        assertFalse(channel.isActive());
        assertEquals(1, metrics.closes.get(Metrics.Close.SLOW_CONSUMER).sum());
        channel.finishAndReleaseAll();
    }

    @Test
    void readingStopsOverTheSoftLimitAndResumesOnceDrainedAndEachPauseIsCounted() {
        Metrics metrics = new Metrics();
        EmbeddedChannel channel = new EmbeddedChannel(new Backpressure(SOFT, HARD, metrics));
        fillTo(channel, SOFT);
        channel.runPendingTasks();
        assertTrue(channel.config().isAutoRead(), "at the soft limit, not over it: still reading");
        assertEquals(0, metrics.readPauses.sum());
        channel.write(Unpooled.wrappedBuffer(new byte[1]));
        channel.runPendingTasks();
        assertFalse(channel.config().isAutoRead(), "over the soft limit: reading is off");
        assertEquals(1, metrics.readPauses.sum());
        channel.flush(); // the peer takes everything
        channel.runPendingTasks();
        assertTrue(channel.config().isAutoRead(), "drained: reading again");
        assertEquals(1, metrics.readPauses.sum());
        assertTrue(channel.isActive());
        channel.finishAndReleaseAll();
    }

    /** Writes (unflushed) until exactly {@code target} bytes are pending, as Netty counts them. */
    private static void fillTo(EmbeddedChannel channel, long target) {
        ChannelOutboundBuffer out = channel.unsafe().outboundBuffer();
        long before = out.totalPendingWriteBytes();
        channel.write(Unpooled.wrappedBuffer(new byte[1]));
        long overhead = out.totalPendingWriteBytes() - before - 1;
        long missing = target - out.totalPendingWriteBytes() - overhead;
        assertTrue(missing > 0, "already " + out.totalPendingWriteBytes() + " pending, aiming at " + target);
        channel.write(Unpooled.wrappedBuffer(new byte[(int) missing]));
        assertEquals(target, out.totalPendingWriteBytes());
    }
}
