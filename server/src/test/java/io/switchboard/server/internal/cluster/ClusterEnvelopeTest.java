package io.switchboard.server.internal.cluster;

import io.switchboard.server.internal.dialect.randomchat.RandomchatSession;
import io.switchboard.server.internal.dialect.chatroom.ChatroomSession;
import io.switchboard.server.internal.Node;
import io.switchboard.server.internal.dialect.line.LineDialect;
import io.switchboard.server.internal.dialect.disposable.DisposableDialect;
import io.switchboard.server.internal.dialect.minichats.MinichatsDialect;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.switchboard.server.internal.broker.ChannelEvent;
import io.switchboard.server.internal.broker.Dialect;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ClusterEnvelopeTest {

    @Test
    void roundTripsAMessage() {
        ByteBuf content = Unpooled.copiedBuffer("xx{\"a\":[1,2]}", StandardCharsets.UTF_8).skipBytes(2);
        ChannelEvent sent = ChannelEvent.message(MinichatsDialect.DIALECT, "Zoë", "Zoë", null, 1_763_000_000_123L, content, null);
        byte[] bytes = ClusterEnvelope.encode(-42L, sent);
        assertEquals(2, content.readerIndex(), "the content is read, not consumed");
        content.release();

        assertEquals(-42L, ClusterEnvelope.origin(bytes));
        ClusterEnvelope e = ClusterEnvelope.decode(bytes, Node.DIALECTS);
        assertEquals(-42L, e.origin);
        assertEquals(ChannelEvent.Kind.MESSAGE, e.kind);
        assertEquals(MinichatsDialect.DIALECT, e.dialect);
        assertEquals(1_763_000_000_123L, e.sentAt);
        assertEquals("Zoë", e.sender);
        assertEquals("Zoë", e.senderId, "an id equal to the name travels once");
        assertEquals("{\"a\":[1,2]}", new String(e.bytes, e.contentOffset, e.contentLength(), StandardCharsets.UTF_8));
        assertEquals(3 + 8 + 8 + 2 + 2 + 4 + 11, bytes.length, "compact: a 23-byte header");
        assertEquals("{\"a\":[1,2]}", e.event().text());
    }

    @Test
    void roundTripsPresenceWithAnId() {
        ChannelEvent left = ChannelEvent.presence(ChannelEvent.Kind.LEFT, DisposableDialect.DIALECT, "0b6f-uuid", "Ann", null);
        ClusterEnvelope e = ClusterEnvelope.decode(ClusterEnvelope.encode(7, left), Node.DIALECTS);
        assertEquals(ChannelEvent.Kind.LEFT, e.kind);
        assertEquals(DisposableDialect.DIALECT, e.dialect);
        assertEquals("0b6f-uuid", e.senderId);
        assertEquals("Ann", e.sender);
        assertEquals(0, e.contentLength());
    }

    @Test
    void refusesWhatIsNotAnEnvelope() {
        assertThrows(IllegalArgumentException.class, () -> ClusterEnvelope.decode(new byte[5], Node.DIALECTS));
        byte[] wrongVersion = new byte[30];
        wrongVersion[0] = 9;
        assertThrows(IllegalArgumentException.class, () -> ClusterEnvelope.origin(wrongVersion));
        ByteBuf content = Unpooled.copiedBuffer("1", StandardCharsets.UTF_8);
        byte[] ok = ClusterEnvelope.encode(1, ChannelEvent.message(LineDialect.DIALECT, "ab", "ab", null, 2, content, null));
        content.release();
        byte[] truncated = Arrays.copyOf(ok, ok.length - 1);
        assertThrows(IllegalArgumentException.class, () -> ClusterEnvelope.decode(truncated, Node.DIALECTS), "no content left");
        byte[] badKind = ok.clone();
        badKind[1] = 9;
        assertThrows(IllegalArgumentException.class, () -> ClusterEnvelope.decode(badKind, Node.DIALECTS));
        byte[] badLength = ok.clone();
        badLength[19] = 0x7f;
        assertThrows(IllegalArgumentException.class, () -> ClusterEnvelope.decode(badLength, Node.DIALECTS));
        byte[] unknownDialect = ok.clone();
        unknownDialect[2] = 9;
        assertThrows(IllegalArgumentException.class, () -> ClusterEnvelope.decode(unknownDialect, Node.DIALECTS));
    }

    /** The codes on the wire are each dialect's own, not an enum's order: nodes of other builds agree on them. */
    @Test
    void dialectCodesOnTheWireNeverChange() {
        assertEquals(0, MinichatsDialect.DIALECT.code());
        assertEquals(1, DisposableDialect.DIALECT.code());
        assertEquals(2, LineDialect.DIALECT.code());
        assertEquals(3, ChatroomSession.DIALECT.code());
        assertEquals(4, RandomchatSession.DIALECT.code());
        // The minichats subscription variants (issue 18): reserved, though they never travel.
        assertEquals(5, MinichatsDialect.POSITIONS.code());
        assertEquals(6, MinichatsDialect.JOIN_LEAVE.code());
        assertEquals(7, MinichatsDialect.POSITIONS_JOIN_LEAVE.code());
        for (Dialect d : Node.DIALECTS.all()) {
            assertSame(d, Node.DIALECTS.byCode(d.code()));
        }
        assertEquals(0, ChannelEvent.Kind.MESSAGE.code);
        assertEquals(1, ChannelEvent.Kind.JOINED.code);
        assertEquals(2, ChannelEvent.Kind.LEFT.code);
        assertEquals(3, ChannelEvent.Kind.LEFT_UNANNOUNCED.code);
    }
}
