package io.switchboard.server;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.switchboard.server.example.HelloApp;
import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.RawClient;
import io.switchboard.server.testing.Transports;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.switchboard.server.testing.Requests.publish;
import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Switchboard inside an application, through its public API only. */
@Timeout(60)
class EmbeddingIT {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static Switchboard switchboard() {
        return Switchboard.builder(SwitchboardConfig.builder().build())
                .connectionAuthorizer(request -> "letmein".equals(request.queryParameter("token")) ? null
                        : new ConnectionAuthorizer.Rejection(403, "bad token from " + request.path()))
                .channelAuthorizer((operation, channel, client, handshake) ->
                        channel.startsWith("secret") && operation == ChannelAuthorizer.Operation.SUBSCRIBE
                                ? "secret channels are for staff" : null)
                .build();
    }

    @Test
    void servesTheAppsRoutesAndSwitchboardOnOnePort() throws Exception {
        Switchboard switchboard = switchboard();
        try (HelloApp app = new HelloApp(switchboard, true)) {
            assertEquals("hello from the app\n", get(app.address(), "/hello"));
            try (JdkClient ann = JdkClient.connect(ws(app.address(), "/ws?token=letmein&client_name=Ann"))) {
                assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"Ann\"}}", ann.next());
                assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"news\",\"total_subscribers\":1}}",
                        ann.request(subscribe("news")));
                assertEquals(List.of(new ChannelInfo("news", 1)), switchboard.channels());

                // The application publishes from its own thread.
                assertEquals(1, switchboard.publish("news", "the-app", "{\"n\":1}"));
                String delivery = ann.next();
                assertTrue(delivery.startsWith("{\"sender\":\"the-app\",\"channel_name\":\"news\",\"sent_at\":\""),
                        delivery);
                assertTrue(delivery.endsWith(",\"content\":{\"n\":1}}"), delivery);

                // Clients publish as usual, and the app's routes still work beside them.
                assertEquals("{\"status\":\"ok\"}", ann.request(publish("news", "\"hi\"")));
                assertTrue(ann.next().endsWith("\"content\":\"hi\"}"));
                assertEquals("hello from the app\n", get(app.address(), "/hello"));
            }
        }
    }

    @Test
    void theAuthorizationHooksRejectWhatTheyShould() throws Exception {
        try (HelloApp app = new HelloApp(switchboard(), true)) {
            try (RawClient raw = new RawClient(app.address())) {
                raw.write(RawClient.upgradeRequest("/ws?token=nope"));
                String response = raw.readToEnd();
                assertTrue(response.startsWith("HTTP/1.1 403 Forbidden\r\n"), response);
                assertTrue(response.endsWith("{\"status\":\"error\",\"info\":{\"detail\":\"bad token from /ws\","
                        + "\"code\":\"forbidden\"}}"), response);
            }
            try (JdkClient c = JdkClient.connect(ws(app.address(), "/ws?token=letmein&client_name=Bob"))) {
                c.next();
                assertEquals("{\"status\":\"error\",\"request_id\":1,\"info\":{\"detail\":\"secret channels are for "
                        + "staff\",\"code\":\"forbidden\"}}", c.request(
                        "{\"action\":\"subscribe\",\"request_id\":1,\"params\":{\"channel_name\":\"secret-plans\"}}"));
                assertTrue(c.request(subscribe("public")).startsWith("{\"status\":\"ok\""), "the connection lives on");
            }
        }
    }

    @Test
    void answers500WhenTheConnectionAuthorizerFails() throws Exception {
        Switchboard failing = Switchboard.builder(SwitchboardConfig.builder().build())
                .connectionAuthorizer(request -> {
                    throw new IllegalStateException("token store down");
                })
                .build();
        try (HelloApp app = new HelloApp(failing, true); RawClient raw = new RawClient(app.address())) {
            raw.write(RawClient.upgradeRequest("/ws"));
            String response = raw.readToEnd();
            assertTrue(response.startsWith("HTTP/1.1 500 Internal Server Error\r\n"), response);
            assertTrue(response.endsWith("{\"status\":\"error\",\"info\":{\"detail\":\"The connection could not be "
                    + "authorized\",\"code\":\"internal\"}}"), response);
        }
    }

    @Test
    void mountsInAPipelineWithoutAnAggregator() throws Exception {
        try (HelloApp app = new HelloApp(switchboard(), false)) {
            assertEquals("hello from the app\n", get(app.address(), "/hello"));
            try (JdkClient c = JdkClient.connect(ws(app.address(), "/ws?token=letmein&client_name=Cy"))) {
                assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"Cy\"}}", c.next());
                assertTrue(c.request(subscribe("plain")).startsWith("{\"status\":\"ok\""));
            }
        }
    }

    @Test
    void refusesInvalidPublishesFromTheApp() {
        Switchboard switchboard = switchboard();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> switchboard.publish("news", "app", "{not json"));
        assertTrue(e.getMessage().startsWith("Malformed JSON"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> switchboard.publish("", "app", "1"));
        assertEquals("'channel_name' must not be empty", e.getMessage());
        assertEquals(0, switchboard.publish("empty", "app", "1"));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Transport.class, names = {"NIO", "EPOLL", "IO_URING"})
    void runsOnALentEventLoopGroupAndAppliesThePipelineCustomizer(Transport transport) throws Exception {
        Transports.assumeAvailable(transport);
        EventLoopGroup lent = new MultiThreadIoEventLoopGroup(1, Transports.ioHandler(transport));
        AtomicInteger customized = new AtomicInteger();
        try {
            SwitchboardServer server = SwitchboardServer.builder(Switchboard.create(SwitchboardConfig.builder()
                            .host("127.0.0.1").port(0).build()))
                    .eventLoopGroup(lent)
                    .pipelineCustomizer(p -> p.addFirst("counter", new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelActive(ChannelHandlerContext ctx) {
                            customized.incrementAndGet();
                            ctx.fireChannelActive();
                        }
                    }))
                    .build();
            server.start().join();
            assertEquals(Transports.name(transport), server.transportName(), "detected from the lent group");
            try (JdkClient c = JdkClient.connectAs(server.localAddress(), "lent")) {
                assertTrue(c.request(subscribe("lent")).startsWith("{\"status\":\"ok\""));
                assertEquals(1, server.switchboard().publish("lent", "app", "true"));
                assertTrue(c.next().endsWith("\"content\":true}"));
            }
            server.stop().join();
            assertEquals(1, customized.get());
            assertFalse(lent.isShuttingDown(), "a lent group is left running");
        } finally {
            lent.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static URI ws(InetSocketAddress address, String target) {
        return URI.create("ws://127.0.0.1:" + address.getPort() + target);
    }

    private static String get(InetSocketAddress address, String path) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + address.getPort()
                + path)).build(), HttpResponse.BodyHandlers.ofString());
        return r.body();
    }
}
