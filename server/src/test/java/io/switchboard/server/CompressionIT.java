package io.switchboard.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.sun.net.httpserver.HttpServer;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.NodeWsClient;
import io.switchboard.server.testing.RawClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

import static io.switchboard.server.testing.Requests.publish;
import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * permessage-deflate (RFC 7692, issue 19) with real clients: Node's {@code ws} and headless
 * Chromium, which both offer it, and a raw client that shows the frames' RSV1 bit and bytes. Each
 * test has a node of its own.
 */
@Timeout(120)
class CompressionIT {

    private static final String OFFER = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n";
    private static final String ANSWER = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");

    private SwitchboardServer server;

    @TempDir
    Path dir;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop().join();
        }
    }

    private InetSocketAddress start(int minBytes) {
        // Four event loops: the clients of a test are spread over them, so a publish crosses loops.
        server = Requests.startOnLoopback(SwitchboardConfig.builder().compression(true).compressionMinBytes(minBytes)
                .ioThreads(4));
        return server.localAddress();
    }

    /** Some kilobytes of text that deflate shrinks: repeated words, with non-ASCII characters. */
    private static String longContent(String tag) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; b.length() < 3000; i++) {
            b.append(tag).append(" Zoë ").append(i % 17).append(" naïve café \u20ac ");
        }
        return b.toString();
    }

    @Test
    void nodeWsPublishesCompressedAndEachSubscriberGetsTheContentByteExact() throws Exception {
        InetSocketAddress address = start(128);
        String content = longContent("node");
        long saved;
        try (NodeWsClient node = NodeWsClient.connect("ws://127.0.0.1:" + address.getPort() + "/api/connect?client_name=node");
             RawClient raw1 = compressingRawClient(address, "raw1");
             RawClient raw2 = compressingRawClient(address, "raw2");
             JdkClient plain = JdkClient.connectAs(address, "plain")) {
            assertEquals("permessage-deflate", field(node.next(), "extensions"));
            assertTrue(field(node.next(), "data").startsWith("{\"status\":\"ok\""));
            node.command(send(subscribe("c")));
            field(node.next(), "data");
            raw1.sendText(subscribe("c"));
            raw1.readText();
            raw2.sendText(subscribe("c"));
            raw2.readText();
            plain.send(subscribe("c"));
            Requests.awaitCount(plain, "c", 4);

            // The node client compresses what it sends: the server inflates it.
            node.command(send(publish("c", quote(content))));
            assertEquals("{\"status\":\"ok\"}", field(node.next(), "data"));
            String delivered = field(node.next(), "data");
            assertEquals(content, contentOf(delivered));
            // The plain client gets the plain frame, the same JSON.
            assertEquals(delivered, plain.next());
            // The raw clients get one compressed frame, the same bytes for both, that inflates to it.
            RawClient.Frame f1 = raw1.readFrame();
            RawClient.Frame f2 = raw2.readFrame();
            assertEquals(0x4, f1.rsv(), "RSV1 set");
            assertArrayEquals(f1.payload(), f2.payload());
            assertTrue(f1.payload().length < delivered.getBytes(StandardCharsets.UTF_8).length / 2,
                    "compressed: " + f1.payload().length);
            assertEquals(delivered, inflate(f1.payload()));
            long plainFrame = frameLength(delivered.getBytes(StandardCharsets.UTF_8).length);
            saved = 3 * (plainFrame - frameLength(f1.payload().length));

            // A message under COMPRESSION_MIN_BYTES (a delivery of about 80 bytes) goes plain, even to
            // those who negotiated.
            plain.send(publish("c", "\"hi\""));
            assertEquals("{\"status\":\"ok\"}", plain.next());
            String small = plain.next();
            RawClient.Frame p1 = raw1.readFrame();
            assertEquals(0, p1.rsv());
            assertEquals(small, p1.text());
            assertEquals(small, field(node.next(), "data"));
        }
        String metrics = scrape(address);
        assertTrue(metrics.contains("switchboard_compressed_deliveries_total 3.0"), metrics);
        // Compressed once for the three, whatever event loops they are on (every reply was under the minimum).
        assertTrue(metrics.contains("switchboard_compressed_messages_total 1.0"), metrics);
        assertTrue(metrics.contains("switchboard_compression_saved_bytes_total " + saved + ".0"), metrics);
    }

    @Test
    void aChatroomUpdateIsCompressedOnceForItsSubscribersThatNegotiated() throws Exception {
        InetSocketAddress address = start(128);
        String text = longContent("topic");
        try (RawClient raw1 = compressingRawClient(address, "/chatroom");
             RawClient raw2 = compressingRawClient(address, "/chatroom");
             JdkClient plain = JdkClient.connect(URI.create("ws://127.0.0.1:" + address.getPort() + "/chatroom"))) {
            plain.next(); // hello
            String subscribe = "{\"type\":\"subscribe\",\"content\":{\"topic_name\":\"z\",\"type\":\"string\"}}";
            for (RawClient raw : new RawClient[] {raw1, raw2}) {
                raw.sendText(subscribe);
                assertEquals(0, raw.readFrame().rsv(), "the short snapshot goes plain");
            }
            plain.send(subscribe);
            plain.next();
            plain.send("{\"type\":\"update\",\"content\":{\"topic_name\":\"z\",\"change\":{\"type\":\"insert\","
                    + "\"position\":0,\"text\":" + quote(text) + "}}}");
            String update = plain.next();
            assertTrue(update.contains(quote(text)), update);
            RawClient.Frame f1 = raw1.readFrame();
            RawClient.Frame f2 = raw2.readFrame();
            assertEquals(0x4, f1.rsv(), "RSV1 set");
            assertArrayEquals(f1.payload(), f2.payload());
            assertEquals(update, inflate(f1.payload()));
        }
        assertTrue(scrape(address).contains("switchboard_compressed_messages_total 1.0"));
    }

    @Test
    void fragmentedCompressedMessagesAreInflatedAcrossTheirFrames() throws Exception {
        InetSocketAddress address = start(64);
        String content = longContent("fragments");
        String request = publish("f", quote(content));
        int third = request.length() / 3;
        try (NodeWsClient node = NodeWsClient.connect("ws://127.0.0.1:" + address.getPort() + "/api/connect");
             JdkClient plain = JdkClient.connectAs(address, "plain")) {
            node.next();
            node.next();
            node.command(send(subscribe("f")));
            node.next();
            plain.send(subscribe("f"));
            Requests.awaitCount(plain, "f", 2);
            // One message in three frames, compressed as one deflate stream: RSV1 on the first only.
            node.command("{\"fragments\":[" + quote(request.substring(0, third)) + "," + quote(request.substring(third, 2 * third))
                    + "," + quote(request.substring(2 * third)) + "]}");
            assertEquals("{\"status\":\"ok\"}", field(node.next(), "data"));
            assertEquals(content, contentOf(field(node.next(), "data")));
            assertEquals(content, contentOf(plain.next()));
        }
    }

    @Test
    void aMessageThatInflatesPastTheLimitClosesWith1009AndIsCounted() throws Exception {
        InetSocketAddress address = start(64);
        try (NodeWsClient node = NodeWsClient.connect("ws://127.0.0.1:" + address.getPort() + "/api/connect")) {
            node.next();
            node.next();
            // 4 MiB of one letter deflates to a few KiB: a frame well under MAX_MESSAGE_BYTES (64 KiB).
            node.command(send("a".repeat(4 * 1024 * 1024)));
            String close = node.next();
            assertEquals("close", field(close, "event"), close);
            assertEquals("1009", field(close, "code"));
            assertEquals("Message inflates to more than 65536 bytes", field(close, "reason"));
        }
        assertTrue(scrape(address).contains("switchboard_closes_total{reason=\"decompression_bomb\"} 1.0"));
    }

    @Test
    void aBombInOneSmallRawFrameIsStoppedAtTheLimit() throws Exception {
        InetSocketAddress address = start(64);
        try (RawClient raw = compressingRawClient(address, "bomb")) {
            byte[] bomb = deflate(new byte[16 * 1024 * 1024]); // 16 MiB of zeros: about 16 KiB
            raw.write(withRsv1(RawClient.maskedFrame(RawClient.TEXT, true, bomb)));
            RawClient.Frame close = raw.readFrame();
            assertEquals(RawClient.CLOSE, close.opcode());
            assertEquals(1009, close.closeCode());
        }
    }

    @Test
    void rsv1WithoutTheExtensionClosesWith1002() throws Exception {
        InetSocketAddress address = start(64);
        try (RawClient raw = new RawClient(address)) {
            String head = raw.upgrade("/api/connect");
            assertTrue(head.startsWith("HTTP/1.1 101"), head);
            assertTrue(!head.toLowerCase().contains("sec-websocket-extensions"), head);
            raw.readText();
            raw.write(withRsv1(RawClient.maskedFrame(RawClient.TEXT, true, deflate(subscribe("x").getBytes(StandardCharsets.UTF_8)))));
            RawClient.Frame close = raw.readFrame();
            assertEquals(RawClient.CLOSE, close.opcode());
            assertEquals(1002, close.closeCode());
        }
    }

    @Test
    void anOfferForASmallerServerWindowIsDeclined() throws Exception {
        InetSocketAddress address = start(64);
        try (RawClient raw = new RawClient(address)) {
            raw.write(RawClient.upgradeRequest("/api/connect").replace("\r\n\r\n",
                    "\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n\r\n"));
            String head = raw.readHead();
            assertTrue(head.startsWith("HTTP/1.1 101"), head);
            assertTrue(!head.toLowerCase().contains("sec-websocket-extensions"), head);
        }
    }

    @Test
    void headlessChromiumExchangesCompressedMessages() throws Exception {
        if (!Files.isExecutable(CHROMIUM)) {
            System.out.println("CompressionIT's Chromium test skipped: " + CHROMIUM + " is not installed");
            Assumptions.abort(CHROMIUM + " is not installed");
        }
        InetSocketAddress address = start(64);
        String content = longContent("chromium");
        CompletableFuture<String> result = new CompletableFuture<>();
        HttpServer pages = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        byte[] page = Files.readAllBytes(Path.of("src", "test", "resources", "compression", "page.html"));
        pages.createContext("/page", exchange -> {
            exchange.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
            exchange.sendResponseHeaders(200, page.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(page);
            }
        });
        pages.createContext("/result", exchange -> {
            result.complete(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            exchange.sendResponseHeaders(204, -1);
            exchange.close();
        });
        pages.start();
        Process chromium = null;
        try (JdkClient plain = JdkClient.connectAs(address, "plain")) {
            plain.send(subscribe("browser"));
            plain.next();
            String url = "http://127.0.0.1:" + pages.getAddress().getPort() + "/page?ws="
                    + URLEncoder.encode("ws://127.0.0.1:" + address.getPort() + "/api/connect?client_name=chromium",
                    StandardCharsets.UTF_8)
                    + "&channel=browser&content=" + URLEncoder.encode(content, StandardCharsets.UTF_8);
            chromium = new ProcessBuilder(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                    "--no-first-run", "--user-data-dir=" + dir.resolve("profile"), url)
                    .redirectErrorStream(true).redirectOutput(dir.resolve("chromium.log").toFile()).start();
            String report = result.get(60, TimeUnit.SECONDS);
            assertEquals("permessage-deflate; server_no_context_takeover; client_no_context_takeover",
                    field(report, "extensions"), report);
            // Chromium compressed its publish; the node inflated it, and compressed the delivery back.
            assertEquals(content, field(report, "content"));
            assertEquals(content, contentOf(plain.next()));
        } finally {
            if (chromium != null) {
                chromium.destroy();
                if (!chromium.waitFor(10, TimeUnit.SECONDS)) {
                    chromium.destroyForcibly();
                }
            }
            pages.stop(0);
        }
        String metrics = scrape(address);
        assertTrue(metrics.contains("switchboard_compressed_deliveries_total 1.0"), metrics);
    }

    private static RawClient compressingRawClient(InetSocketAddress address, String name) throws IOException {
        String target = name.startsWith("/") ? name : "/api/connect?client_name=" + name;
        RawClient raw = new RawClient(address);
        raw.write(RawClient.upgradeRequest(target).replace("\r\n\r\n", "\r\n" + OFFER + "\r\n"));
        String head = raw.readHead();
        assertTrue(head.startsWith("HTTP/1.1 101"), head);
        assertTrue(head.toLowerCase().contains("sec-websocket-extensions: " + ANSWER), head);
        assertEquals(0, raw.readFrame().rsv(), "the greeting, short: plain");
        return raw;
    }

    /** The length of a server frame (unmasked) carrying {@code payload} bytes. */
    private static long frameLength(int payload) {
        return payload + (payload <= 125 ? 2 : payload <= 0xFFFF ? 4 : 10);
    }

    /** A client frame with RSV1 set (compressed). */
    private static byte[] withRsv1(byte[] frame) {
        frame[0] |= 0x40;
        return frame;
    }

    /** Deflates {@code data} as permessage-deflate does (raw, sync flush, tail removed). */
    private static byte[] deflate(byte[] data) {
        Deflater d = new Deflater(9, true);
        d.setInput(data);
        byte[] buf = new byte[data.length + 64];
        int n = d.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH);
        d.end();
        byte[] out = new byte[n - 4];
        System.arraycopy(buf, 0, out, 0, n - 4);
        return out;
    }

    /** Inflates a permessage-deflate payload (RFC 7692 section 7.2.2: the tail appended back). */
    private static String inflate(byte[] payload) throws DataFormatException {
        Inflater i = new Inflater(true);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        i.setInput(payload);
        while (!i.needsInput()) {
            out.write(buf, 0, i.inflate(buf));
        }
        i.setInput(new byte[] {0, 0, (byte) 0xFF, (byte) 0xFF});
        for (int n; (n = i.inflate(buf)) > 0; ) {
            out.write(buf, 0, n);
        }
        i.end();
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String send(String text) {
        return "{\"send\":" + quote(text) + "}";
    }

    private static String quote(String s) {
        return new String(JsonStrings.quote(s), StandardCharsets.UTF_8);
    }

    /** The {@code content} of a minichats delivery. */
    private static String contentOf(String delivery) throws IOException {
        return field(delivery, "content");
    }

    /** A top-level field of a JSON object, as text (a number's digits). */
    private static String field(String json, String name) throws IOException {
        try (JsonParser p = new JsonFactory().createParser(json)) {
            p.nextToken();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken value = p.nextToken();
                if (key.equals(name)) {
                    return p.getText();
                }
                if (value.isStructStart()) {
                    p.skipChildren();
                }
            }
        }
        throw new AssertionError("no " + name + " in " + json);
    }

    private static String scrape(InetSocketAddress address) throws IOException, InterruptedException {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + address.getPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }
}
