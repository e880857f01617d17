package io.switchboard.server.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ClusterEnvelopeTest {

    @Test
    void roundTripsAPublish() {
        ByteBuf content = Unpooled.copiedBuffer("xx{\"a\":[1,2]}", StandardCharsets.UTF_8).skipBytes(2);
        byte[] bytes = ClusterEnvelope.encode(-42L, 1_763_000_000_123L, "Zoë".getBytes(StandardCharsets.UTF_8), content);
        assertEquals(2, content.readerIndex(), "the content is read, not consumed");
        content.release();

        assertEquals(-42L, ClusterEnvelope.origin(bytes));
        ClusterEnvelope e = ClusterEnvelope.decode(bytes);
        assertEquals(-42L, e.origin);
        assertEquals(1_763_000_000_123L, e.sentAt);
        assertEquals("Zoë", e.sender);
        assertEquals("{\"a\":[1,2]}", new String(e.bytes, e.contentOffset, e.contentLength(), StandardCharsets.UTF_8));
        assertEquals(1 + 8 + 8 + 2 + 4 + 11, bytes.length, "compact: a 19-byte header");
    }

    @Test
    void refusesWhatIsNotAnEnvelope() {
        assertThrows(IllegalArgumentException.class, () -> ClusterEnvelope.decode(new byte[5]));
        byte[] wrongVersion = new byte[30];
        wrongVersion[0] = 9;
        assertThrows(IllegalArgumentException.class, () -> ClusterEnvelope.origin(wrongVersion));
        ByteBuf content = Unpooled.copiedBuffer("1", StandardCharsets.UTF_8);
        byte[] ok = ClusterEnvelope.encode(1, 2, new byte[] {'a', 'b'}, content);
        content.release();
        byte[] truncated = Arrays.copyOf(ok, ok.length - 1);
        assertThrows(IllegalArgumentException.class, () -> ClusterEnvelope.decode(truncated), "no content left");
    }
}
