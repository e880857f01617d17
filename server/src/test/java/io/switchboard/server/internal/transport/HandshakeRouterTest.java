package io.switchboard.server.internal.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.switchboard.server.ChannelAuthorizer;
import io.switchboard.server.ConnectionAuthorizer;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.Node;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each endpoint's answers to upgrade requests, on an {@link EmbeddedChannel} with the node's own
 * pipeline (the style of Netty's {@code WebSocketServerProtocolHandlerTest}): the status line and
 * the reason a refused client reads, before any WebSocket frame.
 */
class HandshakeRouterTest {

    private static final String ORIGIN = "https://chat.example";

    @Test
    void everyEndpointUpgradesAWebSocketRequest() {
        Node node = node(SwitchboardConfig.builder().dataDir(null));
        for (String target : new String[] {"/api/connect?client_name=ann", "/ws?name=ann&room=lobby", "/chatroom"}) {
            String response = request(node, upgrade(target, null));
            assertTrue(response.startsWith("HTTP/1.1 101 Switching Protocols\r\n"), target + ": " + response);
            assertTrue(response.contains("\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"), response);
        }
    }

    @Test
    void anEndpointAsksForAWebSocketClient() {
        Node node = node(SwitchboardConfig.builder());
        for (String path : new String[] {"/api/connect", "/ws", "/chatroom"}) {
            String response = request(node, "GET " + path + " HTTP/1.1\r\nHost: h\r\n\r\n");
            assertTrue(response.startsWith("HTTP/1.1 426 Upgrade Required\r\n"), path + ": " + response);
            assertTrue(response.endsWith(path + " is a WebSocket endpoint: connect with a WebSocket client\n"), response);
            response = request(node, "POST " + path + " HTTP/1.1\r\nHost: h\r\ncontent-length: 0\r\n\r\n");
            assertTrue(response.startsWith("HTTP/1.1 405 Method Not Allowed\r\n"), path + ": " + response);
        }
    }

    @Test
    void minichatsRefusesABadClientNameWithAJsonReason() {
        String response = request(node(SwitchboardConfig.builder()), upgrade("/api/connect?client_name=%01x", null));
        assertTrue(response.startsWith("HTTP/1.1 400 Bad Request\r\n"), response);
        assertTrue(response.contains("\"code\":\"invalid_param\""), response);
    }

    @Test
    void disposableRefusesABadNameOrRoomInTheSeedsWords() {
        String response = request(node(SwitchboardConfig.builder()), upgrade("/ws?name=a&room=lobby", null));
        assertTrue(response.startsWith("HTTP/1.1 400 Bad Request\r\n"), response);
    }

    @Test
    void aForeignOriginIsRefusedAtEveryEndpoint() {
        Node node = node(SwitchboardConfig.builder().acceptedOrigins(java.util.List.of(ORIGIN)));
        for (String target : new String[] {"/api/connect", "/ws?name=ann&room=lobby", "/chatroom"}) {
            String response = request(node, upgrade(target, "https://evil.example"));
            assertTrue(response.startsWith("HTTP/1.1 403 Forbidden\r\n"), target + ": " + response);
            assertTrue(response.contains("Origin 'https://evil.example' is not allowed to connect"), response);
            assertTrue(request(node, upgrade(target, ORIGIN)).startsWith("HTTP/1.1 101 "), target);
        }
    }

    @Test
    void randomchatIsOffWithoutADataDirectory() {
        String response = request(node(SwitchboardConfig.builder()), upgrade("/randomchat", null));
        assertTrue(response.startsWith("HTTP/1.1 404 Not Found\r\n"), response);
        assertTrue(response.endsWith("The randomchat dialect is off: it needs DATA_DIR (or REDIS_ENDPOINT)\n"), response);
    }

    @Test
    void aFullNodeSaysWhenToComeBack() {
        Node node = node(SwitchboardConfig.builder().maxConnections(1));
        EmbeddedChannel first = new EmbeddedChannel(node.channelInitializer(p -> { }));
        try {
            assertTrue(answer(first, upgrade("/api/connect", null)).startsWith("HTTP/1.1 101 "));
            String response = request(node, upgrade("/chatroom", null));
            assertTrue(response.startsWith("HTTP/1.1 503 Service Unavailable\r\n"), response);
            assertTrue(response.contains("\r\nretry-after: 5\r\n"), response);
        } finally {
            first.finishAndReleaseAll();
        }
        assertTrue(request(node, upgrade("/chatroom", null)).startsWith("HTTP/1.1 101 "), "room again once it left");
    }

    @Test
    void theIndexListsTheEndpointsAndUnknownPathsGet404() {
        Node node = node(SwitchboardConfig.builder());
        String index = request(node, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
        assertTrue(index.startsWith("HTTP/1.1 200 OK\r\n"), index);
        assertTrue(index.contains("  GET /api/connect[?client_name=NAME][&batch=1]  WebSocket, minichats JSON pub-sub\n"), index);
        assertTrue(index.contains("  GET /ws?name=NAME&room=ROOM        WebSocket, disposable chat rooms\n"), index);
        assertTrue(index.contains("  GET /chatroom                        WebSocket, chatroom topics and services\n"), index);
        String missing = request(node, "GET /nowhere HTTP/1.1\r\nHost: h\r\n\r\n");
        assertTrue(missing.startsWith("HTTP/1.1 404 Not Found\r\n"), missing);
        assertTrue(missing.contains("No such endpoint: /nowhere\n"), missing);
    }

    /** A path that does not decode (a bad %-escape) is a 400, not an exception that drops the request. */
    @Test
    void aMalformedPercentEscapeIsABadRequest() {
        Node node = node(SwitchboardConfig.builder());
        for (String target : new String[] {"/%zz", "/api/connect%", "/ws%g1?name=ann&room=lobby"}) {
            String response = request(node, upgrade(target, null));
            assertTrue(response.startsWith("HTTP/1.1 400 Bad Request\r\n"), target + ": " + response);
            assertTrue(response.contains("\r\n\r\nMalformed request target: "), response);
        }
    }

    private static Node node(SwitchboardConfig.Builder config) {
        return new Node(config.linePort(0).build(), ConnectionAuthorizer.ALLOW_ALL, ChannelAuthorizer.ALLOW_ALL);
    }

    private static String upgrade(String target, String origin) {
        return "GET " + target + " HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + (origin != null ? "Origin: " + origin + "\r\n" : "") + "\r\n";
    }

    /** Sends {@code request} to a new connection of {@code node} and returns all the bytes it answers. */
    private static String request(Node node, String request) {
        EmbeddedChannel ch = new EmbeddedChannel(node.channelInitializer(p -> { }));
        try {
            return answer(ch, request);
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    /** Sends {@code request} on {@code ch} and returns what it answers. */
    private static String answer(EmbeddedChannel ch, String request) {
        ch.writeInbound(Unpooled.copiedBuffer(request, StandardCharsets.US_ASCII));
        ch.runPendingTasks();
        StringBuilder out = new StringBuilder();
        for (ByteBuf b = ch.readOutbound(); b != null; b = ch.readOutbound()) {
            out.append(b.toString(StandardCharsets.UTF_8));
            b.release();
        }
        return out.toString();
    }
}
