package io.switchboard.server;

import io.switchboard.server.example.StaticSiteApp;
import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The embedding example {@link StaticSiteApp}: a Netty application serving a directory and
 * Switchboard's minichats endpoint on one port, as the Mini Chats web client needs (its page
 * connects to {@code ws://${location.host}/api/connect}). The conversation test sends exactly the
 * frames that client sends and checks what it reads (issue 20; the client itself was run by hand
 * in headless Chromium, see docs/embedding.md).
 */
@Timeout(60)
class StaticSiteIT {

    private static final String INDEX = "<!DOCTYPE html>\n<title>site</title>\n<script src=\"client.js\"></script>\n";
    private static final String SCRIPT = "const url = `ws://${location.host}/api/connect`;\n";
    private static final String SECRET = "the secret outside the site";
    /** A delivery as the client reads it: sender, channel_name, content and a sent_at Date parses. */
    private static final Pattern DELIVERY = Pattern.compile(
            "\\{\"sender\":\"([^\"]+)\",\"channel_name\":\"general\",\"sent_at\":\"([^\"]+)\",\"content\":\"([^\"]*)\"}");

    @TempDir
    Path tmp;
    private Switchboard switchboard;
    private StaticSiteApp app;
    private Path site;

    @BeforeEach
    void startTheApp() throws Exception {
        site = Files.createDirectory(tmp.resolve("site"));
        Files.writeString(site.resolve("index.html"), INDEX);
        Files.writeString(site.resolve("client.js"), SCRIPT);
        Files.writeString(site.resolve("data.bin"), "\u0000\u0001");
        Files.createDirectory(site.resolve("empty"));
        Files.createDirectory(site.resolve("docs"));
        Files.writeString(site.resolve("docs").resolve("index.html"), "docs\n");
        Files.writeString(site.resolve(".env"), SECRET);
        Files.writeString(tmp.resolve("secret.txt"), SECRET);
        Files.createSymbolicLink(site.resolve("link.txt"), tmp.resolve("secret.txt"));
        Files.createSymbolicLink(site.resolve("up"), tmp);
        switchboard = Switchboard.create(SwitchboardConfig.builder().build());
        app = new StaticSiteApp(switchboard, site, new InetSocketAddress("127.0.0.1", 0));
    }

    @AfterEach
    void stopTheApp() {
        app.close();
        switchboard.close();
    }

    @Test
    void servesTheFilesAndTheMinichatsEndpointOnOnePort() throws IOException {
        Response index = get("/");
        assertEquals(200, index.status());
        assertEquals("text/html; charset=utf-8", index.header("content-type"));
        assertEquals("nosniff", index.header("x-content-type-options"));
        assertEquals(INDEX, index.body());
        Response script = get("/client.js");
        assertEquals(200, script.status());
        assertEquals("text/javascript; charset=utf-8", script.header("content-type"));
        assertEquals(SCRIPT, script.body());
        assertEquals("application/octet-stream", get("/data.bin").header("content-type"));
        assertEquals("docs\n", get("/docs/").body(), "a directory's index.html");
        assertEquals(INDEX, get("/index.html?v=2").body(), "a query is not part of the file name");

        // The page's WebSocket, as a browser opens it: same host and port, its own Origin.
        String origin = "http://127.0.0.1:" + port();
        try (RawClient browser = new RawClient(app.address())) {
            browser.write("GET /api/connect?client_name=Ann HTTP/1.1\r\nHost: 127.0.0.1:" + port() + "\r\n"
                    + "Origin: " + origin + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
            assertTrue(browser.readHead().startsWith("HTTP/1.1 101 Switching Protocols\r\n"));
            assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"Ann\"}}", browser.readText());
            browser.sendText("{\"action\":\"list\"}");
            assertEquals("{\"status\":\"ok\",\"info\":{\"channels\":[]}}", browser.readText());
        }
        Response plainGet = get("/api/connect");
        assertEquals(426, plainGet.status(), "the endpoint's path belongs to Switchboard, upgrade or not");
    }

    /**
     * The Mini Chats web client's frames, in its order: connect (with or without a name), subscribe,
     * then at once {@code list}, whose names it draws as {@code #name} and offers as publish
     * targets; publish a string; unsubscribe and {@code list} back to back. Every subscriber,
     * the sender too, gets a delivery (docs/dialects.md).
     */
    @Test
    void speaksTheMiniChatsWebClientsConversation() {
        try (JdkClient ann = JdkClient.connect(ws("/api/connect?client_name=Ann"));
             JdkClient guest = JdkClient.connect(ws("/api/connect"))) {
            assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"Ann\"}}", ann.next());
            Matcher named = Pattern.compile("\\{\"status\":\"ok\",\"info\":\\{\"client_name\":\"(guest-[0-9a-f]{6})\"}}")
                    .matcher(guest.next());
            assertTrue(named.matches(), "a client that leaves the name empty gets one");
            String guestName = named.group(1);

            assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"general\",\"total_subscribers\":1}}",
                    ann.request("{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"general\"}}"));
            assertEquals("{\"status\":\"ok\",\"info\":{\"channels\":[\"general\"]}}",
                    ann.request("{\"action\":\"list\"}"));
            assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"general\",\"total_subscribers\":2}}",
                    guest.request("{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"general\"}}"));
            assertEquals("{\"status\":\"ok\",\"info\":{\"channels\":[\"general\"]}}",
                    guest.request("{\"action\":\"list\"}"));

            assertEquals("{\"status\":\"ok\"}", ann.request(
                    "{\"action\":\"publish\",\"params\":{\"channel_name\":\"general\",\"content\":\"hello from Ann\"}}"));
            String own = ann.next();
            assertDelivery("Ann", "hello from Ann", own);
            assertEquals(own, guest.next(), "one delivery, the same bytes for everyone");

            assertEquals("{\"status\":\"ok\"}", guest.request(
                    "{\"action\":\"publish\",\"params\":{\"channel_name\":\"general\",\"content\":\"hi Ann\"}}"));
            assertDelivery(guestName, "hi Ann", guest.next());
            assertDelivery(guestName, "hi Ann", ann.next());

            // The tag's remove button: unsubscribe, then list without waiting for the ok.
            ann.send("{\"action\":\"unsubscribe\",\"params\":{\"channel_name\":\"general\"}}");
            ann.send("{\"action\":\"list\"}");
            assertEquals("{\"status\":\"ok\"}", ann.next());
            assertEquals("{\"status\":\"ok\",\"info\":{\"channels\":[]}}", ann.next());
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "/../secret.txt", "/docs/../../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt",
            "/%2e%2e%2fsecret.txt", "/docs%2f..%2f..%2fsecret.txt", "/..%5csecret.txt", "/%2e%2e%5csecret.txt",
            "/link.txt", "/up/secret.txt", "/.env", "/%2eenv", "/secret.txt%00.html", "//SECRET_PATH",
            "/%2fSECRET_PATH", "/docs/./../../secret.txt"})
    void refusesEveryWayOutOfTheDirectory(String target) throws IOException {
        String request = target.replace("SECRET_PATH", tmp.resolve("secret.txt").toString().substring(1));
        Response response = raw("GET " + request + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        assertEquals(404, response.status(), response.toString());
        assertFalse(response.body().contains(SECRET), response.toString());
        assertEquals("404 Not Found\n", response.body());
    }

    @Test
    void answersWhatItDoesNotServe() throws IOException {
        assertEquals(404, get("/missing.html").status());
        assertEquals(404, get("/empty/").status(), "a directory without index.html is not listed");
        Response post = raw("POST /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n"
                + "Connection: close\r\n\r\n{}");
        assertEquals(405, post.status());
        assertEquals("GET, HEAD", post.header("allow"));
        assertEquals(400, raw("GET /%zz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").status());

        try (RawClient c = new RawClient(app.address())) {
            c.write("HEAD /client.js HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            String head = c.readHead();
            assertTrue(head.startsWith("HTTP/1.1 200 OK\r\n"), head);
            assertTrue(head.contains("content-length: " + SCRIPT.length() + "\r\n"), head);
            // No body follows a HEAD answer: the next response on the kept-alive connection starts at once.
            c.write("GET /docs/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            String next = c.readHead();
            assertTrue(next.startsWith("HTTP/1.1 200 OK\r\n"), next);
            assertEquals("docs\n", c.readUtf8(5));
        }
    }

    private static void assertDelivery(String sender, String content, String delivery) {
        Matcher m = DELIVERY.matcher(delivery);
        assertTrue(m.matches(), delivery);
        assertEquals(sender, m.group(1));
        Instant.parse(m.group(2)); // the client shows new Date(sent_at).toLocaleTimeString()
        assertEquals(content, m.group(3));
    }

    private int port() {
        return app.address().getPort();
    }

    private URI ws(String target) {
        return URI.create("ws://127.0.0.1:" + port() + target);
    }

    private Response get(String target) throws IOException {
        return raw("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    }

    private Response raw(String request) throws IOException {
        try (RawClient c = new RawClient(app.address())) {
            c.write(request);
            return Response.parse(c.readToEnd());
        }
    }

    /** An HTTP/1.1 response read to the end of a connection the server closed. */
    private record Response(int status, String head, String body) {
        static Response parse(String raw) {
            int end = raw.indexOf("\r\n\r\n");
            String head = raw.substring(0, end + 2);
            return new Response(Integer.parseInt(head.substring(9, 12)), head, raw.substring(end + 4));
        }

        /** The value of a header, by its lower-case name, or {@code null}. */
        String header(String name) {
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).equalsIgnoreCase(name)) {
                    return line.substring(colon + 1).trim();
                }
            }
            return null;
        }

        @Override
        public String toString() {
            return head + "\r\n" + body;
        }
    }
}
