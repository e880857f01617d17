package io.switchboard.benchmarks.loadgen;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How a client finds a key in a message: every place it can be, near misses, and a slice's own bounds. */
class ProtocolScanTest {

    private static final byte[] CONTENT = Protocol.key("\"content\":\"");

    private static ByteBuf buf(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    private static int indexOf(String haystack, byte[] needle) {
        ByteBuf b = buf(haystack);
        try {
            return Protocol.Client.indexOf(b, needle);
        } finally {
            b.release();
        }
    }

    @Test
    void findsTheKeyWhereverItIs() {
        assertEquals(0, indexOf("\"content\":\"x\"}", CONTENT));
        assertEquals(27, indexOf("{\"sender\":\"a\",\"content2\":1,\"content\":\"x\"}", CONTENT));
        String delivery = "{\"sender\":\"lg-p0\",\"channel_name\":\"c\",\"sent_at\":\"2026-11-29T17:30:08Z\",\"content\":\"";
        assertEquals(delivery.length() - CONTENT.length, indexOf(delivery, CONTENT), "at the very end");
    }

    @Test
    void nearMissesAndAbsenceAreNotMatches() {
        assertEquals(-1, indexOf("{\"content\": \"x\"}", CONTENT));
        assertEquals(-1, indexOf("{\"contents\":\"x\"}", CONTENT));
        assertEquals(-1, indexOf("\"content\":", CONTENT), "shorter than the key");
        assertEquals(-1, indexOf("", CONTENT));
        assertEquals(-1, indexOf("content\":\"x", CONTENT), "the anchor letter without its quote before it");
    }

    @Test
    void aKeyWithoutLettersIsFoundByItsFirstByte() {
        assertEquals(3, indexOf("ab\r\n\r\nc", Protocol.key("\n\r\n")));
    }

    @Test
    void aSliceIsSearchedWithinItsOwnBytes() {
        ByteBuf whole = buf("\"content\":\"a\"\n{\"status\":\"ok\"}\n\"content\":\"b\"");
        try {
            ByteBuf middle = whole.slice(14, 15);
            assertEquals("{\"status\":\"ok\"}", middle.toString(StandardCharsets.UTF_8));
            assertEquals(-1, Protocol.Client.indexOf(middle, CONTENT));
            assertTrue(Protocol.Client.contains(middle, Protocol.key("\"status\":\"ok\"")));
            assertEquals(11, Protocol.Client.after(whole.slice(30, 13), CONTENT));
            assertTrue(Protocol.Client.startsWith(middle, Protocol.key("{\"status\"")));
            assertFalse(Protocol.Client.startsWith(middle, Protocol.key("\"status\"")));
        } finally {
            whole.release();
        }
    }
}
