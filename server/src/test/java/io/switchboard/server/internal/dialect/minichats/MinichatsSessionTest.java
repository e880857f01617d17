package io.switchboard.server.internal.dialect.minichats;

import io.switchboard.protocol.minichats.MinichatsDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler.HandshakeComplete;
import io.netty.util.ReferenceCountUtil;
import io.switchboard.server.ChannelAuthorizer;
import io.switchboard.server.ConnectionAuthorizer;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.Node;
import io.switchboard.server.internal.broker.Broker;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static io.switchboard.server.testing.Requests.publish;
import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The session and the broker on {@link EmbeddedChannel}s. Each embedded channel has an event loop
 * of its own, so two channels stand for connections on two loops. (An embedded channel runs its
 * pending tasks inside every write, so flush batching is tested on real loops: FlushBatchingTest.)
 */
class MinichatsSessionTest {

    private static final MinichatsDecoder MINICHATS_DECODER = new MinichatsDecoder(65536, 32, 128);

    // Uncorked (CORK_FRAMES off), so each subscriber's frame is a duplicate whose root shows the
    // one encoding; a corked subscriber gets a copy of the same frame (BackpressureCorkTest).
    private final Node node = new Node(SwitchboardConfig.builder().corkFrames(false).build(), ConnectionAuthorizer.ALLOW_ALL,
            ChannelAuthorizer.ALLOW_ALL);
    private final Broker broker = node.broker();
    private final List<EmbeddedChannel> channels = new ArrayList<>();

    @AfterEach
    void releaseAll() {
        for (EmbeddedChannel ch : channels) {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void encodesEachPublishOnceForEverySubscriber() {
        EmbeddedChannel a = connect("a");
        EmbeddedChannel b = connect("b");
        assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"c\",\"total_subscribers\":1}}",
                request(a, subscribe("c")));
        assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"c\",\"total_subscribers\":2}}",
                request(b, subscribe("c")));

        // Three publishes in one read batch.
        a.writeInbound(text(publish("c", "1")), text(publish("c", "2")), text(publish("c", "3")));
        a.runPendingTasks();
        b.runPendingTasks();

        List<ByteBuf> aFrames = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            assertEquals("{\"status\":\"ok\"}", replyText(a.readOutbound()));
            aFrames.add(a.readOutbound());
        }
        assertNull(a.readOutbound());
        for (int i = 1; i <= 3; i++) {
            ByteBuf own = aFrames.get(i - 1);
            ByteBuf other = b.readOutbound();
            String payload = other.toString(2, other.readableBytes() - 2, StandardCharsets.UTF_8);
            assertTrue(payload.startsWith("{\"sender\":\"a\",\"channel_name\":\"c\",\"sent_at\":\""), payload);
            assertTrue(payload.endsWith("\"content\":" + i + "}"), payload);
            // Both subscribers hold duplicates of one encoded buffer: encoded once, not per subscriber.
            assertSame(root(own), root(other));
            own.release();
            other.release();
        }
        assertNull(b.readOutbound());
    }

    @Test
    void deletesTheChannelWhenItsLastSubscriberDisconnects() {
        EmbeddedChannel a = connect("a");
        EmbeddedChannel b = connect("b");
        request(a, subscribe("gone"));
        request(b, subscribe("gone"));
        assertEquals(2, broker.channel("gone").subscribers);
        a.close();
        assertEquals(1, broker.channel("gone").subscribers);
        assertEquals(1, broker.channel("gone").groups.length);
        b.close();
        assertNull(broker.channel("gone"));
        assertTrue(broker.channels().isEmpty());
    }

    @Test
    void skipsLoopsWithoutSubscribersAndFansOutInlineOnThePublishersLoop() {
        EmbeddedChannel a = connect("a");
        EmbeddedChannel bystander = connect("b");
        request(a, subscribe("solo"));
        a.writeInbound(text(publish("solo", "\"x\"")));
        assertEquals("{\"status\":\"ok\"}", replyText(a.readOutbound()));
        ByteBuf own = a.readOutbound();
        assertTrue(own.toString(StandardCharsets.UTF_8).endsWith("\"content\":\"x\"}"));
        own.release();
        bystander.runPendingTasks();
        assertNull(bystander.readOutbound(), "no task, no frame for a loop without subscribers");
    }

    private EmbeddedChannel connect(String name) {
        EmbeddedChannel ch = new EmbeddedChannel(new MinichatsSession(node.sessions(), MINICHATS_DECODER, ChannelAuthorizer.ALLOW_ALL, name, null));
        channels.add(ch);
        ch.pipeline().fireUserEventTriggered(new HandshakeComplete("/api/connect", EmptyHttpHeaders.INSTANCE, null));
        assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"" + name + "\"}}", replyText(ch.readOutbound()));
        return ch;
    }

    /** The buffer under every duplicate and leak-detection wrapper. */
    private static ByteBuf root(ByteBuf buf) {
        while (buf.unwrap() != null) {
            buf = buf.unwrap();
        }
        return buf;
    }

    private static String request(EmbeddedChannel ch, String json) {
        ch.writeInbound(text(json));
        return replyText(ch.readOutbound());
    }

    private static TextWebSocketFrame text(String json) {
        return new TextWebSocketFrame(json);
    }

    private static String replyText(Object frame) {
        assertInstanceOf(TextWebSocketFrame.class, frame);
        try {
            return ((WebSocketFrame) frame).content().toString(StandardCharsets.UTF_8);
        } finally {
            ReferenceCountUtil.release(frame);
        }
    }

}
