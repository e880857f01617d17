package io.switchboard.server.internal.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.switchboard.server.internal.broker.ChannelEvent;
import io.switchboard.server.internal.broker.Dialect;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

public class ClusterEnvelopeTest {

    @Test
    void roundTripsAMessage() {
        ByteBuf content = Unpooled.copiedBuffer("xx{\"a\":[1,2]}", StandardCharsets.UTF_8).skipBytes(2);
        ChannelEvent sent = ChannelEvent.message(Dialect.MINICHATS, "Zoë", "Zoë", null, 1_763_000_000_123L, content, null);
        byte[] bytes = ClusterEnvelope.encode(-42L, sent);
        assertEquals(2, content.readerIndex(), "the content is read, not consumed");
        content.release();

        assertEquals(-42L, ClusterEnvelope.origin(bytes));
        ClusterEnvelope e = ClusterEnvelope.decode(bytes);
        assertEquals(-42L, e.origin);
        assertEquals(ChannelEvent.Kind.MESSAGE, e.kind);
        assertEquals(Dialect.MINICHATS, e.dialect);
        assertEquals(1_763_000_000_123L, e.sentAt);
        assertEquals("Zoë", e.sender);
        assertEquals("Zoë", e.senderId, "an id equal to the name travels once");
        assertEquals("{\"a\":[1,2]}", new String(e.bytes, e.contentOffset, e.contentLength(), StandardCharsets.UTF_8));
        assertEquals(3 + 8 + 8 + 2 + 2 + 4 + 11, bytes.length, "compact: a 23-byte header");
        assertEquals("{\"a\":[1,2]}", e.event().text());
    }

    @Test
    void roundTripsPresenceWithAnId() {
        ChannelEvent left = ChannelEvent.presence(ChannelEvent.Kind.LEFT, Dialect.DISPOSABLE, "0b6f-uuid", "Ann", null);
        ClusterEnvelope e = ClusterEnvelope.decode(ClusterEnvelope.encode(7, left));
        assertEquals(ChannelEvent.Kind.LEFT, e.kind);
        assertEquals(Dialect.DISPOSABLE, e.dialect);
        assertEquals("0b6f-uuid", e.senderId);
        assertEquals("Ann", e.sender);
        assertEquals(0, e.contentLength());
    }

    @Test
    void refusesWhatIsNotAnEnvelope() {
        assertThrows(IllegalArgumentException.class, () -> ClusterEnvelope.decode(new byte[5]));
        byte[] wrongVersion = new byte[30];
        wrongVersion[0] = 9;
        assertThrows(IllegalArgumentException.class, () -> ClusterEnvelope.origin(wrongVersion));
        ByteBuf content = Unpooled.copiedBuffer("1", StandardCharsets.UTF_8);
        byte[] ok = ClusterEnvelope.encode(1, ChannelEvent.message(Dialect.LINE, "ab", "ab", null, 2, content, null));
        content.release();
        byte[] truncated = Arrays.copyOf(ok, ok.length - 1);
        assertThrows(IllegalArgumentException.class, () -> ClusterEnvelope.decode(truncated), "no content left");
        byte[] badKind = ok.clone();
        badKind[1] = 9;
        assertThrows(IllegalArgumentException.class, () -> ClusterEnvelope.decode(badKind));
        byte[] badLength = ok.clone();
        badLength[19] = 0x7f;
        assertThrows(IllegalArgumentException.class, () -> ClusterEnvelope.decode(badLength));
    }
}
