package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.RateLimits;
import io.switchboard.server.testing.RawClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import static io.switchboard.server.testing.Requests.awaitCount;
import static io.switchboard.server.testing.Requests.countOf;
import static io.switchboard.server.testing.Requests.publish;
import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Batched frames (PROTOCOL.md section 1a, {@code ?batch=1}) on a real node over loopback, with the
 * JDK's WebSocket client and a raw one: a batched frame splits into exactly the messages sent, in
 * order, whatever their content's whitespace; batched and unbatched subscribers of one channel both
 * get everything; a frame of requests is served line by line, each counted by the rate limit; and
 * the slow-consumer limits hold for the bytes a batched connection has corked. Each test has a node
 * of its own.
 */
@Timeout(120)
class BatchedFramesIT {

    /** A batched client: its frames, split into messages; checks that no message is empty. */
    static final class Batched implements AutoCloseable {
        final JdkClient client;
        final ArrayDeque<String> pending = new ArrayDeque<>();
        int frames;
        int largestFrame;

        Batched(InetSocketAddress address, String name) {
            client = JdkClient.connect(address, "?batch=1&client_name=" + name);
            assertTrue(next().startsWith("{\"status\":\"ok\",\"info\":{\"client_name\""));
        }

        /** The next message, from the current frame or the next one. */
        String next() {
            while (pending.isEmpty()) {
                String frame = client.next();
                frames++;
                String[] messages = frame.split("\n", -1);
                largestFrame = Math.max(largestFrame, messages.length);
                for (String m : messages) {
                    assertTrue(m.startsWith("{") && m.endsWith("}"), "a whole JSON object per line: [" + m + "]");
                    pending.add(m);
                }
            }
            return pending.poll();
        }

        /** Sends several requests in one frame, one per line. */
        void sendLines(List<String> requests) {
            client.send(String.join("\n", requests));
        }

        @Override
        public void close() {
            client.close();
        }
    }

    @Test
    void aBatchedFrameSplitsIntoExactlyTheMessagesSentInOrderWhateverTheirWhitespace() {
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder().maxMessagesPerSecond(0))) {
            InetSocketAddress address = server.localAddress();
            try (Batched batched = new Batched(address, "b");
                 JdkClient plain = JdkClient.connectAs(address, "p");
                 JdkClient publisher = JdkClient.connectAs(address, "pub")) {
                batched.client.send(subscribe("ws"));
                assertTrue(batched.next().contains("\"total_subscribers\":1"));
                plain.request(subscribe("ws"));
                publisher.request(subscribe("ws"));
                // Pretty-printed content: raw newlines and spaces between tokens; a string holding an
                // escaped newline, spaces, a quote, a backslash and braces, which must stay as they are.
                String pretty = "{\n  \"text\" : \"line one\\nline  two \\\" {x} \\\\\",\n\t\"n\": [1,\r\n 2 ]\n}";
                String compact = "{\"text\":\"line one\\nline  two \\\" {x} \\\\\",\"n\":[1,2]}";
                List<String> contents = List.of(pretty, "\"plain\"", "{\"a\": 1}", "[\n]", "42");
                // Content without a line break is relayed as it is, spaces included: only a raw newline costs a copy.
                List<String> compacted = List.of(compact, "\"plain\"", "{\"a\": 1}", "[]", "42");
                for (String c : contents) {
                    publisher.send(publish("ws", c));
                }
                for (int i = 0; i < contents.size(); i++) {
                    String b = batched.next();
                    assertFalse(b.contains("\n"));
                    assertTrue(b.startsWith("{\"sender\":\"pub\",\"channel_name\":\"ws\",\"sent_at\":\""), b);
                    assertTrue(b.endsWith(",\"content\":" + compacted.get(i) + "}"), b);
                    // The unbatched client gets the content byte for byte, one message per frame.
                    assertTrue(plain.next().endsWith(",\"content\":" + contents.get(i) + "}"));
                }
            }
        }
    }

    @Test
    void batchedAndUnbatchedSubscribersOfOneChannelBothGetEverythingInOrder() {
        int messages = 2000;
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder().maxMessagesPerSecond(0))) {
            InetSocketAddress address = server.localAddress();
            List<Batched> batched = new ArrayList<>();
            List<JdkClient> plain = new ArrayList<>();
            try (Batched publisher = new Batched(address, "pub")) {
                for (int i = 0; i < 3; i++) {
                    Batched b = new Batched(address, "b" + i);
                    batched.add(b);
                    b.client.send(subscribe("mixed"));
                    assertTrue(b.next().contains("\"total_subscribers\""));
                    JdkClient p = JdkClient.connectAs(address, "p" + i);
                    plain.add(p);
                    p.request(subscribe("mixed"));
                }
                publisher.client.send(subscribe("mixed"));
                assertTrue(publisher.next().contains("\"total_subscribers\":7"));
                // 100 publishes per frame: the publisher's oks and its own copies, in request order.
                for (int start = 0; start < messages; start += 100) {
                    List<String> frame = new ArrayList<>();
                    for (int i = start; i < start + 100; i++) {
                        frame.add(publish("mixed", "{\"i\":" + i + "}"));
                    }
                    publisher.sendLines(frame);
                    for (int i = start; i < start + 100; i++) {
                        assertEquals("{\"status\":\"ok\"}", publisher.next(), "the ok before its own copy");
                        assertTrue(publisher.next().endsWith("\"content\":{\"i\":" + i + "}}"));
                    }
                }
                // One frame of requests, served in one read: its answers share frames.
                assertTrue(publisher.largestFrame > 1, "several messages per frame: " + publisher.largestFrame);
                for (int i = 0; i < messages; i++) {
                    String suffix = "\"content\":{\"i\":" + i + "}}";
                    for (Batched b : batched) {
                        String m = b.next();
                        assertTrue(m.endsWith(suffix), "batched, message " + i + ": " + m);
                    }
                    for (JdkClient p : plain) {
                        String m = p.next();
                        assertTrue(m.endsWith(suffix), "unbatched, message " + i + ": " + m);
                    }
                }
            } finally {
                batched.forEach(Batched::close);
                plain.forEach(JdkClient::close);
            }
        }
    }

    /**
     * A frame of requests is served line by line, blank lines ignored, every other line (a bad one
     * too) taking a token. At five a second, seven in one frame: the first five pass, and the last
     * two are held to the limiter's rules ({@link RateLimits}): refused unless serving the frame
     * took over a fifth of a second, as it may on a loaded machine.
     */
    @Test
    void aFrameOfRequestsIsServedLineByLineAndEachCountsAgainstTheRateLimit() {
        int rate = 5;
        String limited = "{\"status\":\"error\",\"info\":{\"detail\":\"Too many messages: at most 5 per second\","
                + "\"code\":\"rate_limited\"}}";
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder()
                .maxMessagesPerSecond(rate))) {
            try (Batched c = new Batched(server.localAddress(), "lines")) {
                long start = System.nanoTime(); // the bucket is full (it holds no more) until the frame
                // Blank lines (and a CR before a newline) are ignored; a bad line is answered alone.
                c.client.send("{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"a\"},\"request_id\":\"1\"}\r\n\n"
                        + "not json\n  \n"
                        + "{\"action\":\"list\",\"request_id\":\"3\"}\n"
                        + "{\"action\":\"list\",\"request_id\":\"4\"}\n"
                        + "{\"action\":\"list\",\"request_id\":\"5\"}\n"
                        + "{\"action\":\"list\",\"request_id\":\"6\"}\n"
                        + "{\"action\":\"list\",\"request_id\":\"7\"}\n");
                List<Boolean> refused = new ArrayList<>();
                String m = c.next();
                assertTrue(m.contains("\"request_id\":\"1\"") || m.equals(limited), m);
                refused.add(m.equals(limited));
                m = c.next();
                assertTrue(m.contains("\"code\":\"invalid_json\"") || m.equals(limited), m);
                refused.add(m.equals(limited));
                for (String id : List.of("3", "4", "5", "6", "7")) {
                    m = c.next();
                    assertTrue(m.equals(limited)
                            || m.contains("\"request_id\":\"" + id + "\"") && m.contains("\"channels\":[\"a\"]"), m);
                    refused.add(m.equals(limited));
                }
                long elapsed = System.nanoTime() - start;
                int refusals = RateLimits.assertTheLimitersRules(rate, refused, elapsed);
                assertEquals(refusals, Requests.metric(server, "switchboard_errors_total{code=\"rate_limited\"}"),
                        "the refusals counted");
            }
        }
    }

    @Test
    void refusesABatchParameterOtherThanOneOrZero() throws Exception {
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder());
             RawClient raw = new RawClient(server.localAddress())) {
            String head = raw.upgrade("/api/connect?batch=yes");
            assertTrue(head.startsWith("HTTP/1.1 400 "), head);
        }
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder());
             JdkClient c = JdkClient.connect(server.localAddress(), "?batch=0&client_name=zero")) {
            assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"zero\"}}", c.next());
        }
    }

    @Test
    void closesABatchedSlowConsumerAtTheHardLimit() throws Exception {
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder()
                .maxMessagesPerSecond(0).outboundSoftLimitBytes(64 * 1024).outboundHardLimitBytes(2 * 1024 * 1024))) {
            try (RawClient slow = slowBatchedSubscriber(server.localAddress());
                 JdkClient fast = JdkClient.connectAs(server.localAddress(), "fast");
                 JdkClient publisher = JdkClient.connectAs(server.localAddress(), "pub")) {
                fast.request(subscribe("flood"));
                publisher.request(subscribe("flood"));
                assertEquals(3, countOf(publisher, "flood"));
                SlowConsumerIT.flood(publisher, fast);
                awaitCount(publisher, "flood", 2);
                assertTrue(SlowConsumerIT.metrics(server).contains("\nswitchboard_closes_total{reason=\"slow_consumer\"} 1.0\n"));
            }
        }
    }

    @Test
    void dropsABatchedSlowConsumersDeliveriesUnderTheDropPolicyAndHoldsNearTheSoftLimit() throws Exception {
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder()
                .maxMessagesPerSecond(0).slowConsumerPolicy(SlowConsumerPolicy.DROP))) {
            try (RawClient slow = slowBatchedSubscriber(server.localAddress());
                 JdkClient fast = JdkClient.connectAs(server.localAddress(), "fast");
                 JdkClient publisher = JdkClient.connectAs(server.localAddress(), "pub")) {
                fast.request(subscribe("flood"));
                publisher.request(subscribe("flood"));
                SlowConsumerIT.flood(publisher, fast);
                awaitCount(publisher, "flood", 3);
                String metrics = SlowConsumerIT.metrics(server);
                long pending = (long) Double.parseDouble(value(metrics, "switchboard_outbound_pending_bytes"));
                // The soft limit (1 MiB) plus at most one cork's worth written at the flush.
                assertTrue(pending < 2 * 1024 * 1024, pending + " bytes pending");
                assertTrue(Double.parseDouble(value(metrics, "switchboard_drops_total")) > 1000, metrics);
                // What it did get is whole messages, in publish order (gaps are the drops).
                int last = -1;
                for (int f = 0; f < 3; f++) {
                    RawClient.Frame frame = slow.readFrame();
                    if (frame.opcode() != RawClient.TEXT) {
                        continue;
                    }
                    for (String m : frame.text().split("\n", -1)) {
                        int i = Integer.parseInt(m.substring(m.indexOf("{\"i\":") + 5, m.indexOf(",\"pad\"")));
                        assertTrue(i > last, "in publish order");
                        last = i;
                    }
                }
            }
        }
    }

    @Test
    void aBatchedConnectionThatNegotiatedDeflateGetsItsFramesPlainAndTheOthersStayCompressed() throws Exception {
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder().compression(true))) {
            InetSocketAddress address = server.localAddress();
            try (RawClient batched = deflating(address, "?batch=1&client_name=bz");
                 RawClient plain = deflating(address, "?client_name=pz");
                 JdkClient publisher = JdkClient.connectAs(address, "pub")) {
                publisher.request(subscribe("z"));
                String content = "\"" + "compressible ".repeat(100) + "\"";
                publisher.send(publish("z", content));
                RawClient.Frame b = batched.readFrame();
                assertEquals(0, b.rsv(), "no RSV1: not compressed");
                assertTrue(b.text().endsWith("\"content\":" + content + "}"), b.text());
                RawClient.Frame p = plain.readFrame();
                assertTrue(p.rsv() != 0, "the unbatched connection's delivery is compressed, as before");
            }
        }
    }

    /** Connects offering permessage-deflate as browsers do, subscribes to "z" and reads the replies (plain: short). */
    private static RawClient deflating(InetSocketAddress address, String query) throws Exception {
        RawClient raw = new RawClient(address);
        raw.write(RawClient.upgradeRequest("/api/connect" + query).replace("\r\n\r\n",
                "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"));
        String head = raw.readHead();
        assertTrue(head.startsWith("HTTP/1.1 101 ") && head.contains("permessage-deflate"), head);
        raw.readText();
        raw.sendText(subscribe("z"));
        assertTrue(raw.readText().contains("\"total_subscribers\""));
        return raw;
    }

    @Test
    void withCorkFramesEveryUnbatchedSubscriberStillGetsEachMessageInItsOwnFrameInOrder() {
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder().maxMessagesPerSecond(0)
                .corkFrames(true))) {
            InetSocketAddress address = server.localAddress();
            try (JdkClient a = JdkClient.connectAs(address, "a");
                 JdkClient c = JdkClient.connectAs(address, "c");
                 Batched b = new Batched(address, "b");
                 JdkClient publisher = JdkClient.connectAs(address, "pub")) {
                a.request(subscribe("corked"));
                c.request(subscribe("corked"));
                b.client.send(subscribe("corked"));
                assertTrue(b.next().contains("\"total_subscribers\""));
                publisher.request(subscribe("corked"));
                for (int i = 0; i < 500; i++) {
                    publisher.send(publish("corked", "{\"i\":" + i + "}"));
                }
                for (int i = 0; i < 500; i++) {
                    assertEquals("{\"status\":\"ok\"}", publisher.next(), "the ok before its own copy");
                    String own = publisher.next();
                    assertTrue(own.startsWith("{\"sender\"") && own.endsWith("\"content\":{\"i\":" + i + "}}"), own);
                    for (JdkClient s : List.of(a, c)) {
                        String m = s.next();
                        assertTrue(m.startsWith("{\"sender\"") && m.endsWith("\"content\":{\"i\":" + i + "}}"), m);
                    }
                    assertTrue(b.next().endsWith("\"content\":{\"i\":" + i + "}}"));
                }
            }
        }
    }

    @Test
    void withCorkFramesASlowConsumerIsClosedAtTheHardLimit() throws Exception {
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder().corkFrames(true)
                .maxMessagesPerSecond(0).outboundSoftLimitBytes(64 * 1024).outboundHardLimitBytes(2 * 1024 * 1024))) {
            try (RawClient slow = SlowConsumerIT.slowSubscriber(server.localAddress());
                 JdkClient fast = JdkClient.connectAs(server.localAddress(), "fast");
                 JdkClient publisher = JdkClient.connectAs(server.localAddress(), "pub")) {
                fast.request(subscribe("flood"));
                publisher.request(subscribe("flood"));
                assertEquals(3, countOf(publisher, "flood"));
                SlowConsumerIT.flood(publisher, fast);
                awaitCount(publisher, "flood", 2);
                assertTrue(SlowConsumerIT.metrics(server).contains("\nswitchboard_closes_total{reason=\"slow_consumer\"} 1.0\n"));
            }
        }
    }

    private static String value(String metrics, String name) {
        int at = metrics.indexOf("\n" + name + " ") + name.length() + 2;
        return metrics.substring(at, metrics.indexOf('\n', at));
    }

    /** Connects batched with a 4 KB receive buffer, subscribes to "flood", and from then on does not read. */
    private static RawClient slowBatchedSubscriber(InetSocketAddress address) throws Exception {
        RawClient raw = new RawClient(address, 4096);
        assertTrue(raw.upgrade("/api/connect?batch=1&client_name=slow").startsWith("HTTP/1.1 101 "));
        raw.readText(); // the connection confirmation
        raw.sendText(subscribe("flood"));
        assertTrue(raw.readText().contains("\"total_subscribers\""));
        return raw;
    }
}
