package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.RawClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.switchboard.server.testing.Requests.metric;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What keeps a node from being held or exhausted at the door: connection limits, the origin
 * allow-list, the deadline on the HTTP phase (slowloris) and the heartbeat. Each limit at its
 * boundary, on a real socket, and on every WebSocket path where the door is the same (issue 23:
 * a regression on {@code /chatroom} or {@code /randomchat} would otherwise pass unseen).
 */
@Timeout(60)
class ConnectionLimitsIT {

    /** An upgrade target of every WebSocket dialect (randomchat needs the nodes' DATA_DIR). */
    private static final String MINICHATS = "/api/connect";
    private static final String CHATROOM = "/chatroom";
    private static final String RANDOMCHAT = "/randomchat";
    private static final String DISPOSABLE = "/ws?name=ann&room=limits";

    @TempDir
    Path data;
    private final List<AutoCloseable> open = new ArrayList<>();
    private SwitchboardServer server;

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {MINICHATS, CHATROOM, RANDOMCHAT, DISPOSABLE})
    void theConnectionPastTheTotalGets503WithRetryAfterAndAPlaceFreesOnClose(String target) throws Exception {
        server = start(SwitchboardConfig.builder().maxConnections(3));
        List<RawClient> three = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            RawClient c = raw();
            assertTrue(c.upgrade(target).startsWith("HTTP/1.1 101 "));
            three.add(c);
        }
        RawClient fourth = raw();
        String head = fourth.upgrade(target);
        assertTrue(head.startsWith("HTTP/1.1 503 Service Unavailable\r\n"), head);
        assertTrue(head.contains("\r\nretry-after: 5\r\n"), head);
        assertEquals(1.0, metric(server, "switchboard_refused_total{reason=\"full\"}"), "the refusal counted");
        assertEquals(3.0, metric(server, "switchboard_websocket_connections"), "the refused one is not counted");
        // Plain HTTP is not a WebSocket connection: /health still answers.
        awaitHealthy();

        three.get(0).close();
        awaitUpgrade(target, 101);
    }

    @ParameterizedTest
    @ValueSource(strings = {MINICHATS, CHATROOM, RANDOMCHAT, DISPOSABLE})
    void theConnectionPastThePerAddressLimitGets429AndOtherAddressesStillConnect(String target) throws Exception {
        server = start(SwitchboardConfig.builder().maxConnectionsPerAddress(2));
        for (int i = 0; i < 2; i++) {
            assertTrue(raw().upgrade(target).startsWith("HTTP/1.1 101 "));
        }
        String head = raw().upgrade(target);
        assertTrue(head.startsWith("HTTP/1.1 429 Too Many Requests\r\n"), head);
        assertEquals(1.0, metric(server, "switchboard_refused_total{reason=\"per_address\"}"), "the refusal counted");
        // 127.0.0.2 is another address on the loopback interface.
        RawClient other = new RawClient(server.localAddress(), 0, "127.0.0.2");
        open.add(other);
        assertTrue(other.upgrade(target).startsWith("HTTP/1.1 101 "));
    }

    /**
     * With ACCEPTED_ORIGIN set, a foreign Origin gets 403 on every path (minichats answers in JSON,
     * the others in the plain text of their seeds); no Origin (not a browser) is allowed except at
     * the disposable /ws (DisposableIT).
     */
    @ParameterizedTest
    @ValueSource(strings = {MINICHATS, CHATROOM, RANDOMCHAT})
    void aForeignOriginIsRefusedAndNoOriginIsAllowed(String target) throws Exception {
        server = start(SwitchboardConfig.builder()
                .acceptedOrigins(List.of("https://chat.example.com", " http://localhost:8080 ")));
        RawClient foreign = raw();
        foreign.write(withOrigin(target, "https://evil.example"));
        String refused = foreign.readToEnd();
        assertTrue(refused.startsWith("HTTP/1.1 403 Forbidden\r\n"), refused);
        assertTrue(refused.endsWith(target.equals(MINICHATS)
                ? "\r\n\r\n{\"status\":\"error\",\"info\":{\"detail\":\"Origin 'https://evil.example' is not allowed to "
                        + "connect\",\"code\":\"forbidden\"}}"
                : "\r\n\r\nOrigin 'https://evil.example' is not allowed to connect\n"), refused);
        assertEquals(1.0, metric(server, "switchboard_refused_total{reason=\"origin\"}"), "the refusal counted");

        RawClient listed = raw();
        listed.write(withOrigin(target, "http://localhost:8080"));
        assertTrue(listed.readHead().startsWith("HTTP/1.1 101 "));
        RawClient caseApart = raw();
        caseApart.write(withOrigin(target, "HTTPS://Chat.Example.com"));
        assertTrue(caseApart.readHead().startsWith("HTTP/1.1 101 "), "origins compare without case");
        assertTrue(raw().upgrade(target).startsWith("HTTP/1.1 101 "), "no Origin: not a browser");
    }

    /** A plain GET of a WebSocket path is answered 426 with the header to upgrade, on every path. */
    @ParameterizedTest
    @ValueSource(strings = {MINICHATS, CHATROOM, RANDOMCHAT, DISPOSABLE})
    void aPlainRequestToAWebSocketPathGets426(String target) throws Exception {
        server = start(SwitchboardConfig.builder());
        RawClient c = raw();
        c.write("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
        String response = c.readToEnd();
        assertTrue(response.startsWith("HTTP/1.1 426 Upgrade Required\r\n"), response);
        assertTrue(response.contains("\r\nupgrade: websocket\r\n"), response);
        String path = target.contains("?") ? target.substring(0, target.indexOf('?')) : target;
        assertTrue(response.endsWith("\r\n\r\n" + path + " is a WebSocket endpoint: connect with a WebSocket client\n"),
                response);
    }

    @Test
    void aHalfSentHandshakeIsClosedAfterTheHandshakeTimeout() throws Exception {
        server = Requests.startOnLoopback(SwitchboardConfig.builder().handshakeTimeout(Duration.ofMillis(300)));
        long start = System.nanoTime();
        RawClient slow = raw();
        slow.write("GET /api/connect HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n");
        assertTrue(slow.isClosedByServer(), "a request never finished holds no connection");
        // Closed at the timeout, not before it: the deadline starts at the accept, after this instant, and
        // Netty's timers never fire early (the upper side is isClosedByServer's bounded wait).
        assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(300), "closed before the timeout");
        start = System.nanoTime();
        RawClient silent = raw();
        assertTrue(silent.isClosedByServer(), "nor does a connection that says nothing");
        assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(300), "closed before the timeout");
        // An idle keep-alive connection: served, then closed once a whole period passes without a request.
        // The deadline that closes it is the first with no request since the one before, so at
        // least a period after the request arrived, which is after this instant.
        RawClient idle = raw();
        long asked = System.nanoTime();
        idle.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        assertTrue(idle.readHead().startsWith("HTTP/1.1 200 "), "served while it asks");
        assertTrue(idle.isClosedByServer(), "an idle keep-alive connection is closed");
        assertTrue(System.nanoTime() - asked >= TimeUnit.MILLISECONDS.toNanos(300), "closed before a period passed");
        assertEquals(3.0, metric(server, "switchboard_closes_total{reason=\"handshake_timeout\"}"), "each close counted");
        RawClient refused = raw();
        refused.write(RawClient.upgradeRequest("/api/connect").replace("Version: 13", "Version: 12"));
        assertTrue(refused.readHead().startsWith("HTTP/1.1 426 "), "Netty refuses the version");
        assertTrue(refused.isClosedByServer(), "nor does an upgrade that was refused");
        // A WebSocket session is not subject to it.
        JdkClient session = JdkClient.connectAs(server.localAddress(), "stays");
        open.add(session);
        Thread.sleep(600);
        assertTrue(session.request(Requests.subscribe("x")).startsWith("{\"status\":\"ok\""));
    }

    @Test
    void aClientThatAnswersNoPingIsClosedAndOneThatDoesStays() throws Exception {
        server = Requests.startOnLoopback(SwitchboardConfig.builder()
                .pingInterval(Duration.ofMillis(200)).pingTimeout(Duration.ofMillis(200)));
        JdkClient answers = JdkClient.connectAs(server.localAddress(), "pongs"); // the JDK client answers pings
        open.add(answers);
        RawClient mute = raw();
        // The node pings PING_INTERVAL after the upgrade and waits PING_TIMEOUT: the close cannot
        // come sooner than 400 ms after the request was sent (Netty's timers never fire early).
        long sent = System.nanoTime();
        assertTrue(mute.upgrade("/api/connect").startsWith("HTTP/1.1 101 "));
        assertEquals(RawClient.TEXT, mute.readFrame().opcode()); // the connection confirmation
        RawClient.Frame close = mute.readFrame();
        int pings = 0;
        for (; close.opcode() == RawClient.PING; close = mute.readFrame()) {
            pings++;
        }
        assertTrue(pings >= 1, "pinged before being closed");
        assertEquals(RawClient.CLOSE, close.opcode());
        assertEquals(1001, close.closeCode());
        assertEquals("ping timeout", close.closeReason());
        assertTrue(System.nanoTime() - sent >= TimeUnit.MILLISECONDS.toNanos(400), "closed before its timeout");
        assertTrue(mute.isClosedByServer());
        assertEquals(1.0, metric(server, "switchboard_closes_total{reason=\"ping_timeout\"}"), "the close counted");

        Thread.sleep(800); // several ping rounds
        assertTrue(answers.request(Requests.subscribe("x")).startsWith("{\"status\":\"ok\""), "still connected");
    }

    @Test
    void clientPingsAreAnswered() throws Exception {
        server = Requests.startOnLoopback(SwitchboardConfig.builder());
        RawClient c = raw();
        assertTrue(c.upgrade("/api/connect").startsWith("HTTP/1.1 101 "));
        c.readFrame();
        c.sendFrame(RawClient.PING, true, new byte[] {1, 2, 3});
        RawClient.Frame pong = c.readFrame();
        assertEquals(RawClient.PONG, pong.opcode());
        assertEquals(3, pong.payload().length, "the ping's payload, echoed");
    }

    /** A node on loopback with the test's DATA_DIR, so that /randomchat is on. */
    private SwitchboardServer start(SwitchboardConfig.Builder config) {
        return Requests.startOnLoopback(config.dataDir(data));
    }

    /**
     * Waits until {@code GET /health} answers 200. The randomchat store opens with the first
     * {@code /randomchat} connection, and until it is open /health answers 503 "opening ...": that
     * is the one other answer allowed.
     */
    private void awaitHealthy() throws Exception {
        long deadline = System.nanoTime() + JdkClient.WAIT.toNanos();
        while (true) {
            RawClient health = raw();
            health.write("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            String response = health.readToEnd();
            if (response.startsWith("HTTP/1.1 200 OK\r\n")) {
                return;
            }
            assertTrue(response.startsWith("HTTP/1.1 503 ") && response.contains("\r\n\r\nopening "), response);
            if (System.nanoTime() > deadline) {
                throw new AssertionError("still " + response);
            }
            Thread.sleep(20);
        }
    }

    private static String withOrigin(String target, String origin) {
        return RawClient.upgradeRequest(target).replace("\r\n\r\n", "\r\nOrigin: " + origin + "\r\n\r\n");
    }

    private RawClient raw() throws Exception {
        RawClient c = new RawClient(server.localAddress());
        open.add(c);
        return c;
    }

    private void awaitUpgrade(String target, int status) throws Exception {
        long deadline = System.nanoTime() + JdkClient.WAIT.toNanos();
        while (true) {
            RawClient c = raw();
            String head = c.upgrade(target);
            if (head.startsWith("HTTP/1.1 " + status + " ")) {
                return;
            }
            c.close();
            if (System.nanoTime() > deadline) {
                throw new AssertionError("still " + head);
            }
            Thread.sleep(20);
        }
    }
}
