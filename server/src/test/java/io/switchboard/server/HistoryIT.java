package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;

import static io.switchboard.server.testing.Positions.epoch;
import static io.switchboard.server.testing.Positions.n;
import static io.switchboard.server.testing.Positions.numbers;
import static io.switchboard.server.testing.Positions.offset;
import static io.switchboard.server.testing.Positions.positioned;
import static io.switchboard.server.testing.Positions.publishAll;
import static io.switchboard.server.testing.Positions.recover;
import static io.switchboard.server.testing.Requests.metric;
import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Channel history, positions and recovery on one node (PROTOCOL.md section 1a, issue 18), over
 * loopback with the JDK's WebSocket client: offsets in deliveries, the {@code history} listing and
 * its limits, recovery that is gapless and duplicate-free across random disconnects, and every way
 * a recovery must say {@code recovered:false}. Each test has a node of its own.
 */
@Timeout(120)
class HistoryIT {

    private static SwitchboardServer node(SwitchboardConfig.Builder config) {
        return Requests.startOnLoopback(config.maxMessagesPerSecond(0));
    }

    private static String history(String channel, String more) {
        return "{\"action\":\"history\",\"params\":{\"channel_name\":\"" + channel + "\"" + more + "}}";
    }

    /** A publisher subscribed (without positions) to {@code channel}; its own copies are left unread. */
    private static JdkClient publisher(InetSocketAddress address, String channel) {
        JdkClient p = JdkClient.connectAs(address, "pub");
        assertTrue(p.request(subscribe(channel)).contains("\"status\":\"ok\""));
        return p;
    }

    @Test
    void deliveriesToASubscriptionWithPositionsCarryConsecutiveOffsetsAndOthersAreUnchanged() {
        try (SwitchboardServer server = node(SwitchboardConfig.builder().historySize(100));
             JdkClient positioned = JdkClient.connectAs(server.localAddress(), "a");
             JdkClient plain = JdkClient.connectAs(server.localAddress(), "b")) {
            String ok = positioned.request(positioned("h"));
            assertTrue(ok.startsWith("{\"status\":\"ok\",\"info\":{\"channel_name\":\"h\",\"total_subscribers\":1,"
                    + "\"offset\":0,\"epoch\":\""), ok);
            assertFalse(ok.contains("recovered"), ok);
            String epoch = epoch(ok);
            plain.request(subscribe("h"));
            try (JdkClient p = publisher(server.localAddress(), "h")) {
                publishAll(p, "h", 0, 3);
            }
            for (int i = 0; i < 3; i++) {
                String d = positioned.next();
                assertEquals(i + 1, offset(d), d);
                assertTrue(d.endsWith("\"content\":{\"n\":" + i + "},\"offset\":" + (i + 1) + "}"), d);
                String e = plain.next();
                assertTrue(e.endsWith("\"content\":{\"n\":" + i + "}}"), e);
            }
            try (JdkClient c = JdkClient.connectAs(server.localAddress(), "c")) {
                String second = c.request(positioned("h"));
                assertEquals(3, offset(second));
                assertEquals(epoch, epoch(second), "the epoch stays while the stream lives");
            }
        }
    }

    @Test
    void historyListsTheNewestOrThoseSinceAnOffsetOldestFirstWithinItsLimits() {
        try (SwitchboardServer server = node(SwitchboardConfig.builder().historySize(5));
             JdkClient c = JdkClient.connectAs(server.localAddress(), "reader");
             JdkClient p = publisher(server.localAddress(), "h")) {
            publishAll(p, "h", 0, 8); // offsets 1-8, 4-8 kept
            String all = c.request(history("h", ""));
            String epoch = epoch(all);
            assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"h\",\"epoch\":\"" + epoch + "\",\"offset\":8,"
                    + "\"publications\":[", all.substring(0, all.indexOf('[') + 1));
            List<Integer> ns = numbers(all);
            assertEquals(List.of(3, 4, 5, 6, 7), ns, all);
            assertEquals(List.of(6, 7), numbers(c.request(history("h", ",\"limit\":2"))));
            assertEquals(List.of(5, 6), numbers(c.request(history("h",
                    ",\"limit\":2,\"since\":{\"offset\":5,\"epoch\":\"" + epoch + "\"}"))));
            assertEquals(List.of(), numbers(c.request(history("h",
                    ",\"since\":{\"offset\":8,\"epoch\":\"" + epoch + "\"}"))));
            String other = c.request(history("h", ",\"since\":{\"offset\":1,\"epoch\":\"nope\"}"));
            assertTrue(other.contains("\"code\":\"invalid_param\"") && other.contains(epoch), other);
            // Allowed without subscribing; an unknown channel has an empty stream of its own.
            String empty = c.request(history("nothing-here", ""));
            assertTrue(empty.contains("\"offset\":0,\"publications\":[]}}"), empty);
        }
    }

    @Test
    void aHistoryReplyOverTheMessageLimitIsTruncatedAndPagesWithSince() {
        try (SwitchboardServer server = node(SwitchboardConfig.builder().historySize(100).maxMessageBytes(1024));
             JdkClient c = JdkClient.connectAs(server.localAddress(), "reader");
             JdkClient p = publisher(server.localAddress(), "h")) {
            publishAll(p, "h", 0, 40);
            List<Integer> seen = new ArrayList<>();
            String epoch = null;
            long since = 0;
            for (int page = 0; page < 40 && seen.size() < 40; page++) {
                String reply = c.request(history("h", epoch == null ? "" : ",\"since\":{\"offset\":" + since
                        + ",\"epoch\":\"" + epoch + "\"}"));
                assertTrue(reply.length() <= 1024, "at most MAX_MESSAGE_BYTES: " + reply.length());
                epoch = epoch(reply);
                List<Integer> ns = numbers(reply);
                assertFalse(ns.isEmpty(), reply);
                assertEquals(seen.size() < 40 - ns.size(), reply.contains("\"truncated\":true"), reply);
                seen.addAll(ns);
                since = seen.size();
            }
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                expected.add(i);
            }
            assertEquals(expected, seen);
        }
    }

    /**
     * The test: 1,000 publishes while a subscriber drops its connection at random points
     * (abruptly, without a close) and comes back with {@code recover}; it gets every publish exactly
     * once, in order, and every recovery says {@code recovered:true}.
     */
    @Test
    void aSubscriberThatDropsAndRecoversAtRandomPointsGetsEveryPublishOnceInOrder() throws Exception {
        int total = 1000;
        try (SwitchboardServer server = node(SwitchboardConfig.builder().historySize(total))) {
            InetSocketAddress address = server.localAddress();
            AtomicReference<Throwable> failed = new AtomicReference<>();
            Thread publishing = new Thread(() -> {
                try (JdkClient p = publisher(address, "storm")) {
                    publishAll(p, "storm", 0, total);
                } catch (Throwable t) {
                    failed.set(t);
                }
            });
            Random random = new Random(42);
            List<Integer> got = new ArrayList<>();
            JdkClient sub = JdkClient.connectAs(address, "sub");
            String ok = sub.request(positioned("storm"));
            String epoch = epoch(ok);
            long last = offset(ok);
            publishing.start();
            int reconnects = 0;
            try {
                while (got.size() < total) {
                    int take = 1 + random.nextInt(60);
                    for (int i = 0; i < take && got.size() < total; i++) {
                        String d = sub.next();
                        long o = offset(d);
                        assertEquals(last + 1, o, "the next offset: " + d);
                        last = o;
                        got.add(n(d));
                    }
                    if (got.size() < total) {
                        sub.abort();
                        reconnects++;
                        sub = JdkClient.connectAs(address, "sub");
                        String recovered = sub.request(recover("storm", last, epoch));
                        assertTrue(recovered.contains("\"recovered\":true"), recovered);
                        assertEquals(epoch, epoch(recovered));
                        assertTrue(offset(recovered) >= last, recovered);
                    }
                }
            } finally {
                sub.close();
            }
            publishing.join();
            assertNull(failed.get());
            for (int i = 0; i < total; i++) {
                assertEquals(i, got.get(i), "publish " + i);
            }
            assertTrue(reconnects > 10, "reconnects: " + reconnects);
            assertEquals(reconnects, metric(server, "switchboard_recoveries_total{result=\"recovered\"}"));
        }
    }

    /**
     * Publishers on several connections (so several event loops) to one channel: every subscriber
     * with positions, whatever its loop, gets offsets 1, 2, 3, ... with no gap and no reordering, so
     * its last offset is a position it can recover from.
     */
    @Test
    void subscribersOnEveryLoopGetTheOffsetsOfConcurrentPublishersInOrder() throws Exception {
        int publishers = 4;
        int each = 250;
        try (SwitchboardServer server = node(SwitchboardConfig.builder().historySize(10))) {
            InetSocketAddress address = server.localAddress();
            List<JdkClient> subscribers = new ArrayList<>();
            try {
                for (int i = 0; i < 4; i++) {
                    JdkClient c = JdkClient.connectAs(address, "s" + i);
                    c.request(positioned("many"));
                    subscribers.add(c);
                }
                List<Thread> threads = new ArrayList<>();
                AtomicReference<Throwable> failed = new AtomicReference<>();
                for (int i = 0; i < publishers; i++) {
                    int from = i * each;
                    threads.add(new Thread(() -> {
                        try (JdkClient p = publisher(address, "many")) {
                            publishAll(p, "many", from, from + each);
                        } catch (Throwable t) {
                            failed.set(t);
                        }
                    }));
                }
                threads.forEach(Thread::start);
                for (JdkClient c : subscribers) {
                    int[] nextOfPublisher = new int[publishers];
                    for (int i = 0; i < publishers; i++) {
                        nextOfPublisher[i] = i * each;
                    }
                    for (long o = 1; o <= (long) publishers * each; o++) {
                        String d = c.next();
                        assertEquals(o, offset(d), d);
                        int n = n(d);
                        assertEquals(nextOfPublisher[n / each]++, n, "each publisher's in its order");
                    }
                }
                for (Thread t : threads) {
                    t.join();
                }
                assertNull(failed.get());
            } finally {
                subscribers.forEach(JdkClient::close);
            }
        }
    }

    @Test
    void recoveryIsAllOrNothing() throws Exception {
        try (SwitchboardServer server = node(SwitchboardConfig.builder().historySize(5).recoveryMax(3));
             JdkClient keep = JdkClient.connectAs(server.localAddress(), "keep");
             JdkClient p = publisher(server.localAddress(), "r")) {
            InetSocketAddress address = server.localAddress();
            String epoch = epoch(keep.request(positioned("r")));
            publishAll(p, "r", 0, 10); // offsets 1-10, 6-10 kept
            // Within RECOVERY_MAX and kept: the missed ones follow the ok, in order.
            try (JdkClient c = JdkClient.connectAs(address, "c")) {
                String ok = c.request(recover("r", 8, epoch));
                assertTrue(ok.contains("\"offset\":10,\"epoch\":\"" + epoch + "\",\"recovered\":true}"), ok);
                assertEquals(9, offset(c.next()));
                assertEquals(10, offset(c.next()));
                assertNull(c.poll(200), "nothing more");
            }
            // Nothing missed.
            try (JdkClient c = JdkClient.connectAs(address, "c")) {
                assertTrue(c.request(recover("r", 10, epoch)).contains("\"recovered\":true"));
                assertNull(c.poll(200));
            }
            // More missed than RECOVERY_MAX (3), though all kept: nothing replayed.
            assertNotRecovered(address, recover("r", 6, epoch), epoch);
            // O+1 no longer kept (HISTORY_SIZE 5 keeps 6-10).
            assertNotRecovered(address, recover("r", 4, epoch), epoch);
            // Another epoch; an offset past the stream's.
            assertNotRecovered(address, recover("r", 9, "another"), epoch);
            assertNotRecovered(address, recover("r", 11, epoch), epoch);
            assertEquals(4, metric(server, "switchboard_recoveries_total{result=\"not_recovered\"}"));
            assertEquals(5, metric(server, "switchboard_history_evicted_total{reason=\"size\"}"));
        }
    }

    private static void assertNotRecovered(InetSocketAddress address, String request, String epoch) throws Exception {
        try (JdkClient c = JdkClient.connectAs(address, "c")) {
            String ok = c.request(request);
            assertTrue(ok.contains("\"offset\":10,\"epoch\":\"" + epoch + "\",\"recovered\":false}"), ok);
            assertNull(c.poll(200), "nothing replayed");
        }
    }

    @Test
    void publishesOlderThanTheTtlAreGoneAndARecoveryThatNeedsThemFails() throws Exception {
        try (SwitchboardServer server = node(SwitchboardConfig.builder().historySize(10)
                .historyTtl(Duration.ofSeconds(1)));
             JdkClient keep = JdkClient.connectAs(server.localAddress(), "keep");
             JdkClient p = publisher(server.localAddress(), "t")) {
            String epoch = epoch(keep.request(positioned("t")));
            publishAll(p, "t", 0, 2);
            // Wait for the node to drop them: the listing empties once HISTORY_TTL has passed.
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!numbers(keep.request(history("t", ""))).isEmpty()) {
                assertTrue(System.nanoTime() < deadline, "expired within 10 s");
                Thread.sleep(100);
            }
            assertEquals(2, metric(server, "switchboard_history_evicted_total{reason=\"ttl\"}"));
            try (JdkClient c = JdkClient.connectAs(server.localAddress(), "c")) {
                String ok = c.request(recover("t", 0, epoch));
                assertTrue(ok.contains("\"offset\":2,\"epoch\":\"" + epoch + "\",\"recovered\":false}"), ok);
            }
            try (JdkClient c = JdkClient.connectAs(server.localAddress(), "c")) {
                // The channel still has a subscriber, so its stream (and epoch) stays: nothing was missed.
                assertTrue(c.request(recover("t", 2, epoch)).contains("\"recovered\":true"));
            }
        }
    }

    @Test
    void theNodesHistoryMemoryIsBoundedAndTheAppendingChannelPaysForIt() {
        // Each kept publish costs its content, its sender and History.OVERHEAD_BYTES (96).
        try (SwitchboardServer server = node(SwitchboardConfig.builder().historySize(1000).historyMaxBytes(2000));
             JdkClient c = JdkClient.connectAs(server.localAddress(), "reader");
             JdkClient p = publisher(server.localAddress(), "m")) {
            publishAll(p, "m", 0, 100);
            double memory = metric(server, "switchboard_history_memory_bytes");
            assertTrue(memory <= 2000 && memory > 1000, "memory " + memory);
            List<Integer> kept = numbers(c.request(history("m", "")));
            assertEquals(99, kept.get(kept.size() - 1));
            assertEquals(100 - kept.size(), metric(server, "switchboard_history_evicted_total{reason=\"memory\"}"));
        }
    }

    @Test
    void badPositionsAndLimitsAreRefusedWithTheirCodesAndTheConnectionLivesOn() {
        try (SwitchboardServer server = node(SwitchboardConfig.builder().historySize(10));
             JdkClient c = JdkClient.connectAs(server.localAddress(), "bad")) {
            String[] bad = {
                    "{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"b\",\"positions\":\"yes\"}}",
                    "{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"b\",\"recover\":5}}",
                    "{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"b\",\"recover\":{\"offset\":-1,\"epoch\":\"e\"}}}",
                    "{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"b\",\"recover\":{\"offset\":1e3,\"epoch\":\"e\"}}}",
                    "{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"b\",\"recover\":{\"offset\":99999999999999999999,\"epoch\":\"e\"}}}",
                    "{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"b\",\"recover\":{\"offset\":1}}}",
                    "{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"b\",\"recover\":{\"offset\":1,\"epoch\":\"\"}}}",
                    "{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"b\",\"recover\":{\"offset\":1,\"epoch\":7}}}",
                    history("b", ",\"limit\":0"),
                    history("b", ",\"limit\":-3"),
                    history("b", ",\"limit\":1000001"),
                    history("b", ",\"limit\":\"5\""),
                    history("b", ",\"since\":{\"epoch\":\"e\"}"),
            };
            for (String request : bad) {
                String reply = c.request(request);
                assertTrue(reply.startsWith("{\"status\":\"error\"") && reply.contains("\"code\":\"invalid_param\""),
                        request + " -> " + reply);
            }
            assertTrue(c.request("{\"action\":\"history\",\"params\":{}}").contains("\"code\":\"missing_param\""));
            // Subscribed already: positions need a fresh subscribe.
            c.request(subscribe("b"));
            assertTrue(c.request(positioned("b")).contains("\"code\":\"invalid_request\""));
            assertTrue(c.request(positioned("b2")).contains("\"offset\":0"), "alive");
        }
    }

    @Test
    void withHistoryOffPositionsRecoverAndHistoryAreNotAvailable() {
        try (SwitchboardServer server = node(SwitchboardConfig.builder());
             JdkClient c = JdkClient.connectAs(server.localAddress(), "off")) {
            for (String request : List.of(positioned("o"), recover("o", 1, "e"), history("o", ""))) {
                String reply = c.request(request);
                assertTrue(reply.contains("\"code\":\"not_available\""), reply);
            }
            assertTrue(c.request(subscribe("o")).contains("\"status\":\"ok\""), "alive, and plain subscribes work");
        }
    }

    @Test
    void messagesOfOtherDialectsAreKeptAndNumberedToo() {
        try (SwitchboardServer server = node(SwitchboardConfig.builder().historySize(10));
             JdkClient c = JdkClient.connectAs(server.localAddress(), "m")) {
            InetSocketAddress a = server.localAddress();
            c.request(positioned("room-1"));
            try (JdkClient d = JdkClient.connect(URI.create("ws://127.0.0.1:" + a.getPort() + "/ws?name=dan&room=room-1"))) {
                d.next(); // welcome
                d.send("{\"text\":\"hello\"}");
                String delivery = c.next();
                assertTrue(delivery.contains("\"sender\":\"dan\"") && delivery.contains("\"content\":\"hello\",\"offset\":1}"),
                        delivery);
            }
            String h = c.request(history("room-1", ""));
            assertTrue(h.contains("{\"offset\":1,\"sender\":\"dan\""), h);
        }
    }

    @Test
    void theHttpApiListsHistoryWithTheSameBody() throws Exception {
        try (SwitchboardServer server = node(SwitchboardConfig.builder().historySize(10).apiKey("history-api-key-0123"));
             JdkClient c = JdkClient.connectAs(server.localAddress(), "c");
             JdkClient p = publisher(server.localAddress(), "api")) {
            publishAll(p, "api", 0, 3);
            String ws = c.request(history("api", ",\"limit\":2"));
            HttpResponse<String> http = get(server, "/api/history?channel_name=api&limit=2");
            assertEquals(200, http.statusCode());
            assertEquals(ws, http.body());
            String epoch = epoch(ws);
            assertEquals(List.of(2), numbers(get(server, "/api/history?channel_name=api&since_offset=2&since_epoch="
                    + epoch).body()));
            assertEquals(400, get(server, "/api/history?channel_name=api&limit=0").statusCode());
            assertEquals(400, get(server, "/api/history?channel_name=api&since_offset=1").statusCode());
            assertEquals(400, get(server, "/api/history").statusCode());
            assertNotEquals(200, HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + server.localAddress().getPort() + "/api/history?channel_name=api")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode(), "the API key is required");
        }
    }

    private static HttpResponse<String> get(SwitchboardServer server, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + server.localAddress().getPort() + path)).header("Authorization", "Bearer history-api-key-0123").build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
