package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** POST /api/publish, GET /api/channels and GET /api/presence on a real server. */
@Timeout(60)
class HttpApiIT {

    private static final String KEY = "test-key-0123456789";
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static SwitchboardServer server;
    private static String base;

    @BeforeAll
    static void start() {
        server = Requests.startOnLoopback(SwitchboardConfig.builder().apiKey(KEY));
        base = "http://127.0.0.1:" + server.localAddress().getPort();
    }

    @AfterAll
    static void stop() {
        server.stop().join();
    }

    @Test
    void publishesAsANamedSenderAndSaysHowManySubscribersItReached() {
        try (JdkClient a = JdkClient.connectAs(server.localAddress(), "a")) {
            a.request(subscribe("api-news"));
            HttpResponse<String> r = post("{\"channel_name\":\"api-news\",\"content\":{\"x\": [1]},\"sender\":\"backend\"}", KEY);
            assertEquals(200, r.statusCode());
            assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
            assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"api-news\",\"subscribers_reached\":1}}", r.body());
            String delivery = a.next();
            assertTrue(delivery.startsWith("{\"sender\":\"backend\",\"channel_name\":\"api-news\",\"sent_at\":\""), delivery);
            assertTrue(delivery.endsWith(",\"content\":{\"x\": [1]}}"), delivery);

            post("{\"channel_name\":\"api-news\",\"content\":\"hi\"}", KEY);
            assertTrue(a.next().startsWith("{\"sender\":\"api\","), "the default sender");
        }
        assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"nobody\",\"subscribers_reached\":0}}",
                post("{\"channel_name\":\"nobody\",\"content\":1}", KEY).body());
    }

    @Test
    void listsChannels() {
        try (JdkClient a = JdkClient.connectAs(server.localAddress(), "a")) {
            a.request(subscribe("api-listed"));
            HttpResponse<String> r = get("/api/channels", KEY);
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("{\"channel_name\":\"api-listed\",\"total_subscribers\":1}"), r.body());
        }
    }

    /** The body of the WebSocket {@code presence} reply (PROTOCOL.md section 1a), for backends. */
    @Test
    void listsAChannelsMembersAsThePresenceActionDoes() {
        try (JdkClient a = JdkClient.connectAs(server.localAddress(), "ann")) {
            a.request(subscribe("api-presence"));
            String ws = a.request("{\"action\":\"presence\",\"params\":{\"channel_name\":\"api-presence\"}}");
            assertTrue(ws.matches("\\{\"status\":\"ok\",\"info\":\\{\"channel_name\":\"api-presence\",\"clients\":\\["
                    + "\\{\"client_id\":\"[0-9a-f-]{36}\",\"client_name\":\"ann\",\"dialect\":\"minichats\"}]}}"), ws);
            HttpResponse<String> r = get("/api/presence?channel_name=api-presence", KEY);
            assertEquals(200, r.statusCode());
            assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
            assertEquals(ws, r.body());
        }
        // Names are percent-decoded; a channel nobody is in has no members.
        assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"caf\u00e9 au lait\",\"clients\":[]}}",
                get("/api/presence?channel_name=caf%C3%A9%20au%20lait", KEY).body());
        assertEquals("{\"status\":\"error\",\"info\":{\"detail\":\"Missing parameter 'channel_name'\","
                + "\"code\":\"missing_param\"}}", get("/api/presence", KEY).body());
        assertError(400, "missing_param", get("/api/presence?channel=x", KEY));
        assertError(400, "invalid_param", get("/api/presence?channel_name=", KEY));
        assertEquals(200, get("/api/presence?channel_name=" + "n".repeat(128), KEY).statusCode(), "128 bytes");
        assertEquals("{\"status\":\"error\",\"info\":{\"detail\":\"'channel_name' is longer than 128 bytes\","
                + "\"code\":\"invalid_param\"}}", get("/api/presence?channel_name=" + "n".repeat(129), KEY).body());
        assertEquals(401, get("/api/presence?channel_name=api-presence", null).statusCode());
        HttpResponse<String> post = send(HttpRequest.newBuilder(URI.create(base + "/api/presence?channel_name=x"))
                .POST(HttpRequest.BodyPublishers.noBody()).header("Authorization", "Bearer " + KEY).build());
        assertEquals(405, post.statusCode());
        assertEquals("GET", post.headers().firstValue("allow").orElse(""));
    }

    @Test
    void refusesAMissingOrWrongKeyWith401() {
        for (String key : new String[] {null, "wrong-key-0123456789", KEY + "x"}) {
            HttpResponse<String> r = get("/api/channels", key);
            assertEquals(401, r.statusCode());
            assertEquals("Bearer", r.headers().firstValue("www-authenticate").orElse(""));
            assertEquals("{\"status\":\"error\",\"info\":{\"detail\":\"Missing or wrong API key: send 'Authorization: "
                    + "Bearer <key>'\",\"code\":\"unauthorized\"}}", r.body());
            assertEquals(401, post("{\"channel_name\":\"c\",\"content\":1}", key).statusCode());
        }
    }

    @Test
    void answersBadBodiesWith400AndAJsonError() {
        assertError(400, "invalid_json", post("nope", KEY));
        assertError(400, "missing_param", post("{\"content\":1}", KEY));
        assertError(400, "invalid_param", post("{\"channel_name\":\"\",\"content\":1}", KEY));
        assertEquals("{\"status\":\"error\",\"info\":{\"detail\":\"Missing parameter 'content'\","
                + "\"code\":\"missing_param\"}}", post("{\"channel_name\":\"c\"}", KEY).body());
    }

    @Test
    void answersOverSizeBodiesAndDeliveriesWith413() {
        assertEquals(413, post("{\"channel_name\":\"c\",\"content\":\"" + "x".repeat(70_000) + "\"}", KEY).statusCode());
        // The body fits in 64 KiB, the delivery with its envelope would not: a delivery of exactly
        // MAX_MESSAGE_BYTES is published, one byte more is refused and counted.
        int envelope = "{\"sender\":\"api\",\"channel_name\":\"c413\",\"sent_at\":\"2026-01-01T00:00:00.000Z\",\"content\":}"
                .length();
        double before = Requests.metric(server, "switchboard_errors_total{code=\"message_too_large\"}");
        HttpResponse<String> fits = post("{\"channel_name\":\"c413\",\"content\":\"" + "x".repeat(65_536 - envelope - 2)
                + "\"}", KEY);
        assertEquals(200, fits.statusCode(), fits.body());
        HttpResponse<String> over = post("{\"channel_name\":\"c413\",\"content\":\"" + "x".repeat(65_536 - envelope - 1)
                + "\"}", KEY);
        assertEquals("{\"status\":\"error\",\"info\":{\"detail\":\"The delivery would be 65537 bytes, over the limit "
                + "of 65536 bytes\",\"code\":\"message_too_large\"}}", over.body());
        assertError(413, "message_too_large", over);
        assertEquals(before + 1, Requests.metric(server, "switchboard_errors_total{code=\"message_too_large\"}"),
                "the refusal counted");
    }

    @Test
    void allowsOnlyTheRightMethods() {
        HttpResponse<String> r = get("/api/publish", KEY);
        assertEquals(405, r.statusCode());
        assertEquals("POST", r.headers().firstValue("allow").orElse(""));
    }

    @Test
    void isOffWithoutAKey() {
        try (SwitchboardServer plain = Requests.startOnLoopback(SwitchboardConfig.builder())) {
            HttpResponse<String> r = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + plain.localAddress().getPort() + "/api/channels")).header("Authorization", "Bearer " + KEY).build());
            assertEquals(404, r.statusCode());
            assertEquals("The HTTP API is off: the server has no API_KEY.\n", r.body());
        }
    }

    private static void assertError(int status, String code, HttpResponse<String> r) {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.body().startsWith("{\"status\":\"error\",\"info\":{\"detail\":\"")
                && r.body().endsWith("\",\"code\":\"" + code + "\"}}"), r.body());
    }

    private static HttpResponse<String> post(String body, String key) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + "/api/publish"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return send(b.build());
    }

    private static HttpResponse<String> get(String path, String key) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return send(b.build());
    }

    private static HttpResponse<String> send(HttpRequest request) {
        try {
            return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
