package io.switchboard.server;

import io.switchboard.server.testing.RawClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An unpaired surrogate ({@code "\\ud800"}, {@code "\\udc00"}, a high one before a non-low one) in a
 * request is refused in every dialect's own error shape, and the connection goes on serving
 * (issue 15: it used to end in {@code internal}, silence or an unanswered HTTP request).
 */
@Timeout(60)
public class UnpairedSurrogateIT {

    private static final String KEY = "surrogate-test-api-key";
    private static final Pattern CONTENT_LENGTH = Pattern.compile("(?i)content-length: (\\d+)");

    @TempDir
    static Path data;
    private static SwitchboardServer server;
    private static InetSocketAddress address;

    @BeforeAll
    static void start() {
        server = Requests.startOnLoopback(SwitchboardConfig.builder().apiKey(KEY).dataDir(data));
        address = server.localAddress();
    }

    @AfterAll
    static void stop() {
        server.stop().join();
    }

    @Test
    void minichatsAnswersInvalidJsonAndServesTheNextRequest() throws Exception {
        double before = Requests.metric(server, "switchboard_errors_total{code=\"invalid_json\"}");
        try (RawClient c = new RawClient(address)) {
            assertTrue(c.upgrade("/api/connect?client_name=Ann").startsWith("HTTP/1.1 101 "));
            assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"Ann\"}}", c.readText());
            c.sendText("{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"\\ud800\"},\"request_id\":1}");
            assertEquals("{\"status\":\"error\",\"request_id\":1,\"info\":{\"detail\":\"Malformed JSON at line 1, column 49: "
                    + "a string has an unpaired surrogate, which is not Unicode text\",\"code\":\"invalid_json\"}}",
                    c.readText());
            c.sendText("{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"lone\"}}");
            assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"lone\",\"total_subscribers\":1}}", c.readText());
            for (String content : new String[] {"\"\\udc00\"", "{\"k\":\"\\ud800\\u0041\"}"}) {
                c.sendText("{\"action\":\"publish\",\"params\":{\"channel_name\":\"lone\",\"content\":" + content + "}}");
                assertTrue(c.readText().endsWith("\"code\":\"invalid_json\"}}"), content);
            }
            c.sendText("{\"action\":\"publish\",\"params\":{\"channel_name\":\"lone\",\"content\":\"\\ud83d\\ude00\"}}");
            assertEquals("{\"status\":\"ok\"}", c.readText());
            assertTrue(c.readText().endsWith("\"content\":\"\\ud83d\\ude00\"}"), "the pair is relayed as it came");
        }
        assertEquals(before + 3, Requests.metric(server, "switchboard_errors_total{code=\"invalid_json\"}"), "each counted");
    }

    @Test
    void disposableAnswersAnErrorFrameAndServesTheNextMessage() throws Exception {
        String counted = "switchboard_disposable_errors_total{reason=\"not_unicode\"}";
        double before = Requests.metric(server, counted);
        try (RawClient c = new RawClient(address)) {
            assertTrue(c.upgrade("/ws?name=Ann&room=surrogates").startsWith("HTTP/1.1 101 "));
            assertTrue(c.readText().startsWith("{\"type\":\"welcome\""));
            assertTrue(c.readText().startsWith("{\"type\":\"info\""));
            c.sendText("{\"text\":\"\\ud800\"}");
            assertEquals("{\"type\":\"error\",\"data\":{\"text\":\"A message must be Unicode text: it has a string with an "
                    + "unpaired surrogate, such as \\\"\\\\ud800\\\"\"}}", c.readText());
            c.sendText("{\"text\":\"hello\"}");
            String chat = c.readText();
            assertTrue(chat.startsWith("{\"type\":\"chat\"") && chat.endsWith(",\"text\":\"hello\"}}"), chat);
        }
        assertEquals(before + 1, Requests.metric(server, counted), "counted");
    }

    @Test
    void chatroomWritesTheErrorToTheClientsMessageTopicAndServesTheNextMessage() throws Exception {
        try (RawClient c = new RawClient(address)) {
            assertTrue(c.upgrade("/chatroom").startsWith("HTTP/1.1 101 "));
            Matcher hello = Pattern.compile("\\{\"type\":\"hello\",\"content\":\\{\"id\":(\\d+)}}").matcher(c.readText());
            assertTrue(hello.matches());
            String own = "_chatroom/client_message/" + hello.group(1);
            c.sendText("{\"type\":\"subscribe\",\"content\":{\"topic_name\":\"" + own + "\",\"type\":\"string\"}}");
            c.readText(); // the topic's snapshot
            c.sendText("{\"type\":\"subscribe\",\"content\":{\"topic_name\":\"\\ud800\"}}");
            assertEquals("{\"type\":\"update\",\"content\":{\"topic_name\":\"" + own + "\",\"change\":{\"type\":\"set\","
                    + "\"value\":\"[error] Malformed JSON: a string has an unpaired surrogate, such as \\\"\\\\ud800\\\", "
                    + "which is not Unicode text\",\"version\":1}}}", c.readText());
            c.sendText("{\"type\":\"subscribe\",\"content\":{\"topic_name\":\"surrogate-free\",\"type\":\"int\"}}");
            assertEquals("{\"type\":\"update\",\"content\":{\"topic_name\":\"surrogate-free\",\"change\":{\"type\":\"set\","
                    + "\"value\":0,\"version\":0}}}", c.readText());
        }
    }

    @Test
    void randomchatAnswersAnErrorAndServesTheNextRequest() throws Exception {
        try (RawClient c = new RawClient(address)) {
            assertTrue(c.upgrade("/randomchat").startsWith("HTTP/1.1 101 "));
            c.sendText("{\"type\":\"register\",\"user\":{\"name\":\"\\ud800\",\"phone\":\"surrogate-1\"}}");
            assertEquals("{\"type\":\"error\",\"message\":\"A request must be Unicode text: it has a string with an "
                    + "unpaired surrogate, such as \\\"\\\\ud800\\\"\",\"request\":\"register\"}", c.readText());
            c.sendText("{\"type\":\"register\",\"user\":{\"name\":\"Ann\",\"phone\":\"surrogate-1\"}}");
            assertTrue(c.readText().startsWith("{\"type\":\"state\""));
        }
    }

    @Test
    void theHttpApiAnswers400WithTheJsonErrorAndServesTheNextRequest() throws Exception {
        double before = Requests.metric(server, "switchboard_errors_total{code=\"invalid_json\"}");
        assertEquals("400 {\"status\":\"error\",\"info\":{\"detail\":\"Malformed JSON at line 1, column 18: a string "
                + "has an unpaired surrogate, which is not Unicode text\",\"code\":\"invalid_json\"}}",
                post("{\"channel_name\":\"\\ud800\",\"content\":1}"));
        assertTrue(post("{\"channel_name\":\"c\",\"content\":\"\\udc00\"}").startsWith("400 "));
        assertTrue(post("{\"channel_name\":\"c\",\"content\":1,\"sender\":\"\\ud800\\ud800\"}").startsWith("400 "));
        assertEquals("200 {\"status\":\"ok\",\"info\":{\"channel_name\":\"c\",\"subscribers_reached\":0}}",
                post("{\"channel_name\":\"c\",\"content\":1}"));
        assertEquals(before + 3, Requests.metric(server, "switchboard_errors_total{code=\"invalid_json\"}"), "each counted");
    }

    /** Posts {@code body} on a connection of its own; returns the status code and the response body. */
    private static String post(String body) throws Exception {
        try (RawClient c = new RawClient(address)) {
            return post(c, body);
        }
    }

    private static String post(RawClient c, String body) throws Exception {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        c.write("POST /api/publish HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + KEY
                + "\r\nContent-Type: application/json\r\nContent-Length: " + bytes.length + "\r\n\r\n" + body);
        String head = c.readHead();
        Matcher length = CONTENT_LENGTH.matcher(head);
        assertTrue(length.find(), head);
        return head.substring(9, 12) + " " + c.readUtf8(Integer.parseInt(length.group(1)));
    }
}
