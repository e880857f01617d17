package io.switchboard.server.internal.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.switchboard.server.internal.metrics.Metrics;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A batched connection's cork ({@link Backpressure#cork}): one frame per flush, counted by the limits. */
class BackpressureCorkTest {

    private final Metrics metrics = new Metrics();

    private EmbeddedChannel channel(int soft, long hard) {
        Backpressure b = new Backpressure(soft, hard, metrics);
        EmbeddedChannel ch = new EmbeddedChannel(b);
        b.batched();
        return ch;
    }

    private static Backpressure backpressure(EmbeddedChannel ch) {
        return ch.pipeline().get(Backpressure.class);
    }

    private static ByteBuf text(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    private static boolean cork(Backpressure b, String s) {
        ByteBuf payload = text(s);
        try {
            return b.cork(payload);
        } finally {
            payload.release();
        }
    }

    /** The payload of the one text frame in {@code frame}, which it releases. */
    private static String payloadOf(ByteBuf frame) {
        try {
            assertEquals(0x81, frame.readUnsignedByte());
            int len = frame.readUnsignedByte();
            if (len == 126) {
                len = frame.readUnsignedShort();
            } else if (len == 127) {
                len = (int) frame.readLong();
            }
            assertEquals(len, frame.readableBytes());
            return frame.toString(StandardCharsets.UTF_8);
        } finally {
            frame.release();
        }
    }

    @Test
    void whatIsCorkedInOneBatchGoesOutAsOneFrameAtTheFlush() {
        EmbeddedChannel ch = channel(1 << 20, 1 << 21);
        Backpressure b = backpressure(ch);
        assertTrue(cork(b, "{\"a\":1}"));
        assertTrue(cork(b, "{\"b\":2}"));
        assertNull(ch.readOutbound(), "nothing before the flush");
        ch.flush();
        assertEquals("{\"a\":1}\n{\"b\":2}", payloadOf(ch.readOutbound()));
        assertNull(ch.readOutbound());
        // The next batch opens a new cork; a long one gets a 16-bit length.
        String big = "\"" + "x".repeat(300) + "\"";
        assertTrue(cork(b, big));
        b.flushNow();
        assertEquals(big, payloadOf(ch.readOutbound()));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void anyOtherWriteFirstWritesOutTheCorkSoNothingOvertakesIt() {
        EmbeddedChannel ch = channel(1 << 20, 1 << 21);
        Backpressure b = backpressure(ch);
        cork(b, "{\"first\":1}");
        ch.writeAndFlush(text("after"));
        assertEquals("{\"first\":1}", payloadOf(ch.readOutbound()));
        ByteBuf after = ch.readOutbound();
        assertEquals("after", after.toString(StandardCharsets.UTF_8));
        after.release();
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void aFullCorkBecomesAFrameOfItsOwnBoundedByTheCap() {
        EmbeddedChannel ch = channel(1 << 22, 1 << 23);
        Backpressure b = backpressure(ch);
        String message = "\"" + "y".repeat(1000) + "\"";
        int n = 100; // 100 KB: more than one cork
        for (int i = 0; i < n; i++) {
            cork(b, message);
        }
        ch.flush();
        int messages = 0;
        int frames = 0;
        ByteBuf f;
        while ((f = ch.readOutbound()) != null) {
            String payload = payloadOf(f);
            assertTrue(payload.length() <= Backpressure.CORK_CAP, payload.length() + " bytes");
            messages += payload.split("\n").length;
            frames++;
        }
        assertEquals(n, messages);
        assertEquals(2, frames);
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void corkedBytesCountTowardTheLimitsAndTheHardLimitClosesBeforeTheWrite() {
        EmbeddedChannel ch = channel(1000, 2000);
        Backpressure b = backpressure(ch);
        String message = "\"" + "z".repeat(498) + "\""; // 500 bytes
        assertTrue(cork(b, message));
        assertTrue(cork(b, message));
        assertEquals(1001, b.pendingBytes(), "two messages and their separator, not yet written");
        assertFalse(b.writable(), "over the soft limit with what is corked");
        assertTrue(cork(b, message));
        assertTrue(cork(b, message)); // 2003 bytes corked: at the hard limit
        assertFalse(cork(b, message), "the next write sees the corked bytes and closes the connection");
        assertFalse(ch.isOpen());
        assertEquals(0, b.pendingBytes(), "the corked bytes were released");
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void corkingWholeFramesWritesThemAsTheyAreInOneWrite() {
        Backpressure b = new Backpressure(1000, 2000, metrics);
        EmbeddedChannel ch = new EmbeddedChannel(b);
        b.corksFrames();
        assertTrue(cork(b, "frame-one|"));
        assertTrue(cork(b, "frame-two|"));
        assertEquals(20, b.pendingBytes());
        ch.flush();
        ByteBuf written = ch.readOutbound();
        assertEquals("frame-one|frame-two|", written.toString(StandardCharsets.UTF_8), "one buffer, no separator");
        written.release();
        assertNull(ch.readOutbound());
        String big = "z".repeat(999);
        assertTrue(cork(b, big));
        assertTrue(cork(b, big));
        assertFalse(b.writable(), "over the soft limit with what is corked");
        assertTrue(cork(b, big));
        assertFalse(cork(b, big), "at the hard limit, counting the cork");
        assertFalse(ch.isOpen());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void aCorkOpenWhenTheConnectionGoesIsReleased() {
        EmbeddedChannel ch = channel(1 << 20, 1 << 21);
        Backpressure b = backpressure(ch);
        cork(b, "{\"left\":true}");
        ch.pipeline().remove(b); // as when the channel is torn down
        assertFalse(ch.finishAndReleaseAll());
    }
}
