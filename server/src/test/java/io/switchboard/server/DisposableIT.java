package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.RateLimits;
import io.switchboard.server.testing.RawClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.net.URI;
import java.util.List;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PROTOCOL.md section 2, the disposable dialect, on a real server over loopback with the JDK's
 * WebSocket client, frame for frame as disposable-chat-server writes them. Each test has a node
 * of its own, so its rooms and counts hold its own members only.
 */
@Timeout(60)
class DisposableIT {

    private static final Pattern UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final Pattern MEMBER = Pattern.compile("\\{\"id\":\"([^\"]+)\",\"name\":\"([^\"]+)\"}");
    private static final String SEED_400 = "Provide `name` and `room` query parameters, with size between 3 and 30 "
            + "characters. `room` must contain only alphanumeric, hyphen and underscore characters.";

    private SwitchboardServer server;
    private InetSocketAddress address;

    @BeforeEach
    void start() {
        server = Requests.startOnLoopback(SwitchboardConfig.builder());
        address = server.localAddress();
    }

    @AfterEach
    void stop() {
        server.stop().join();
    }

    /** A member as the client knows it: its id (from the server) and name. */
    record Member(JdkClient client, String id, String name) implements AutoCloseable {
        String json() {
            return "{\"id\":\"" + id + "\",\"name\":\"" + name + "\"}";
        }

        @Override
        public void close() {
            client.close();
        }
    }

    JdkClient open(String name, String room) {
        return JdkClient.connect(URI.create("ws://127.0.0.1:" + address.getPort() + "/ws?name=" + name + "&room=" + room));
    }

    /** Joins and checks the welcome lists {@code others} and the new member, then its own info. */
    Member join(String name, String room, Member... others) {
        JdkClient c = open(name, room);
        String welcome = c.next();
        String prefix = "{\"type\":\"welcome\",\"data\":{\"room\":{\"name\":\"" + room + "\",\"activeClients\":[";
        assertTrue(welcome.startsWith(prefix) && welcome.endsWith("]}}}"), welcome);
        Set<String> listed = new HashSet<>();
        Matcher m = MEMBER.matcher(welcome.substring(prefix.length(), welcome.length() - 4));
        String id = null;
        while (m.find()) {
            listed.add(m.group());
            if (m.group(2).equals(name) && !isOneOf(m.group(1), others)) {
                id = m.group(1);
            }
        }
        assertTrue(id != null && UUID.matcher(id).matches(), welcome);
        Member self = new Member(c, id, name);
        Set<String> expected = new HashSet<>();
        expected.add(self.json());
        for (Member o : others) {
            expected.add(o.json());
        }
        assertEquals(expected, listed, welcome);
        assertEquals(info(room, self, "registered"), c.next());
        for (Member o : others) {
            assertEquals(info(room, self, "registered"), o.client.next());
        }
        return self;
    }

    private static boolean isOneOf(String id, Member... members) {
        for (Member o : members) {
            if (o.id.equals(id)) {
                return true;
            }
        }
        return false;
    }

    static String info(String room, Member m, String action) {
        return "{\"type\":\"info\",\"data\":{\"room\":{\"name\":\"" + room + "\"},\"client\":" + m.json()
                + ",\"action\":\"" + action + "\"}}";
    }

    static String chat(String room, Member m, String text) {
        return "{\"type\":\"chat\",\"data\":{\"room\":{\"name\":\"" + room + "\"},\"client\":" + m.json()
                + ",\"text\":" + text + "}}";
    }

    static String error(String text) {
        return "{\"type\":\"error\",\"data\":{\"text\":\"" + text + "\"}}";
    }

    @Test
    void welcomesWithTheRoomsMembersAndTellsTheRoomOfEachNewOne() {
        try (Member ann = join("ann", "welcome-room");
             Member bob = join("bob", "welcome-room", ann);
             Member cy = join("cy-3", "welcome-room", ann, bob);
             JdkClient lister = JdkClient.connectAs(address, "lister")) {
            assertEquals(3, Requests.countOf(lister, "welcome-room"));
        }
    }

    @Test
    void aChatReachesTheWholeRoomSenderIncludedAndNoOtherRoom() throws Exception {
        try (Member ann = join("ann", "chat-room");
             Member bob = join("bob", "chat-room", ann);
             Member other = join("eve", "other-room")) {
            ann.client.send("{\"text\":\"hello \\\"bob\\\" \u00e9\u4e16\"}");
            String expected = chat("chat-room", ann, "\"hello \\\"bob\\\" \u00e9\u4e16\"");
            assertEquals(expected, ann.client.next());
            assertEquals(expected, bob.client.next());
            bob.client.send("{\"ignored\":[1,{\"x\":2}],\"text\":\"hi\"}");
            assertEquals(chat("chat-room", bob, "\"hi\""), ann.client.next());
            assertEquals(chat("chat-room", bob, "\"hi\""), bob.client.next());
            assertNull(other.client.poll(300), "another room hears nothing");
        }
    }

    @Test
    void answersAnInvalidMessageWithAnErrorToTheSenderOnly() throws Exception {
        try (Member ann = join("ann", "error-room");
             Member bob = join("bob", "error-room", ann)) {
            assertEquals(error("'text' must not be empty"), ann.client.request("{\"text\":\"\"}"));
            assertEquals(error("'text' must not be empty"), ann.client.request("{\"other\":1}"));
            assertEquals(error("'text' must not be empty"), ann.client.request("{\"text\":null}"));
            assertEquals(error("'text' must not contain over 300 characters"),
                    ann.client.request("{\"text\":\"" + "x".repeat(301) + "\"}"));
            assertEquals(error("'text' must be a string"), ann.client.request("{\"text\":5}"));
            String notAMessage = error("A message must be a JSON object like {\\\"text\\\": \\\"hello\\\"}");
            assertEquals(notAMessage, ann.client.request("not json"));
            assertEquals(notAMessage, ann.client.request("[\"text\"]"));
            assertEquals(notAMessage, ann.client.request("{\"text\":\"a\"} trailing"));
            ann.client.sendBinary(new byte[] {1, 2});
            assertEquals(error("Binary frames are not supported: send {\\\"text\\\": \\\"...\\\"} in a text frame"),
                    ann.client.next());
            assertNull(bob.client.poll(200), "errors go to the sender only");

            // 300 characters, counted as characters: 300 emoji are 1,200 bytes of UTF-8.
            String emoji = "\uD83D\uDE00".repeat(300);
            ann.client.send("{\"text\":\"" + emoji + "\"}");
            assertEquals(chat("error-room", ann, "\"" + emoji + "\""), bob.client.next());
            assertEquals(chat("error-room", ann, "\"" + emoji + "\""), ann.client.next());

            // Each error counted by its reason as it is sent; the 300 characters are not an error.
            assertEquals(3.0, errors("empty"));
            assertEquals(1.0, errors("too_long"), "301 characters refused, 300 taken");
            assertEquals(4.0, errors("invalid"));
            assertEquals(1.0, errors("binary"));
        }
    }

    private double errors(String reason) {
        return Requests.metric(server, "switchboard_disposable_errors_total{reason=\"" + reason + "\"}");
    }

    @Test
    void tellsTheRoomOnceWhenAMemberLeavesOrDrops() throws Exception {
        try (Member ann = join("ann", "leave-room")) {
            Member bob = join("bob", "leave-room", ann);
            bob.client.abort(); // no close handshake: a dropped connection
            assertEquals(info("leave-room", bob, "unregistered"), ann.client.next());
            Member cy = join("cyd", "leave-room", ann);
            cy.client.close();
            assertEquals(info("leave-room", cy, "unregistered"), ann.client.next());
            assertNull(ann.client.poll(500), "one unregistered per leave");
        }
        // The room went with its last member.
        try (JdkClient lister = JdkClient.connectAs(address, "lister")) {
            Requests.awaitCount(lister, "leave-room", -1);
        }
    }

    @Test
    void refusesAnInvalidNameOrRoomWith400AndTheSeedsReason() throws Exception {
        assertRefused(address, "/ws?name=ab&room=valid", "400 Bad Request", SEED_400 + " (`name` has 2 characters)");
        assertRefused(address, "/ws?name=valid&room=" + "r".repeat(31), "400 Bad Request",
                SEED_400 + " (`room` has 31 characters)");
        assertRefused(address, "/ws?name=valid&room=a%20b%20c", "400 Bad Request",
                SEED_400 + " (`room` has a character other than a-z, A-Z, 0-9, '-' and '_')");
        assertRefused(address, "/ws?name=valid&room=caf%C3%A9", "400 Bad Request",
                SEED_400 + " (`room` has a character other than a-z, A-Z, 0-9, '-' and '_')");
        assertRefused(address, "/ws?name=valid", "400 Bad Request", SEED_400 + " (`room` is missing)");
        assertRefused(address, "/ws?room=valid", "400 Bad Request", SEED_400 + " (`name` is missing)");
        assertRefused(address, "/ws?name=%20%20ab%20%20&room=valid", "400 Bad Request",
                SEED_400 + " (`name` has 2 characters)");
    }

    /** Each bound of `name` and `room` at its boundary: 3 and 30 characters allowed, 2 and 31 refused. */
    @Test
    void takesNamesAndRoomsOf3To30Characters() throws Exception {
        try (JdkClient c = open("n".repeat(30), "r".repeat(30))) {
            assertTrue(c.next().startsWith("{\"type\":\"welcome\",\"data\":{\"room\":{\"name\":\"" + "r".repeat(30)));
        }
        try (JdkClient c = open("abc", "r_3")) {
            assertTrue(c.next().startsWith("{\"type\":\"welcome\",\"data\":{\"room\":{\"name\":\"r_3\""));
        }
        assertRefused(address, "/ws?name=" + "n".repeat(31) + "&room=valid", "400 Bad Request",
                SEED_400 + " (`name` has 31 characters)");
        assertRefused(address, "/ws?name=valid&room=ab", "400 Bad Request", SEED_400 + " (`room` has 2 characters)");
        assertEquals(2.0, Requests.metric(server, "switchboard_refused_total{reason=\"invalid\"}"), "both refusals counted");
    }

    /** dialects.md, "disposable": a room is held to MAX_CHANNEL_NAME_BYTES too (8 here: 8 allowed, 9 refused). */
    @Test
    void holdsARoomToTheChannelNameLimit() throws Exception {
        try (SwitchboardServer small = Requests.startOnLoopback(SwitchboardConfig.builder().maxChannelNameBytes(8));
             JdkClient c = JdkClient.connect(URI.create("ws://127.0.0.1:" + small.localAddress().getPort()
                     + "/ws?name=ann&room=abcdefgh"))) {
            assertTrue(c.next().startsWith("{\"type\":\"welcome\""));
            assertRefused(small.localAddress(), "/ws?name=ann&room=abcdefghi", "400 Bad Request",
                    SEED_400 + " (`room` is longer than 8 bytes)");
        }
    }

    /**
     * dialects.md, "disposable": a message over the rate limit gets an `error`; a second's worth in
     * a row closes 1008. One message at a time, each once the previous one is answered (an accepted
     * one comes back to its sender as a chat), held to the limiter's rules ({@link RateLimits}).
     */
    @Test
    void answersMessagesOverTheRateWithAnErrorThenCloses() {
        int rate = 3;
        String limited = error("Too many messages: at most 3 per second");
        try (SwitchboardServer node = Requests.startOnLoopback(SwitchboardConfig.builder()
                .maxMessagesPerSecond(rate))) {
            long elapsed;
            List<String> replies;
            try (JdkClient c = JdkClient.connect(URI.create("ws://127.0.0.1:" + node.localAddress().getPort()
                    + "/ws?name=ann&room=rate"))) {
                String welcome = c.next();
                Matcher m = MEMBER.matcher(welcome);
                assertTrue(m.find(), welcome);
                Member ann = new Member(c, m.group(1), "ann");
                assertEquals(info("rate", ann, "registered"), c.next());
                long start = System.nanoTime(); // the bucket is full (it holds no more) until the first message
                replies = RateLimits.exchangeUntilClosed(c, i -> "{\"text\":\"m" + i + "\"}");
                assertEquals(1008, c.awaitClose());
                elapsed = System.nanoTime() - start;
                assertEquals("Rate limit exceeded", c.closeReason());
                for (int i = 0; i < replies.size(); i++) {
                    String r = replies.get(i);
                    assertTrue(r.equals(limited) || r.equals(chat("rate", ann, "\"m" + i + "\"")), r);
                }
            }
            int refused = RateLimits.assertTheLimitersRulesUpToTheClose(rate,
                    replies.stream().map(limited::equals).toList(), elapsed);
            assertEquals(refused, Requests.metric(node, "switchboard_disposable_errors_total{reason=\"rate_limited\"}"),
                    "the refusals counted");
            assertEquals(1.0, Requests.metric(node, "switchboard_closes_total{reason=\"rate_limit\"}"),
                    "the close counted");
        }
    }

    @Test
    void trimsTheParametersAndCountsCharactersNotBytes() {
        // "  Zoë " is 3 characters once trimmed (4 bytes): accepted, and named without the spaces.
        try (JdkClient c = open("%20%20Zo%C3%AB%20", "%20trim_room-2%20")) {
            String welcome = c.next();
            assertTrue(welcome.startsWith("{\"type\":\"welcome\",\"data\":{\"room\":{\"name\":\"trim_room-2\","
                    + "\"activeClients\":[{\"id\":\""), welcome);
            assertTrue(welcome.endsWith("\",\"name\":\"Zo\u00eb\"}]}}}"), welcome);
        }
    }

    @Test
    void answersHealth() throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + address.getPort() + "/health")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
    }

    @Test
    void checksTheOriginWhenAcceptedOriginIsSet() throws Exception {
        try (SwitchboardServer strict = Requests.startOnLoopback(SwitchboardConfig.builder()
                .acceptedOrigins(java.util.List.of("https://chat.example")))) {
            InetSocketAddress a = strict.localAddress();
            assertRefused(a, "/ws?name=ann&room=origin", "403 Forbidden",
                    "The Origin header is missing: only pages from the accepted origins may connect");
            try (RawClient raw = new RawClient(a)) {
                raw.write(upgrade("/ws?name=ann&room=origin", "https://evil.example"));
                String response = raw.readToEnd();
                assertTrue(response.startsWith("HTTP/1.1 403 Forbidden\r\n"), response);
                assertTrue(response.endsWith("Origin 'https://evil.example' is not allowed to connect"), response);
            }
            try (RawClient raw = new RawClient(a)) {
                raw.write(upgrade("/ws?name=ann&room=origin", "https://chat.example"));
                assertTrue(raw.readHead().startsWith("HTTP/1.1 101 Switching Protocols\r\n"));
                assertTrue(raw.readText().startsWith("{\"type\":\"welcome\""));
            }
        }
    }

    @Test
    void pingsAndDropsAPeerThatNeverAnswers() throws Exception {
        try (SwitchboardServer pinging = Requests.startOnLoopback(SwitchboardConfig.builder()
                .pingInterval(Duration.ofMillis(200)).pingTimeout(Duration.ofMillis(300)));
             RawClient mute = new RawClient(pinging.localAddress())) {
            assertTrue(mute.upgrade("/ws?name=mute&room=pings").startsWith("HTTP/1.1 101"));
            assertTrue(mute.readText().startsWith("{\"type\":\"welcome\""));
            assertTrue(mute.readText().startsWith("{\"type\":\"info\""));
            RawClient.Frame f;
            do {
                f = mute.readFrame(); // pings, which a mute peer leaves unanswered
            } while (f.opcode() == 0x9);
            assertEquals(0x8, f.opcode());
            assertEquals(1001, f.closeCode());
            assertEquals("ping timeout", f.closeReason());
        }
    }

    private static String upgrade(String target, String origin) {
        return RawClient.upgradeRequest(target).replace("\r\n\r\n", "\r\nOrigin: " + origin + "\r\n\r\n");
    }

    private static void assertRefused(InetSocketAddress a, String target, String status, String body) throws Exception {
        try (RawClient raw = new RawClient(a)) {
            raw.write(RawClient.upgradeRequest(target));
            String response = raw.readToEnd();
            assertTrue(response.startsWith("HTTP/1.1 " + status + "\r\n"), response);
            assertTrue(response.endsWith("\r\n\r\n" + body), response);
        }
    }
}
