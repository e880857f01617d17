package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.RawClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What keeps a node from being held or exhausted at the door: connection limits, the origin
 * allow-list, the deadline on the HTTP phase (slowloris) and the heartbeat. Each limit at its
 * boundary, on a real socket.
 */
@Timeout(60)
public class ConnectionLimitsIT {

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

    @Test
    void theConnectionPastTheTotalGets503WithRetryAfterAndAPlaceFreesOnClose() throws Exception {
        server = Requests.startOnLoopback(SwitchboardConfig.builder().maxConnections(3));
        List<RawClient> three = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            RawClient c = raw();
            assertTrue(c.upgrade("/api/connect").startsWith("HTTP/1.1 101 "));
            three.add(c);
        }
        RawClient fourth = raw();
        String head = fourth.upgrade("/api/connect");
        assertTrue(head.startsWith("HTTP/1.1 503 Service Unavailable\r\n"), head);
        assertTrue(head.contains("\r\nretry-after: 5\r\n"), head);
        // Plain HTTP is not a WebSocket connection: /health still answers.
        RawClient health = raw();
        health.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(health.readHead().startsWith("HTTP/1.1 200 OK"));

        three.get(0).close();
        awaitUpgrade(101);
    }

    @Test
    void theConnectionPastThePerAddressLimitGets429AndOtherAddressesStillConnect() throws Exception {
        server = Requests.startOnLoopback(SwitchboardConfig.builder().maxConnectionsPerAddress(2));
        for (int i = 0; i < 2; i++) {
            assertTrue(raw().upgrade("/api/connect").startsWith("HTTP/1.1 101 "));
        }
        String head = raw().upgrade("/api/connect");
        assertTrue(head.startsWith("HTTP/1.1 429 Too Many Requests\r\n"), head);
        // 127.0.0.2 is another address on the loopback interface.
        RawClient other = new RawClient(server.localAddress(), 0, "127.0.0.2");
        open.add(other);
        assertTrue(other.upgrade("/api/connect").startsWith("HTTP/1.1 101 "));
    }

    @Test
    void aForeignOriginIsRefusedAndNoOriginIsAllowed() throws Exception {
        server = Requests.startOnLoopback(SwitchboardConfig.builder()
                .acceptedOrigins(List.of("https://chat.example.com", " http://localhost:8080 ")));
        RawClient foreign = raw();
        foreign.write(RawClient.upgradeRequest("/api/connect").replace("\r\n\r\n", "\r\nOrigin: https://evil.example\r\n\r\n"));
        String refused = foreign.readHead();
        assertTrue(refused.startsWith("HTTP/1.1 403 Forbidden\r\n"), refused);
        assertTrue(foreign.readToEnd().contains("\"code\":\"forbidden\""));

        RawClient listed = raw();
        listed.write(RawClient.upgradeRequest("/api/connect").replace("\r\n\r\n", "\r\nOrigin: http://localhost:8080\r\n\r\n"));
        assertTrue(listed.readHead().startsWith("HTTP/1.1 101 "));
        assertTrue(raw().upgrade("/api/connect").startsWith("HTTP/1.1 101 "), "no Origin: not a browser");
    }

    @Test
    void aHalfSentHandshakeIsClosedAfterTheHandshakeTimeout() throws Exception {
        server = Requests.startOnLoopback(SwitchboardConfig.builder().handshakeTimeout(Duration.ofMillis(300)));
        RawClient slow = raw();
        slow.write("GET /api/connect HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n");
        assertTrue(slow.isClosedByServer(), "a request never finished holds no connection");
        RawClient silent = raw();
        assertTrue(silent.isClosedByServer(), "nor does a connection that says nothing");
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
        assertTrue(mute.isClosedByServer());

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

    private RawClient raw() throws Exception {
        RawClient c = new RawClient(server.localAddress());
        open.add(c);
        return c;
    }

    private void awaitUpgrade(int status) throws Exception {
        long deadline = System.nanoTime() + JdkClient.WAIT.toNanos();
        while (true) {
            RawClient c = raw();
            String head = c.upgrade("/api/connect");
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
