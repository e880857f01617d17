package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.Requests;
import io.switchboard.server.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

import static io.switchboard.server.testing.Requests.publish;
import static io.switchboard.server.testing.Requests.subscribe;
import static io.switchboard.server.testing.Requests.unsubscribe;
import static io.switchboard.server.testing.Requests.awaitCount;
import static io.switchboard.server.testing.Requests.countOf;
import static io.switchboard.server.testing.Requests.metric;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PROTOCOL.md section 1 on a real server, over loopback, with a standard and a raw client. Each
 * test has a node of its own, so counts and listings hold its own channels only.
 */
@Timeout(60)
class MinichatsIT {

    private static final Pattern SENT_AT = Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");

    private SwitchboardServer server;
    private InetSocketAddress address;

    @BeforeEach
    void start() {
        server = Requests.startOnLoopback(SwitchboardConfig.builder().maxSubscriptionsPerConnection(3));
        address = server.localAddress();
    }

    @AfterEach
    void stop() {
        server.stop().join();
    }

    @Test
    void confirmsTheConnectionWithTheGivenName() {
        try (JdkClient c = JdkClient.connect(address, "?client_name=Alice")) {
            assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"Alice\"}}", c.next());
        }
    }

    @Test
    void confirmsAPercentEncodedUnicodeName() {
        try (JdkClient c = JdkClient.connect(address, "?client_name=Z%C3%B6e%20%22Z%22")) {
            assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"Z\u00f6e \\\"Z\\\"\"}}", c.next());
        }
    }

    @Test
    void generatesANameWhenNoneOrAnEmptyOneIsGiven() {
        for (String query : List.of("", "?client_name=", "?other=1")) {
            try (JdkClient c = JdkClient.connect(address, query)) {
                String m = c.next();
                assertTrue(m.matches("\\{\"status\":\"ok\",\"info\":\\{\"client_name\":\"guest-[0-9a-f]{6}\"}}"), m);
            }
        }
    }

    @Test
    void refusesAnInvalidClientNameWith400AndAJsonReason() throws Exception {
        assertRefusal("/api/connect?client_name=a%07b", "400 Bad Request",
                "{\"status\":\"error\",\"info\":{\"detail\":\"'client_name' must not contain control characters\","
                        + "\"code\":\"invalid_param\"}}");
        assertRefusal("/api/connect?client_name=" + "x".repeat(65), "400 Bad Request",
                "{\"status\":\"error\",\"info\":{\"detail\":\"'client_name' is longer than 64 bytes\","
                        + "\"code\":\"invalid_param\"}}");
        // 64 bytes is the limit, not over it.
        try (RawClient raw = new RawClient(address)) {
            assertTrue(raw.upgrade("/api/connect?client_name=" + "x".repeat(64)).startsWith("HTTP/1.1 101 "));
        }
        assertEquals(2.0, metric(server, "switchboard_refused_total{reason=\"invalid\"}"), "both refusals counted");
    }

    @Test
    void answersPlainHttpRequests() throws Exception {
        try (RawClient raw = new RawClient(address)) {
            raw.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            String page = raw.readToEnd();
            assertTrue(page.startsWith("HTTP/1.1 200 OK\r\n"), page);
            assertTrue(page.contains("GET /api/connect[?client_name=NAME][&batch=1]  WebSocket, minichats JSON pub-sub"), page);
        }
        assertRefusal("/nowhere", "404 Not Found", "No such endpoint: /nowhere");
        try (RawClient raw = new RawClient(address)) {
            raw.write("GET /api/connect HTTP/1.1\r\nHost: x\r\n\r\n");
            String response = raw.readToEnd();
            assertTrue(response.startsWith("HTTP/1.1 426 Upgrade Required\r\n"), response);
            assertTrue(response.contains("upgrade: websocket"), response);
        }
        try (RawClient raw = new RawClient(address)) {
            raw.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
            String response = raw.readToEnd();
            assertTrue(response.startsWith("HTTP/1.1 405 Method Not Allowed\r\n"), response);
            assertTrue(response.contains("allow: GET"), response);
        }
    }

    @Test
    void subscribesIdempotentlyAndCountsSubscribers() {
        try (JdkClient a = JdkClient.connectAs(address, "a"); JdkClient b = JdkClient.connectAs(address, "b")) {
            assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"idem\",\"total_subscribers\":1}}",
                    a.request(subscribe("idem")));
            assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"idem\",\"total_subscribers\":1}}",
                    a.request(subscribe("idem")));
            assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"idem\",\"total_subscribers\":2}}",
                    b.request(subscribe("idem")));
            assertEquals(2, countOf(a, "idem"));
        }
    }

    @Test
    void deliversToEverySubscriberAndThePublisherAfterItsOk() throws Exception {
        try (JdkClient alice = JdkClient.connectAs(address, "Alice"); JdkClient bob = JdkClient.connectAs(address, "Bob");
             JdkClient eve = JdkClient.connectAs(address, "Eve")) {
            alice.request(subscribe("room1"));
            bob.request(subscribe("room1"));
            eve.request(subscribe("elsewhere"));

            alice.send(publish("room1", "\"hi there\""));
            assertEquals("{\"status\":\"ok\"}", alice.next());
            String own = alice.next();
            String delivered = bob.next();
            assertEquals(own, delivered);
            String sentAt = assertDelivery("Alice", "room1", "\"hi there\"", delivered);
            assertTrue(SENT_AT.matcher(sentAt).matches(), sentAt);
            assertNull(eve.poll(200), "a subscriber of another channel gets nothing");
        }
    }

    @Test
    void relaysContentOfAnyJsonTypeByteForByte() {
        try (JdkClient a = JdkClient.connectAs(address, "a")) {
            a.request(subscribe("types"));
            for (String content : List.of("\"text \\\"q\\\" \\u00e9 \u2603\"", "42", "-1.50e+3",
                    "123456789012345678901234567890.000000000000000000001", "true", "false", "null",
                    "{ \"nested\" : [1, {\"deep\": [ ]}], \"s\":\"x\" }", "[]")) {
                assertEquals("{\"status\":\"ok\"}", a.request(publish("types", content)));
                assertDelivery("a", "types", content, a.next());
            }
        }
    }

    @Test
    void refusesToPublishWithoutASubscription() {
        try (JdkClient a = JdkClient.connectAs(address, "a")) {
            assertEquals("{\"status\":\"error\",\"info\":{\"detail\":\"Not subscribed to channel 'nosub'\","
                    + "\"code\":\"not_subscribed\"}}", a.request(publish("nosub", "1")));
        }
    }

    @Test
    void unsubscribesAndDeletesTheChannelWithItsLastSubscriber() {
        try (JdkClient a = JdkClient.connectAs(address, "a"); JdkClient b = JdkClient.connectAs(address, "b")) {
            a.request(subscribe("leaving"));
            b.request(subscribe("leaving"));
            assertEquals("{\"status\":\"ok\"}", a.request(unsubscribe("leaving")));
            assertEquals(1, countOf(a, "leaving"));
            assertEquals("{\"status\":\"error\",\"info\":{\"detail\":\"Not subscribed to channel 'leaving'\","
                    + "\"code\":\"not_subscribed\"}}", a.request(unsubscribe("leaving")));
            assertEquals("{\"status\":\"ok\"}", b.request(unsubscribe("leaving")));
            assertEquals(-1, countOf(a, "leaving"));
        }
    }

    @Test
    void deletesTheChannelWhenItsLastSubscriberDisconnects() throws Exception {
        try (JdkClient observer = JdkClient.connectAs(address, "o")) {
            JdkClient a = JdkClient.connectAs(address, "a");
            a.request(subscribe("vanishing"));
            assertEquals(1, countOf(observer, "vanishing"));
            a.abort();
            awaitCount(observer, "vanishing", -1);
        }
    }

    @Test
    void listsEveryChannelWithItsCountSortedByName() {
        try (JdkClient a = JdkClient.connectAs(address, "a"); JdkClient b = JdkClient.connectAs(address, "b")) {
            a.request(subscribe("zz-list"));
            a.request(subscribe("aa-list"));
            b.request(subscribe("aa-list"));
            b.request(subscribe("Mm-list"));
            assertEquals("{\"status\":\"ok\",\"info\":{\"channels\":[{\"channel_name\":\"Mm-list\",\"total_subscribers\":1},"
                    + "{\"channel_name\":\"aa-list\",\"total_subscribers\":2},"
                    + "{\"channel_name\":\"zz-list\",\"total_subscribers\":1}]}}",
                    a.request("{\"action\":\"list_channels\"}"), "byte order, upper case first");
        }
    }

    /**
     * PROTOCOL.md section 1: {@code list} answers the names of this connection's channels, as
     * strings, sorted as {@code list_channels} sorts them: the Mini Chats web client shows and
     * publishes to them (issue 20).
     */
    @Test
    void listsTheNamesOfTheConnectionsOwnChannels() {
        try (JdkClient a = JdkClient.connectAs(address, "a"); JdkClient b = JdkClient.connectAs(address, "b")) {
            String list = "{\"action\":\"list\"}";
            assertEquals("{\"status\":\"ok\",\"info\":{\"channels\":[]}}", a.request(list));
            a.request(subscribe("zz-own"));
            a.request(subscribe("\u00e9-own"));
            a.request(subscribe("Mm-own"));
            b.request(subscribe("b-only"));
            assertEquals("{\"status\":\"ok\",\"info\":{\"channels\":[\"Mm-own\",\"zz-own\",\"\u00e9-own\"]}}",
                    a.request(list), "byte order of UTF-8: upper case, lower case, then the accented name");
            assertEquals("{\"status\":\"ok\",\"request_id\":\"l\",\"info\":{\"channels\":[\"b-only\"]}}",
                    b.request("{\"action\":\"list\",\"request_id\":\"l\"}"));
            a.request(unsubscribe("zz-own"));
            assertEquals("{\"status\":\"ok\",\"info\":{\"channels\":[\"Mm-own\",\"\u00e9-own\"]}}", a.request(list));
        }
    }

    /** Like list_channels, the reply to list stops short of MAX_MESSAGE_BYTES and says it was truncated. */
    @Test
    void boundsTheListOfOwnChannelsByTheMessageLimit() {
        try (SwitchboardServer small = Requests.startOnLoopback(SwitchboardConfig.builder().maxMessageBytes(1024)
                .maxSubscriptionsPerConnection(10));
             JdkClient a = JdkClient.connectAs(small.localAddress(), "a")) {
            List<String> names = new java.util.ArrayList<>();
            for (int i = 0; i < 10; i++) {
                String name = String.format("%02d", i) + "x".repeat(118);
                names.add("\"" + name + "\"");
                a.request(subscribe(name));
            }
            // 35 bytes before the list, 122 a name, a comma between: 7 names end at byte 895, leaving
            // room for ],"truncated":true}} (20) within 1024; an 8th would end at 1018.
            String reply = a.request("{\"action\":\"list\"}");
            assertEquals("{\"status\":\"ok\",\"info\":{\"channels\":[" + String.join(",", names.subList(0, 7))
                    + "],\"truncated\":true}}", reply);
            assertEquals(915, reply.length());
        }
    }

    @Test
    void echoesTheRequestIdInEveryDirectReply() {
        try (JdkClient a = JdkClient.connectAs(address, "a")) {
            assertEquals("{\"status\":\"ok\",\"request_id\":\"s-1\",\"info\":{\"channel_name\":\"rid\","
                    + "\"total_subscribers\":1}}", a.request(
                    "{\"action\":\"subscribe\",\"request_id\":\"s-1\",\"params\":{\"channel_name\":\"rid\"}}"));
            assertEquals("{\"status\":\"ok\",\"request_id\":2}", a.request(
                    "{\"action\":\"publish\",\"request_id\":2,\"params\":{\"channel_name\":\"rid\",\"content\":0}}"));
            assertDelivery("a", "rid", "0", a.next());
            assertTrue(a.request("{\"request_id\":3.5,\"action\":\"list\"}")
                    .startsWith("{\"status\":\"ok\",\"request_id\":3.5,\"info\":{\"channels\":["));
            assertEquals("{\"status\":\"error\",\"request_id\":\"x\",\"info\":{\"detail\":\"Unknown action 'fly'\","
                    + "\"code\":\"unknown_action\"}}", a.request("{\"action\":\"fly\",\"request_id\":\"x\"}"));
            assertEquals("{\"status\":\"ok\",\"request_id\":4}", a.request(
                    "{\"action\":\"unsubscribe\",\"request_id\":4,\"params\":{\"channel_name\":\"rid\"}}"));
        }
    }

    @Test
    void answersBadRequestsWithErrorsAndKeepsTheConnection() {
        try (JdkClient a = JdkClient.connectAs(address, "a")) {
            assertEquals(error("invalid_json", "Malformed JSON at line 1, column 11: Unexpected character ('}' "
                    + "(code 125)): expected a value"), a.request("{\"action\":}"));
            assertEquals(error("invalid_request", "A request must be a JSON object"), a.request("[1]"));
            assertEquals(error("invalid_request", "Missing 'action'"), a.request("{\"params\":{}}"));
            assertEquals(error("unknown_action", "Unknown action 'dance'"), a.request("{\"action\":\"dance\"}"));
            assertEquals(error("missing_param", "Missing parameter 'channel_name'"),
                    a.request("{\"action\":\"subscribe\"}"));
            assertEquals(error("missing_param", "Missing parameter 'content'"),
                    a.request("{\"action\":\"publish\",\"params\":{\"channel_name\":\"c\"}}"));
            assertEquals(error("invalid_param", "'channel_name' is longer than 128 bytes"),
                    a.request(subscribe("c".repeat(129))));
            assertEquals(error("invalid_request", "JSON nesting is deeper than 32 levels"),
                    a.request(publish("c", "[".repeat(40) + "]".repeat(40))));
            assertTrue(a.request("{\"action\":\"list\"}").startsWith("{\"status\":\"ok\",\"info\":{\"channels\":["));
        }
    }

    /**
     * MAX_JSON_DEPTH and MAX_CHANNEL_NAME_BYTES on the node, at their boundaries (the decoder's
     * tests check them in detail), and counted in {@code errors_total{code}}.
     */
    @Test
    void refusesOneLevelOrOneByteOverTheDecodersLimitsAndCountsIt() {
        try (JdkClient a = JdkClient.connectAs(address, "a")) {
            String name128 = "c".repeat(128);
            assertTrue(a.request(subscribe(name128)).startsWith("{\"status\":\"ok\""), "128 bytes: allowed");
            assertEquals(error("invalid_param", "'channel_name' is longer than 128 bytes"),
                    a.request(subscribe(name128 + "c")));
            // The request is level 1, params level 2: content may nest 30 more.
            assertEquals("{\"status\":\"ok\"}", a.request(publish(name128, "[".repeat(30) + "]".repeat(30))));
            assertTrue(a.next().endsWith("\"content\":" + "[".repeat(30) + "]".repeat(30) + "}"), "its own copy");
            assertEquals(error("invalid_request", "JSON nesting is deeper than 32 levels"),
                    a.request(publish(name128, "[".repeat(31) + "]".repeat(31))));
        }
        assertEquals(1.0, metric(server, "switchboard_errors_total{code=\"invalid_param\"}"), "the long name counted");
        assertEquals(1.0, metric(server, "switchboard_errors_total{code=\"invalid_request\"}"), "the deep one counted");
    }

    @Test
    void answersABinaryFrameWithUnsupportedFrameAndKeepsTheConnection() {
        try (JdkClient a = JdkClient.connectAs(address, "a")) {
            a.sendBinary(new byte[] {1, 2, 3});
            assertEquals(error("unsupported_frame", "Binary frames are not supported: send requests as JSON text "
                    + "frames"), a.next());
            assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"bin\",\"total_subscribers\":1}}",
                    a.request(subscribe("bin")));
        }
    }

    @Test
    void refusesSubscriptionsOverThePerConnectionLimit() {
        try (JdkClient a = JdkClient.connectAs(address, "a")) {
            a.request(subscribe("lim1"));
            a.request(subscribe("lim2"));
            a.request(subscribe("lim3"));
            assertEquals(error("invalid_request", "Too many subscriptions: a connection may subscribe to at most 3 "
                    + "channels"), a.request(subscribe("lim4")));
            // Re-subscribing to a channel it has is still fine, and leaving one makes room.
            assertTrue(a.request(subscribe("lim3")).startsWith("{\"status\":\"ok\""));
            a.request(unsubscribe("lim1"));
            assertTrue(a.request(subscribe("lim4")).startsWith("{\"status\":\"ok\""));
        }
        assertEquals(1.0, metric(server, "switchboard_errors_total{code=\"invalid_request\"}"), "the refusal counted");
    }

    @Test
    void refusesAPublishWhoseDeliveryWouldExceedTheMessageLimit() {
        try (JdkClient a = JdkClient.connectAs(address, "a")) {
            a.request(subscribe("big"));
            // The delivery's envelope around the content: sender "a", channel "big", a 24-character sent_at.
            int envelope = ("{\"sender\":\"a\",\"channel_name\":\"big\",\"sent_at\":\"2026-01-01T00:00:00.000Z\","
                    + "\"content\":}").length();
            // A delivery of exactly 65536 bytes is allowed (its request, 20 bytes shorter, fits too) ...
            String fits = "\"" + "x".repeat(65_536 - envelope - 2) + "\"";
            assertEquals("{\"status\":\"ok\"}", a.request(publish("big", fits)));
            assertEquals(65_536, a.next().length(), "its own copy, at the limit");
            // ... and one byte more is refused.
            String content = "\"" + "x".repeat(65_536 - envelope - 1) + "\"";
            String reply = a.request(publish("big", content));
            assertEquals("{\"status\":\"error\",\"info\":{\"detail\":\"The delivery would be 65537 bytes, over the "
                    + "limit of 65536 bytes\",\"code\":\"message_too_large\"}}", reply);
            assertEquals("{\"status\":\"ok\"}", a.request(publish("big", "\"small\"")));
        }
        assertEquals(1.0, metric(server, "switchboard_errors_total{code=\"message_too_large\"}"), "the refusal counted");
    }

    @Test
    void closesWith1009WhenMessageTooLarge() throws Exception {
        try (RawClient raw = connectRaw()) {
            // A message of exactly MAX_MESSAGE_BYTES is read and answered (an unknown field is ignored) ...
            raw.sendFrame(RawClient.TEXT, true, padded(65_536));
            assertEquals("{\"status\":\"ok\",\"info\":{\"channels\":[]}}", raw.readText());
            // ... one byte more closes the connection.
            raw.sendFrame(RawClient.TEXT, true, padded(65_537));
            RawClient.Frame close = raw.readFrame();
            assertEquals(RawClient.CLOSE, close.opcode());
            assertEquals(1009, close.closeCode());
            assertTrue(raw.isClosedByServer());
        }
        assertEquals(1.0, metric(server, "switchboard_closes_total{reason=\"message_too_big\"}"), "the close counted");
    }

    @Test
    void closesWith1009WhenAFragmentedMessageGrowsTooLarge() throws Exception {
        try (RawClient raw = connectRaw()) {
            // Fragments that add up to exactly MAX_MESSAGE_BYTES make a message that is served ...
            byte[] fits = padded(65_536);
            raw.sendFrame(RawClient.TEXT, false, Arrays.copyOfRange(fits, 0, 40_000));
            raw.sendFrame(RawClient.CONTINUATION, true, Arrays.copyOfRange(fits, 40_000, fits.length));
            assertEquals("{\"status\":\"ok\",\"info\":{\"channels\":[]}}", raw.readText());
            // ... one byte more, and the connection is closed.
            byte[] over = padded(65_537);
            raw.sendFrame(RawClient.TEXT, false, Arrays.copyOfRange(over, 0, 40_000));
            raw.sendFrame(RawClient.CONTINUATION, true, Arrays.copyOfRange(over, 40_000, over.length));
            RawClient.Frame close = raw.readFrame();
            assertEquals(RawClient.CLOSE, close.opcode());
            assertEquals(1009, close.closeCode());
            assertEquals("Message is larger than 65536 bytes", close.closeReason());
            assertTrue(raw.isClosedByServer());
        }
        assertEquals(1.0, metric(server, "switchboard_closes_total{reason=\"message_too_big\"}"), "the close counted");
    }

    @Test
    void closesWith1007OnInvalidUtf8() throws Exception {
        try (RawClient raw = connectRaw()) {
            raw.sendFrame(RawClient.TEXT, true, new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}'});
            RawClient.Frame close = raw.readFrame();
            assertEquals(RawClient.CLOSE, close.opcode());
            assertEquals(1007, close.closeCode());
            assertTrue(raw.isClosedByServer());
        }
    }

    @Test
    void servesAFragmentedMessage() throws Exception {
        try (RawClient raw = connectRaw()) {
            byte[] request = subscribe("frag").getBytes(StandardCharsets.UTF_8);
            raw.sendFrame(RawClient.TEXT, false, Arrays.copyOfRange(request, 0, 10));
            raw.sendFrame(RawClient.PING, true, "mid".getBytes(StandardCharsets.UTF_8));
            raw.sendFrame(RawClient.CONTINUATION, true, Arrays.copyOfRange(request, 10, request.length));
            RawClient.Frame pong = raw.readFrame();
            assertEquals(RawClient.PONG, pong.opcode());
            assertEquals("mid", pong.text());
            assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"frag\",\"total_subscribers\":1}}",
                    raw.readText());
        }
    }

    @Test
    void echoesTheClientsCloseFrame() throws Exception {
        try (RawClient raw = connectRaw()) {
            raw.sendFrame(RawClient.CLOSE, true, new byte[] {0x03, (byte) 0xE8, 'b', 'y', 'e'});
            RawClient.Frame close = raw.readFrame();
            assertEquals(RawClient.CLOSE, close.opcode());
            assertEquals(1000, close.closeCode());
            assertTrue(raw.isClosedByServer());
        }
    }

    @Test
    void answersPipelinedRequestsInOrder() throws Exception {
        try (RawClient raw = connectRaw()) {
            StringBuilder expected = new StringBuilder();
            for (int i = 0; i < 50; i++) {
                raw.sendText("{\"action\":\"fly" + i + "\",\"request_id\":" + i + "}");
                expected.append(i).append(',');
            }
            StringBuilder actual = new StringBuilder();
            for (int i = 0; i < 50; i++) {
                String reply = raw.readText();
                actual.append(reply, reply.indexOf("\"request_id\":") + 13, reply.indexOf(",\"info\"")).append(',');
            }
            assertEquals(expected.toString(), actual.toString());
        }
    }

    /** A {@code list} request of exactly {@code bytes} bytes, padded with an ignored field. */
    private static byte[] padded(int bytes) {
        String head = "{\"action\":\"list\",\"pad\":\"";
        return (head + "x".repeat(bytes - head.length() - 2) + "\"}").getBytes(StandardCharsets.UTF_8);
    }

    private RawClient connectRaw() throws Exception {
        RawClient raw = new RawClient(address);
        String head = raw.upgrade("/api/connect?client_name=raw");
        assertTrue(head.startsWith("HTTP/1.1 101 Switching Protocols\r\n"), head);
        assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"raw\"}}", raw.readText());
        return raw;
    }

    /** Sends an upgrade request for {@code target} and checks the refusal's status and body. */
    private void assertRefusal(String target, String status, String bodyPart) throws Exception {
        try (RawClient raw = new RawClient(address)) {
            raw.write(RawClient.upgradeRequest(target));
            String response = raw.readToEnd();
            assertTrue(response.startsWith("HTTP/1.1 " + status + "\r\n"), response);
            assertTrue(response.contains("connection: close"), response);
            assertTrue(response.endsWith(bodyPart) || response.contains("\r\n\r\n" + bodyPart), response);
        }
    }

    /** Checks a delivery field by field and returns its sent_at. */
    private static String assertDelivery(String sender, String channel, String content, String delivery) {
        String prefix = "{\"sender\":\"" + sender + "\",\"channel_name\":\"" + channel + "\",\"sent_at\":\"";
        assertTrue(delivery.startsWith(prefix), delivery);
        String rest = delivery.substring(prefix.length());
        assertEquals("\",\"content\":" + content + "}", rest.substring(24));
        return rest.substring(0, 24);
    }

    private static String error(String code, String detail) {
        return "{\"status\":\"error\",\"info\":{\"detail\":\"" + detail + "\",\"code\":\"" + code + "\"}}";
    }

}
