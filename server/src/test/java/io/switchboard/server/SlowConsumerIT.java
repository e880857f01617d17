package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.RawClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import static io.switchboard.server.testing.Requests.awaitCount;
import static io.switchboard.server.testing.Requests.countOf;
import static io.switchboard.server.testing.Requests.publish;
import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A subscriber that stops reading, after NATS's slow-consumer test: a raw socket with a tiny
 * receive buffer that never reads while a publisher floods its channel. The node must bound what it
 * holds for it (close it, or drop its deliveries) while a fast subscriber gets every message. Each
 * case runs corked (CORK_FRAMES, the default: the limits count the cork's bytes) and uncorked.
 */
@Timeout(120)
class SlowConsumerIT {

    private static final int MESSAGES = 4000;
    private static final String CONTENT = "\"" + "x".repeat(4000) + "\"";

    @ParameterizedTest(name = "corked: {0}")
    @ValueSource(booleans = {true, false})
    void closesASlowConsumerAndTheOthersGetEverything(boolean cork) throws Exception {
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder().corkFrames(cork)
                .maxMessagesPerSecond(0).outboundSoftLimitBytes(64 * 1024).outboundHardLimitBytes(2 * 1024 * 1024))) {
            try (RawClient slow = slowSubscriber(server.localAddress());
                 JdkClient fast = JdkClient.connectAs(server.localAddress(), "fast");
                 JdkClient publisher = JdkClient.connectAs(server.localAddress(), "pub")) {
                fast.request(subscribe("flood"));
                publisher.request(subscribe("flood"));
                assertEquals(3, countOf(publisher, "flood"));
                flood(publisher, fast);
                // Closed at the hard limit: it leaves the channel.
                awaitCount(publisher, "flood", 2);
                assertTrue(metrics(server).contains("\nswitchboard_closes_total{reason=\"slow_consumer\"} 1.0\n"));
                // At once: what reached its socket, then the end, no close frame queued behind the backlog.
                assertTrue(endsWithoutCloseFrame(slow));
            }
        }
    }

    @ParameterizedTest(name = "corked: {0}")
    @ValueSource(booleans = {true, false})
    void dropsASlowConsumersDeliveriesUnderTheDropPolicy(boolean cork) throws Exception {
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder().corkFrames(cork)
                .maxMessagesPerSecond(0).slowConsumerPolicy(SlowConsumerPolicy.DROP))) {
            // The default soft limit (1 MiB) is above one batch (400 KB), so the clients that read
            // never go over it; the one that does not read does, and loses deliveries, not its connection.
            try (RawClient slow = slowSubscriber(server.localAddress());
                 JdkClient fast = JdkClient.connectAs(server.localAddress(), "fast");
                 JdkClient publisher = JdkClient.connectAs(server.localAddress(), "pub")) {
                fast.request(subscribe("flood"));
                publisher.request(subscribe("flood"));
                flood(publisher, fast);
                // Still connected and subscribed: only its deliveries were skipped.
                awaitCount(publisher, "flood", 3);
                // 16 MB were published to it; what waits for it stays near the soft limit (1 MiB).
                String metrics = metrics(server);
                long pending = (long) Double.parseDouble(value(metrics, "switchboard_outbound_pending_bytes"));
                assertTrue(pending < 2 * 1024 * 1024, pending + " bytes pending");
                assertTrue(Double.parseDouble(value(metrics, "switchboard_drops_total")) > 1000, metrics);
            }
        }
    }

    @ParameterizedTest(name = "corked: {0}")
    @ValueSource(booleans = {true, false})
    void closesAConsumerThatStaysOverTheSoftLimitForItsTime(boolean cork) throws Exception {
        // A hard limit far above what the flood leaves pending: only the soft limit's time can close it.
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder().corkFrames(cork)
                .maxMessagesPerSecond(0).outboundSoftLimitBytes(64 * 1024).outboundHardLimitBytes(1L << 30)
                .outboundSoftLimitTime(Duration.ofSeconds(2))
                // The time it gets to take its close once it is one (not a bound on this test's speed).
                .pingTimeout(Duration.ofSeconds(100)))) {
            try (RawClient slow = slowSubscriber(server.localAddress());
                 JdkClient publisher = JdkClient.connectAs(server.localAddress(), "pub")) {
                publisher.request(subscribe("flood"));
                // It goes over the soft limit after this instant, and is closed its time later, not before.
                long start = System.nanoTime();
                flood(publisher, null);
                awaitCount(publisher, "flood", 1);
                assertTrue(System.nanoTime() - start >= Duration.ofSeconds(2).toNanos(), "closed before its time");
                assertTrue(Double.parseDouble(value(metrics(server), "switchboard_read_pauses_total")) >= 1,
                        "its reading was turned off over the soft limit");
                assertTrue(metrics(server).contains("\nswitchboard_closes_total{reason=\"slow_consumer\"} 1.0\n"),
                        "counted as a slow-consumer close");
                // It reads again: its backlog, in publish order, then the reason, and nothing after it.
                int last = -1;
                RawClient.Frame frame;
                while ((frame = slow.readFrame()).opcode() != RawClient.CLOSE) {
                    if (frame.opcode() == RawClient.PING) {
                        continue;
                    }
                    assertEquals(RawClient.TEXT, frame.opcode());
                    String m = frame.text();
                    int i = Integer.parseInt(m.substring(m.indexOf("{\"i\":") + 5, m.indexOf(",\"pad\"")));
                    assertEquals(last + 1, i, "deliveries in order, none lost before the close");
                    last = i;
                }
                assertEquals(1008, frame.closeCode());
                assertEquals("slow consumer", frame.closeReason());
                assertTrue(last >= 0 && last < MESSAGES - 1, "cut off before the end of the flood: " + last);
                assertTrue(slow.isClosedByServer(), "the node closes the connection after the close frame");
            }
        }
    }

    static String metrics(SwitchboardServer server) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + server.localAddress().getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    private static String value(String metrics, String name) {
        int at = metrics.indexOf("\n" + name + " ") + name.length() + 2;
        return metrics.substring(at, metrics.indexOf('\n', at));
    }

    /** Reads frames to the end of the connection; false if one was a close frame. */
    private static boolean endsWithoutCloseFrame(RawClient client) {
        try {
            while (true) {
                if (client.readFrame().opcode() == RawClient.CLOSE) {
                    return false;
                }
            }
        } catch (java.io.EOFException | java.net.SocketException e) {
            return true; // the end, or a reset
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Connects with a 4 KB receive buffer, subscribes to "flood", and from then on never reads. */
    static RawClient slowSubscriber(InetSocketAddress address) throws Exception {
        RawClient raw = new RawClient(address, 4096);
        assertTrue(raw.upgrade("/api/connect?client_name=slow").startsWith("HTTP/1.1 101 "));
        raw.readText(); // the connection confirmation
        raw.sendText(subscribe("flood"));
        assertTrue(raw.readText().contains("\"total_subscribers\""));
        return raw;
    }

    /**
     * Publishes {@link #MESSAGES} in batches of 100; before the next batch the clients that read
     * (the publisher, its own copies and oks; the fast subscriber, checking order) take the whole
     * batch, so they never fall far behind. The slow subscriber takes nothing.
     */
    static void flood(JdkClient publisher, JdkClient fast) {
        for (int batch = 0; batch < MESSAGES; batch += 100) {
            for (int i = batch; i < batch + 100; i++) {
                publisher.send(publish("flood", "{\"i\":" + i + ",\"pad\":" + CONTENT + "}"));
            }
            for (int i = 0; i < 200; i++) {
                publisher.next();
            }
            for (int i = batch; fast != null && i < batch + 100; i++) {
                String m = fast.next();
                assertTrue(m.contains("\"content\":{\"i\":" + i + ","), "message " + i + " in order: "
                        + m.substring(0, Math.min(120, m.length())));
            }
        }
    }
}
