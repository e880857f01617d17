package io.switchboard.server;

import io.switchboard.server.testing.RawClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The chatroom inspection page answers only requests whose {@code Host} names it, so a web page
 * whose DNS name is rebound to the node cannot read it from a local browser, and it closes idle
 * connections (issue 15).
 */
@Timeout(60)
public class DebugPageIT {

    private static SwitchboardServer server;
    private static InetSocketAddress page;

    @BeforeAll
    static void start() {
        server = Requests.startOnLoopback(SwitchboardConfig.builder()
                .debug(true).debugPort(0)
                .debugAllowedHosts(List.of("inspect.example", "pinned.example:1"))
                .handshakeTimeout(Duration.ofSeconds(1)));
        page = server.debugAddress();
    }

    @AfterAll
    static void stop() {
        server.stop().join();
    }

    /** Each refused request is counted in {@code refused_total{reason="debug_host"}}, as it is answered. */
    @Test
    void refusesAForeignHostWith403AndAReason() throws IOException {
        int port = page.getPort();
        double before = refusals();
        int refused = 0;
        for (String host : List.of("rebound.example:" + port, "rebound.example", "127.0.0.1.nip.io:" + port,
                "127.0.0.1:" + (port == 1 ? 2 : 1), "pinned.example:" + port)) {
            String response = get(host);
            assertTrue(response.startsWith("HTTP/1.1 403 Forbidden\r\n"), host + ": " + response);
            assertTrue(response.endsWith("\r\n\r\nHost '" + host + "' is not the inspection page's address; list it "
                    + "in DEBUG_ALLOWED_HOSTS to allow it\n"), response);
            assertEquals(before + ++refused, refusals(), host + " counted");
        }
        String none = send("GET /json HTTP/1.0\r\n\r\n");
        assertTrue(none.startsWith("HTTP/1.1 403 Forbidden\r\n"), none);
        assertTrue(none.endsWith("A request to the inspection page needs a Host header\n"), none);
        assertEquals(before + refused + 1, refusals(), "no Host counted");
    }

    /** The boundary of the rule: the hosts it allows are served and not counted as refused. */
    @Test
    void servesItsOwnAddressLoopbackNamesAndTheConfiguredHosts() throws IOException {
        int port = page.getPort();
        double before = refusals();
        for (String host : List.of("127.0.0.1:" + port, "127.0.0.1", "localhost:" + port, "LOCALHOST",
                "[::1]:" + port, "[::1]", "inspect.example", "Inspect.Example:" + port, "pinned.example:1")) {
            String response = get(host);
            assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n"), host + ": " + response);
            assertTrue(response.contains("\"clients\":["), response);
        }
        assertEquals(before, refusals(), "nothing refused");
    }

    /**
     * The inspection page's refusals so far; read after a response was received, which the page
     * writes after counting its refusal.
     */
    private static double refusals() {
        return Requests.metric(server, "switchboard_refused_total{reason=\"debug_host\"}");
    }

    @Test
    void closesAConnectionThatSendsNothing() throws IOException {
        try (RawClient idle = new RawClient(page)) {
            assertTrue(idle.isClosedByServer(), "closed after HANDSHAKE_TIMEOUT without a request");
        }
    }

    @Test
    void closesAKeepAliveConnectionOnceItIsIdle() throws IOException {
        try (RawClient c = new RawClient(page)) {
            c.write("GET /json HTTP/1.1\r\nHost: 127.0.0.1:" + page.getPort() + "\r\n\r\n");
            assertTrue(c.readHead().startsWith("HTTP/1.1 200 OK\r\n"));
            assertTrue(c.isClosedByServer(), "closed after HANDSHAKE_TIMEOUT without another request");
        }
    }

    /** A GET of /json with {@code host}; the connection closes after the answer. */
    private static String get(String host) throws IOException {
        return send("GET /json HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n");
    }

    private static String send(String request) throws IOException {
        try (RawClient c = new RawClient(page)) {
            c.write(request);
            return c.readToEnd();
        }
    }
}
