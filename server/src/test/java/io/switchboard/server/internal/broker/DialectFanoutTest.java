package io.switchboard.server.internal.broker;

import io.switchboard.protocol.disposable.DisposableDecoder;
import io.switchboard.protocol.minichats.MinichatsDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler.HandshakeComplete;
import io.netty.util.ReferenceCountUtil;
import io.switchboard.server.ChannelAuthorizer;
import io.switchboard.server.ConnectionAuthorizer;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.Node;
import io.switchboard.server.internal.dialect.disposable.DisposableDialect;
import io.switchboard.server.internal.dialect.disposable.DisposableSession;
import io.switchboard.server.internal.dialect.line.LineDialect;
import io.switchboard.server.internal.dialect.line.LineChat;
import io.switchboard.server.internal.dialect.line.LineSession;
import io.switchboard.server.internal.dialect.minichats.MinichatsDialect;
import io.switchboard.server.internal.dialect.minichats.MinichatsSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static io.switchboard.server.testing.Requests.publish;
import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shared namespace's fan-out on {@link EmbeddedChannel}s (each its own event loop): one
 * publish is rendered once per dialect present, and every subscriber of a dialect gets the same
 * bytes.
 */
class DialectFanoutTest {

    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;
    private static final MinichatsDecoder MINICHATS_DECODER = new MinichatsDecoder(65536, 32, 128);
    private static final DisposableDecoder DISPOSABLE_DECODER = new DisposableDecoder(65536, 32);

    // Uncorked (CORK_FRAMES off), so each subscriber's frame is a duplicate whose root shows the
    // one encoding; a corked subscriber gets a copy of the same frame (BackpressureCorkTest).
    private final Node node = new Node(SwitchboardConfig.builder().lineChannel("lobby").corkFrames(false).build(),
            ConnectionAuthorizer.ALLOW_ALL, ChannelAuthorizer.ALLOW_ALL);
    private final LineChat lineChat = new LineChat(50);
    private final List<EmbeddedChannel> channels = new ArrayList<>();

    @AfterEach
    void releaseAll() {
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void rendersAPublishOncePerDialectPresent() {
        EmbeddedChannel m1 = minichats("m1");
        EmbeddedChannel m2 = minichats("m2");
        EmbeddedChannel d1 = disposable("d1");
        EmbeddedChannel d2 = disposable("d2");
        EmbeddedChannel l1 = line();
        EmbeddedChannel l2 = line();
        drain(m1, m2, d1, d2, l1, l2); // greetings and presence
        assertEquals(6, node.broker().channel("lobby").subscribers);

        m1.writeInbound(new TextWebSocketFrame(publish("lobby", "\"hi\"")));
        ReferenceCountUtil.release(m1.readOutbound()); // the ok
        runTasks(m1, m2, d1, d2, l1, l2);

        ByteBuf mine = m1.readOutbound();
        ByteBuf other = m2.readOutbound();
        ByteBuf dOne = d1.readOutbound();
        ByteBuf dTwo = d2.readOutbound();
        ByteBuf lOne = l1.readOutbound();
        ByteBuf lTwo = l2.readOutbound();
        try {
            assertSame(root(mine), root(other), "one minichats encoding");
            assertSame(root(dOne), root(dTwo), "one disposable encoding");
            assertSame(root(lOne), root(lTwo), "one line encoding");
            assertNotSame(root(mine), root(dOne));
            assertNotSame(root(dOne), root(lOne));
            assertTrue(text(dOne, 2).startsWith("{\"type\":\"chat\""), text(dOne, 2));
            assertEquals("m1: hi\n", text(lOne, 0));
        } finally {
            for (ByteBuf b : List.of(mine, other, dOne, dTwo, lOne, lTwo)) {
                b.release();
            }
        }
        for (EmbeddedChannel ch : channels) {
            assertNull(ch.readOutbound());
        }
    }

    /**
     * The join_leave variants render a message exactly as their base does (with positions: the
     * offset, {@code e.offset}), and a presence event of any dialect as a join or leave, which the
     * base variants do not show (PROTOCOL.md section 1a).
     */
    @Test
    void theJoinLeaveVariantsRenderMessagesAsTheirBaseAndPresenceAsEvents() {
        ChannelEntry entry = new ChannelEntry("lobby");
        ByteBuf content = Unpooled.copiedBuffer("{\"n\":1}", StandardCharsets.UTF_8);
        ChannelEvent message = ChannelEvent.message(MinichatsDialect.DIALECT, "Ann", "Ann", null, 0, content, null);
        message.offset = 42;
        try {
            assertSameRendering(MinichatsDialect.DIALECT, MinichatsDialect.JOIN_LEAVE, entry, message);
            assertSameRendering(MinichatsDialect.POSITIONS, MinichatsDialect.POSITIONS_JOIN_LEAVE, entry, message);
            ByteBuf positioned = MinichatsDialect.POSITIONS_JOIN_LEAVE.render(ALLOC, entry, message);
            try {
                assertTrue(text(positioned, 2).endsWith(",\"content\":{\"n\":1},\"offset\":42}"), text(positioned, 2));
            } finally {
                positioned.release();
            }
        } finally {
            content.release();
        }
        for (Dialect author : List.of(MinichatsDialect.DIALECT, DisposableDialect.DIALECT, LineDialect.DIALECT)) {
            for (ChannelEvent.Kind kind : List.of(ChannelEvent.Kind.JOINED, ChannelEvent.Kind.LEFT,
                    ChannelEvent.Kind.LEFT_UNANNOUNCED)) {
                ChannelEvent e = ChannelEvent.presence(kind, author, "id-1", "Bo", null);
                String expected = "{\"event\":\"" + (kind == ChannelEvent.Kind.JOINED ? "join" : "leave")
                        + "\",\"channel_name\":\"lobby\",\"client\":{\"client_id\":\"id-1\",\"client_name\":\"Bo\","
                        + "\"dialect\":\"" + author.name() + "\"}}";
                for (Dialect variant : List.of(MinichatsDialect.JOIN_LEAVE, MinichatsDialect.POSITIONS_JOIN_LEAVE)) {
                    ByteBuf frame = variant.render(ALLOC, entry, e);
                    try {
                        assertEquals(expected, text(frame, 2));
                    } finally {
                        frame.release();
                    }
                }
                assertNull(MinichatsDialect.DIALECT.render(ALLOC, entry, e));
                assertNull(MinichatsDialect.POSITIONS.render(ALLOC, entry, e));
            }
        }
    }

    private static void assertSameRendering(Dialect base, Dialect variant, ChannelEntry entry, ChannelEvent e) {
        ByteBuf a = base.render(ALLOC, entry, e);
        ByteBuf b = variant.render(ALLOC, entry, e);
        try {
            assertEquals(a, b, base + " and " + variant);
        } finally {
            a.release();
            b.release();
        }
    }

    private EmbeddedChannel minichats(String name) {
        EmbeddedChannel ch = new EmbeddedChannel(new MinichatsSession(node.sessions(), MINICHATS_DECODER, ChannelAuthorizer.ALLOW_ALL, name, null));
        channels.add(ch);
        ch.pipeline().fireUserEventTriggered(new HandshakeComplete("/api/connect", EmptyHttpHeaders.INSTANCE, null));
        ReferenceCountUtil.release(ch.readOutbound());
        ch.writeInbound(new TextWebSocketFrame(subscribe("lobby")));
        ReferenceCountUtil.release(ch.readOutbound());
        return ch;
    }

    private EmbeddedChannel disposable(String name) {
        EmbeddedChannel ch = new EmbeddedChannel(new DisposableSession(node.sessions(), DISPOSABLE_DECODER, ChannelAuthorizer.ALLOW_ALL, name, "lobby", null));
        channels.add(ch);
        ch.pipeline().fireUserEventTriggered(new HandshakeComplete("/ws", EmptyHttpHeaders.INSTANCE, null));
        return ch;
    }

    private EmbeddedChannel line() {
        EmbeddedChannel ch = new EmbeddedChannel(new LineSession(node.sessions(), lineChat));
        channels.add(ch);
        return ch;
    }

    private void drain(EmbeddedChannel... all) {
        runTasks(all);
        for (EmbeddedChannel ch : all) {
            for (Object o = ch.readOutbound(); o != null; o = ch.readOutbound()) {
                ReferenceCountUtil.release(o);
            }
        }
    }

    private static void runTasks(EmbeddedChannel... all) {
        for (EmbeddedChannel ch : all) {
            ch.runPendingTasks();
        }
    }

    private static String text(ByteBuf b, int skip) {
        return b.toString(b.readerIndex() + skip, b.readableBytes() - skip, StandardCharsets.UTF_8);
    }

    /** The buffer under every duplicate and leak-detection wrapper. */
    private static ByteBuf root(ByteBuf buf) {
        while (buf.unwrap() != null) {
            buf = buf.unwrap();
        }
        return buf;
    }
}
