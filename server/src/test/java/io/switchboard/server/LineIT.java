package io.switchboard.server;

import io.switchboard.server.testing.LineClient;
import io.switchboard.server.testing.RateLimits;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PROTOCOL.md section 3, the line chat, on a real server over loopback with plain sockets (as nc).
 * Each test has a node of its own: every line client of a node hears every other's join and
 * leave, so a client of an earlier test leaving late would reach the next test's clients
 * (issue 20). Each test reads exactly the notices its own clients cause.
 */
@Timeout(60)
class LineIT {

    /** The answer to the line that closes a client for flooding. */
    private static final String CLOSING = "Too many lines: closing the connection";

    private SwitchboardServer server;
    private InetSocketAddress line;

    @BeforeEach
    void start() {
        server = Requests.startOnLoopback(SwitchboardConfig.builder().lineOnAnyPort());
        line = server.lineAddress();
    }

    @AfterEach
    void stop() {
        server.stop().join();
    }

    /** Reads {@code b}'s join notice on {@code a}, which must be the next line {@code a} gets. */
    private static void assertJoined(LineClient a, LineClient b) throws Exception {
        assertEquals("A new client has connected to the chat: id = " + b.id(), a.readLine());
    }

    /** The error lines {@code node} sent for {@code reason} ({@code switchboard_line_errors_total}). */
    private static double lineErrors(SwitchboardServer node, String reason) {
        return Requests.metric(node, "switchboard_line_errors_total{reason=\"" + reason + "\"}");
    }

    @Test
    void welcomesAnnouncesRelaysToOthersAndSaysGoodbye() throws Exception {
        try (LineClient a = new LineClient(line)) {
            assertEquals("Congratulations! You've successfully joined the chat server.", a.readLine());
            assertEquals("Your id is: '" + a.id() + "'.", a.readLine());
            assertEquals("There are 1 client(s) connected to this server.", a.readLine());
            try (LineClient b = new LineClient(line)) {
                assertEquals("Congratulations! You've successfully joined the chat server.", b.readLine());
                assertEquals("Your id is: '" + b.id() + "'.", b.readLine());
                assertEquals("There are 2 client(s) connected to this server.", b.readLine());
                assertJoined(a, b);

                a.send("hello there"); // CRLF, as telnet sends it
                assertEquals(a.id() + ": hello there", b.readLine());
                b.write("and LF alone\n".getBytes(StandardCharsets.UTF_8));
                assertEquals(b.id() + ": and LF alone", a.readLine());
                assertNull(a.poll(300), "a client never gets its own line back");
                String bId = b.id();
                b.abort();
                assertEquals(bId + " has left the chat", a.readLine());
                assertNull(a.poll(500), "one leave notice per leave");
            }
        }
    }

    @Test
    void takesLinesUpTo4KiBAndAnswersALongerOneWithoutClosing() throws Exception {
        try (LineClient a = LineClient.join(line); LineClient b = LineClient.join(line)) {
            assertJoined(a, b);
            String max = "x".repeat(4096);
            a.send(max);
            assertEquals(a.id() + ": " + max, b.readLine());
            assertEquals(0.0, lineErrors(server, "too_long"), "4096 bytes is a line");
            a.send("y".repeat(4097) + "z".repeat(10_000));
            assertEquals("Your line was longer than 4096 bytes and was not sent", a.readLine());
            assertEquals(1.0, lineErrors(server, "too_long"), "4097 bytes is not, counted once");
            a.send("still here");
            assertEquals(a.id() + ": still here", b.readLine(), "the rest of the long line was dropped, not sent");
            assertEquals(1.0, lineErrors(server, "too_long"));
        }
    }

    @Test
    void ignoresTelnetNegotiationBlankLinesAndReplacesInvalidUtf8() throws Exception {
        try (LineClient a = LineClient.join(line); LineClient b = LineClient.join(line)) {
            assertJoined(a, b);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            // IAC DO TERMINAL-TYPE, IAC SB TERMINAL-TYPE SEND IAC SE, IAC NOP, then text with an escaped 255
            bytes.writeBytes(new byte[] {(byte) 255, (byte) 253, 24, (byte) 255, (byte) 250, 24, 1, (byte) 255,
                    (byte) 240, (byte) 255, (byte) 241});
            bytes.writeBytes("caf\u00e9 ".getBytes(StandardCharsets.UTF_8));
            bytes.writeBytes(new byte[] {(byte) 0xc3, 0x28, '\r', '\n', '\r', '\n', ' ', '\n'});
            a.write(bytes.toByteArray());
            assertEquals(a.id() + ": caf\u00e9 \ufffd(", b.readLine());
            assertNull(b.poll(300), "blank lines are not sent");
            // Negotiation split between two writes.
            a.write(new byte[] {'o', (byte) 255});
            Thread.sleep(50);
            a.write(new byte[] {(byte) 251, 1, 'k', '\n'});
            assertEquals(a.id() + ": ok", b.readLine());
        }
    }

    /**
     * dialects.md, "line": lines over MAX_MESSAGE_RATE are answered, a second's worth refused in a
     * row closes (told in a line of its own). One line at a time, each once it was relayed to the
     * other client or refused, held to the limiter's rules ({@link RateLimits}).
     */
    @Test
    void answersLinesOverTheRateAndClosesAfterASecondsWorthRefusedInARow() throws Exception {
        int rate = 3;
        try (SwitchboardServer limited = Requests.startOnLoopback(SwitchboardConfig.builder().lineOnAnyPort()
                .maxMessagesPerSecond(rate));
             LineClient a = LineClient.join(limited.lineAddress()); LineClient b = LineClient.join(limited.lineAddress())) {
            assertJoined(a, b);
            List<Boolean> refused = new ArrayList<>();
            long start = System.nanoTime(); // the bucket is full (it holds no more) until the first line
            for (int i = 0; ; i++) {
                assertTrue(i < 1_000, "not closed after " + i + " lines: " + refused);
                String answer = answerOrRelay(a, b, "m" + i);
                if (CLOSING.equals(answer)) {
                    break;
                }
                assertTrue(answer == null || answer.equals("Too many lines: at most 3 per second"), answer);
                refused.add(answer != null);
            }
            long elapsed = System.nanoTime() - start;
            assertTrue(a.isClosedByServer());
            int refusals = RateLimits.assertTheLimitersRulesUpToTheClose(rate, refused, elapsed);
            assertEquals(1.0, Requests.metric(limited, "switchboard_closes_total{reason=\"rate_limit\"}"));
            assertEquals(refusals, lineErrors(limited, "rate_limited"), "the lines refused, not the one that closed");
        }
    }

    /**
     * Sends {@code text} from {@code a} and waits, at most {@link LineClient#WAIT_MILLIS}, until it
     * is relayed to {@code b} (returns {@code null}) or {@code a} is answered (returns the answer):
     * one of the two, as {@code a} never gets its own line and {@code b} never hears of a refused
     * one. An answer that closes {@code a} is returned once {@code b} heard of its leave too (which
     * may be read first).
     */
    private static String answerOrRelay(LineClient a, LineClient b, String text) throws IOException {
        a.send(text);
        String left = a.id() + " has left the chat";
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LineClient.WAIT_MILLIS);
        while (System.nanoTime() < deadline) {
            String heard = b.poll(5);
            if (left.equals(heard)) {
                assertEquals(CLOSING, a.readLine(), "only a close makes a leave");
                return CLOSING;
            }
            if (heard != null) {
                assertEquals(a.id() + ": " + text, heard);
                return null;
            }
            String answer = a.poll(5);
            if (CLOSING.equals(answer)) {
                assertEquals(left, b.readLine(), "nothing more was relayed");
            }
            if (answer != null) {
                return answer;
            }
        }
        throw new AssertionError("'" + text + "' neither relayed nor answered within " + LineClient.WAIT_MILLIS
                + " ms");
    }

    /** LINE_MAX_CLIENTS at 3: the third client joins, the fourth is told and closed, and counted. */
    @Test
    void refusesOneClientOverTheCap() throws Exception {
        String refused = "switchboard_refused_total{reason=\"line_full\"}";
        try (SwitchboardServer capped = Requests.startOnLoopback(SwitchboardConfig.builder()
                .lineOnAnyPort().lineMaxClients(3));
             LineClient a = LineClient.join(capped.lineAddress()); LineClient b = LineClient.join(capped.lineAddress());
             LineClient c = LineClient.join(capped.lineAddress())) {
            assertEquals(0.0, Requests.metric(capped, refused), "three clients are within the cap");
            try (LineClient over = new LineClient(capped.lineAddress())) {
                assertEquals("The chat server is full (3 clients): try again later", over.readLine());
                assertTrue(over.isClosedByServer());
            }
            assertEquals(1.0, Requests.metric(capped, refused), "the fourth counted");
            assertJoined(a, b);
            assertJoined(a, c);
            assertNull(a.poll(300), "the refused client never joined");
        }
    }

    @Test
    void refusesShutdownUnlessAllowed() throws Exception {
        try (LineClient a = LineClient.join(line); LineClient b = LineClient.join(line)) {
            assertJoined(a, b);
            a.send("SHUTDOWN");
            assertEquals("SHUTDOWN is not allowed on this server (LINE_ALLOW_SHUTDOWN=false)", a.readLine());
            assertEquals(1.0, lineErrors(server, "shutdown_refused"));
            assertNull(b.poll(300), "and nobody else hears of it");
            a.send("still on");
            assertEquals(a.id() + ": still on", b.readLine());
        }
    }

    @Test
    void shutsTheChatDownWhenAllowed() throws Exception {
        try (SwitchboardServer s = Requests.startOnLoopback(SwitchboardConfig.builder().lineOnAnyPort()
                .lineAllowShutdown(true))) {
            InetSocketAddress l = s.lineAddress();
            try (LineClient a = LineClient.join(l); LineClient b = LineClient.join(l)) {
                assertJoined(a, b);
                b.send("SHUTDOWN");
                assertEquals("The chat has been shut down", a.readLine());
                assertEquals("The chat has been shut down", b.readLine());
                assertTrue(a.isClosedByServer());
                assertTrue(b.isClosedByServer());
            }
            // The port stays open; the shut down clients no longer count (their leaves run on their own loops).
            String count = null;
            for (int tries = 0; tries < 20 && !"There are 1 client(s) connected to this server.".equals(count); tries++) {
                try (LineClient again = new LineClient(l)) {
                    assertEquals("Congratulations! You've successfully joined the chat server.", again.readLine());
                    again.readLine();
                    count = again.readLine();
                }
                Thread.sleep(50);
            }
            assertEquals("There are 1 client(s) connected to this server.", count);
        }
    }

    @Test
    void saysTheChatIsShutDownWhenTheServerStops() throws Exception {
        SwitchboardServer s = Requests.startOnLoopback(SwitchboardConfig.builder().lineOnAnyPort());
        try (LineClient a = LineClient.join(s.lineAddress())) {
            s.stop();
            assertEquals("The chat has been shut down", a.readLine());
            assertTrue(a.isClosedByServer());
        } finally {
            s.stop().join();
        }
    }
}
