package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.LineClient;
import io.switchboard.server.testing.RawClient;
import io.switchboard.server.testing.Requests;
import io.switchboard.server.testing.Transports;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import static io.switchboard.server.testing.Requests.awaitCount;
import static io.switchboard.server.testing.Requests.countOf;
import static io.switchboard.server.testing.Requests.publish;
import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The node's essential behaviours once per transport, the way Netty's testsuite runs one socket
 * test on every transport (issue 22): each test's name is its transport, and a native transport
 * is skipped, with Netty's reason printed, only where this machine refuses it.
 */
@Timeout(120)
class TransportsIT {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String KEY = "test-key-0123456789";

    /** Starts a node on {@code transport}, which must be the one it runs. */
    private static SwitchboardServer start(Transport transport, SwitchboardConfig.Builder config) {
        Transports.assumeAvailable(transport);
        SwitchboardServer server = Requests.startOnLoopback(config.transport(transport));
        assertEquals(Transports.name(transport), server.transportName());
        return server;
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Transport.class, names = {"NIO", "EPOLL", "IO_URING"})
    void handshakesAndAnswersCloseCodes(Transport transport) throws Exception {
        try (SwitchboardServer server = start(transport, SwitchboardConfig.builder())) {
            try (RawClient c = new RawClient(server.localAddress())) {
                assertTrue(c.upgrade("/api/connect?client_name=Hand").startsWith("HTTP/1.1 101 "));
                assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"Hand\"}}", c.readText());
                c.sendFrame(RawClient.CLOSE, true, new byte[] {0x03, (byte) 0xE8, 'b', 'y', 'e'});
                RawClient.Frame answer = c.readFrame();
                assertEquals(RawClient.CLOSE, answer.opcode());
                assertEquals(1000, answer.closeCode(), "a valid close is echoed");
                assertEquals("bye", answer.closeReason());
                assertTrue(c.isClosedByServer());
            }
            try (RawClient c = new RawClient(server.localAddress())) {
                assertTrue(c.upgrade("/api/connect?client_name=Bad").startsWith("HTTP/1.1 101 "));
                c.readText();
                c.sendFrame(RawClient.CLOSE, true, new byte[] {0x03, (byte) 0xF7}); // 1015: never sent
                RawClient.Frame answer = c.readFrame();
                assertEquals(RawClient.CLOSE, answer.opcode());
                assertEquals(1002, answer.closeCode());
                assertTrue(c.isClosedByServer());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Transport.class, names = {"NIO", "EPOLL", "IO_URING"})
    void fansOutToManySubscribersInPublishOrder(Transport transport) throws Exception {
        int subscribers = 100;
        int messages = 200;
        try (SwitchboardServer server = start(transport, SwitchboardConfig.builder().ioThreads(2).maxMessagesPerSecond(0))) {
            List<RawClient> subs = new ArrayList<>();
            try (JdkClient publisher = JdkClient.connectAs(server.localAddress(), "pub")) {
                for (int s = 0; s < subscribers; s++) {
                    RawClient c = new RawClient(server.localAddress());
                    subs.add(c);
                    assertTrue(c.upgrade("/api/connect?client_name=sub" + s).startsWith("HTTP/1.1 101 "));
                    c.readText();
                    c.sendText(subscribe("wide"));
                    assertTrue(c.readText().startsWith("{\"status\":\"ok\""));
                }
                assertTrue(publisher.request(subscribe("wide")).startsWith("{\"status\":\"ok\""));
                for (int i = 0; i < messages; i++) {
                    publisher.send(publish("wide", "{\"i\":" + i + "}"));
                }
                for (RawClient c : subs) {
                    for (int i = 0; i < messages; i++) {
                        String m = c.readText();
                        assertTrue(m.startsWith("{\"sender\":\"pub\",\"channel_name\":\"wide\","), m);
                        assertTrue(m.endsWith(",\"content\":{\"i\":" + i + "}}"), "message " + i + " in order: " + m);
                    }
                }
            } finally {
                for (RawClient c : subs) {
                    c.close();
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Transport.class, names = {"NIO", "EPOLL", "IO_URING"})
    void cutsOffASlowConsumerWhileAFastOneKeepsUp(Transport transport) throws Exception {
        try (SwitchboardServer server = start(transport, SwitchboardConfig.builder()
                .maxMessagesPerSecond(0).outboundSoftLimitBytes(64 * 1024).outboundHardLimitBytes(2 * 1024 * 1024))) {
            try (RawClient slow = SlowConsumerIT.slowSubscriber(server.localAddress());
                 JdkClient fast = JdkClient.connectAs(server.localAddress(), "fast");
                 JdkClient publisher = JdkClient.connectAs(server.localAddress(), "pub")) {
                fast.request(subscribe("flood"));
                publisher.request(subscribe("flood"));
                assertEquals(3, countOf(publisher, "flood"));
                SlowConsumerIT.flood(publisher, fast); // the fast one checks every message, in order
                awaitCount(publisher, "flood", 2);
                assertTrue(SlowConsumerIT.metrics(server)
                        .contains("\nswitchboard_closes_total{reason=\"slow_consumer\"} 1.0\n"));
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Transport.class, names = {"NIO", "EPOLL", "IO_URING"})
    void runsTheLineChat(Transport transport) throws Exception {
        try (SwitchboardServer server = start(transport, SwitchboardConfig.builder().lineOnAnyPort())) {
            try (LineClient a = LineClient.join(server.lineAddress());
                 LineClient b = new LineClient(server.lineAddress())) {
                assertEquals("Congratulations! You've successfully joined the chat server.", b.readLine());
                assertEquals("Your id is: '" + b.id() + "'.", b.readLine());
                assertEquals("There are 2 client(s) connected to this server.", b.readLine());
                assertEquals("A new client has connected to the chat: id = " + b.id(), a.readLine());
                a.send("hello there");
                assertEquals(a.id() + ": hello there", b.readLine());
                b.send("and back");
                assertEquals(b.id() + ": and back", a.readLine());
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Transport.class, names = {"NIO", "EPOLL", "IO_URING"})
    void servesTheHttpApi(Transport transport) throws Exception {
        try (SwitchboardServer server = start(transport, SwitchboardConfig.builder().apiKey(KEY))) {
            String base = "http://127.0.0.1:" + server.localAddress().getPort();
            try (JdkClient a = JdkClient.connectAs(server.localAddress(), "a")) {
                a.request(subscribe("api-news"));
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/publish"))
                        .header("Authorization", "Bearer " + KEY)
                        .POST(HttpRequest.BodyPublishers.ofString(
                                "{\"channel_name\":\"api-news\",\"content\":{\"x\":1},\"sender\":\"backend\"}"))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
                assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"api-news\",\"subscribers_reached\":1}}",
                        r.body());
                String delivery = a.next();
                assertTrue(delivery.startsWith("{\"sender\":\"backend\",\"channel_name\":\"api-news\","), delivery);
                assertTrue(delivery.endsWith(",\"content\":{\"x\":1}}"), delivery);

                r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/api/channels"))
                        .header("Authorization", "Bearer " + KEY).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
                assertEquals("{\"status\":\"ok\",\"info\":{\"channels\":[{\"channel_name\":\"api-news\","
                        + "\"total_subscribers\":1}]}}", r.body());
            }
        }
    }
}
