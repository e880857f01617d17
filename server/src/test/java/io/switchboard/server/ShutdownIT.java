package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.RawClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.EOFException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static io.switchboard.server.testing.Requests.publish;
import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A graceful stop: every client told 1001, the goodbyes spread over the drain window, and what is
 * still there {@code SHUTDOWN_TIMEOUT} after the window dropped.
 */
@Timeout(30)
class ShutdownIT {

    @Test
    void closesAreSpreadOverTheDrainWindow() {
        Duration window = Duration.ofSeconds(2);
        SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder().drainWindow(window));
        List<JdkClient> clients = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            clients.add(JdkClient.connectAs(server.localAddress(), "c" + i));
        }
        long stopAt = System.nanoTime();
        CompletableFuture<Void> stopped = server.stop();
        List<CompletableFuture<Long>> closes = new ArrayList<>();
        for (JdkClient c : clients) {
            closes.add(c.closed().thenApply(code -> {
                assertEquals(1001, code);
                return System.nanoTime() - stopAt;
            }));
        }
        long[] at = closes.stream().mapToLong(CompletableFuture::join).sorted().toArray();
        stopped.join();
        // Evenly: the i-th goodbye is scheduled i/5 of the window after the stop began, never sooner
        // (each a lower bound, exact); and spread, not all at the end: the first comes at least half
        // the window before the last (its 4/5 less a generous allowance for delivery delays).
        for (int i = 0; i < at.length; i++) {
            Duration d = Duration.ofNanos(at[i]);
            assertTrue(d.compareTo(window.multipliedBy(i).dividedBy(5)) >= 0, "goodbye " + i + " after " + d);
        }
        Duration spread = Duration.ofNanos(at[4] - at[0]);
        assertTrue(spread.compareTo(window.dividedBy(2)) >= 0, "goodbyes spread over " + spread);
    }

    /**
     * A client that does not read cannot be sent its goodbye (the close frame waits behind the
     * deliveries it left unread): the node waits the drain window and the shutdown timeout for it,
     * not less, then drops it without a close frame.
     */
    @Test
    void dropsAClientThatCannotTakeItsGoodbyeAfterTheShutdownTimeout() throws Exception {
        Duration window = Duration.ofMillis(500);
        Duration timeout = Duration.ofSeconds(1);
        Duration limit = window.plus(timeout);
        SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder()
                .drainWindow(window).shutdownTimeout(timeout)
                .maxMessagesPerSecond(0).slowConsumerPolicy(SlowConsumerPolicy.DROP));
        try (RawClient stuck = new RawClient(server.localAddress(), 4096)) {
            assertTrue(stuck.upgrade("/api/connect?client_name=stuck").startsWith("HTTP/1.1 101 "));
            stuck.readText(); // the connection confirmation
            stuck.sendText(subscribe("flood"));
            assertTrue(stuck.readText().contains("\"total_subscribers\""));
            try (JdkClient publisher = JdkClient.connectAs(server.localAddress(), "pub")) {
                publisher.request(subscribe("flood")); // only subscribers may publish
                fillUntilPending(server, publisher);
            }
            long stopAt = System.nanoTime();
            CompletableFuture<Void> stopped = server.stop();
            // Not before 80% of the window and the timeout; within the timeout and a wide margin.
            assertThrows(TimeoutException.class,
                    () -> stopped.get(limit.toMillis() * 8 / 10, TimeUnit.MILLISECONDS),
                    "stopped before the drain window and the shutdown timeout were over");
            stopped.get(limit.toMillis() + JdkClient.WAIT.toMillis(), TimeUnit.MILLISECONDS);
            Duration took = Duration.ofNanos(System.nanoTime() - stopAt);
            // The forced close is scheduled window + timeout after stop() began, never sooner: exact.
            assertTrue(took.compareTo(limit) >= 0, "stopped after " + took + ", before " + limit);
            // Dropped: what reached its socket before, then the end of the stream, no close frame.
            int frames = 0;
            while (true) {
                RawClient.Frame f;
                try {
                    f = stuck.readFrame();
                } catch (EOFException end) {
                    break;
                }
                assertEquals(RawClient.TEXT, f.opcode(), () -> "a frame other than a delivery: "
                        + (f.opcode() == RawClient.CLOSE ? "close " + f.closeCode() + " " + f.closeReason() : "" + f.opcode()));
                frames++;
            }
            assertTrue(frames > 0, "the deliveries that reached its socket come first");
        } finally {
            server.stop().join();
        }
    }

    /**
     * A client that reads its goodbye leaves at once, whether it answers the close (the JDK
     * client) or never does (a raw socket): the node closes the connection once its 1001 is
     * written, without waiting out a shutdown timeout far longer than the test.
     */
    @Test
    void clientsThatTakeTheirGoodbyeLeaveAtOnce() throws Exception {
        SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder()
                .shutdownTimeout(Duration.ofSeconds(60)));
        try (RawClient silent = new RawClient(server.localAddress());
             JdkClient answering = JdkClient.connectAs(server.localAddress(), "answering")) {
            assertTrue(silent.upgrade("/api/connect?client_name=silent").startsWith("HTTP/1.1 101 "));
            silent.readText(); // the connection confirmation
            CompletableFuture<Void> stopped = server.stop();
            RawClient.Frame goodbye = silent.readFrame();
            assertEquals(RawClient.CLOSE, goodbye.opcode());
            assertEquals(1001, goodbye.closeCode());
            assertEquals("Server shutting down", goodbye.closeReason());
            assertTrue(silent.isClosedByServer(), "closed without its answer");
            assertEquals(1001, answering.awaitClose());
            stopped.get(JdkClient.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } finally {
            server.stop().join();
        }
    }

    /**
     * Publishes 4 KB messages to "flood" (the publisher takes its oks and copies) until the node holds bytes it cannot write to the
     * subscriber that does not read ({@code switchboard_outbound_pending_bytes} above 0).
     */
    private static void fillUntilPending(SwitchboardServer server, JdkClient publisher) throws Exception {
        String pad = "\"" + "x".repeat(4000) + "\"";
        for (int batch = 0; batch < 100; batch++) {
            for (int i = 0; i < 100; i++) {
                publisher.send(publish("flood", "{\"i\":" + i + ",\"pad\":" + pad + "}"));
            }
            for (int i = 0; i < 100; i++) {
                assertEquals("{\"status\":\"ok\"}", publisher.next());
                assertTrue(publisher.next().contains("\"content\":{\"i\":" + i + ","), "its own copy");
            }
            if (pending(server) > 0) {
                return;
            }
        }
        throw new AssertionError("nothing pending after 40 MB published");
    }

    private static long pending(SwitchboardServer server) throws Exception {
        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + server.localAddress().getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        String name = "\nswitchboard_outbound_pending_bytes ";
        int at = metrics.indexOf(name) + name.length();
        assertFalse(at < name.length(), metrics);
        return (long) Double.parseDouble(metrics.substring(at, metrics.indexOf('\n', at)));
    }
}
