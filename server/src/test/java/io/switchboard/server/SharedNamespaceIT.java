package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.LineClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.net.URI;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.switchboard.server.testing.Requests.publish;
import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PROTOCOL.md, "Shared channel namespace": a minichats channel, a disposable room and the line
 * chat of the same name are one channel; each dialect gets every message in its own format.
 * Each test has a node of its own: the counts are exact, and a line client of an earlier test
 * leaving late would otherwise reach this test's line client as a notice.
 */
@Timeout(60)
class SharedNamespaceIT {

    private static final Pattern WELCOME_ID = Pattern.compile("\"activeClients\":\\[\\{\"id\":\"([^\"]+)\"");

    private SwitchboardServer server;
    private InetSocketAddress http;
    private InetSocketAddress line;

    @BeforeEach
    void start() {
        server = Requests.startOnLoopback(SwitchboardConfig.builder().lineOnAnyPort().lineChannel("lobby"));
        http = server.localAddress();
        line = server.lineAddress();
    }

    @AfterEach
    void stop() {
        server.stop().join();
    }

    @Test
    void everyDialectHearsEveryOtherInItsOwnFormat() throws Exception {
        try (JdkClient mini = JdkClient.connectAs(http, "minnie");
             LineClient telnet = LineClient.join(line)) {
            assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"lobby\",\"total_subscribers\":2}}",
                    mini.request(subscribe("lobby")));
            try (JdkClient disp = JdkClient.connect(URI.create("ws://127.0.0.1:" + http.getPort()
                    + "/ws?name=dora&room=lobby"))) {
                String welcome = disp.next();
                Matcher m = WELCOME_ID.matcher(welcome);
                assertTrue(m.find(), welcome);
                assertTrue(m.group(1).matches("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
                        "a disposable member's id is a UUID: " + m.group(1));
                String dora = "{\"id\":\"" + m.group(1) + "\",\"name\":\"dora\"}";
                assertEquals("{\"type\":\"welcome\",\"data\":{\"room\":{\"name\":\"lobby\",\"activeClients\":[" + dora
                        + "]}}}", welcome, "the welcome lists the room's disposable members");
                assertEquals("{\"type\":\"info\",\"data\":{\"room\":{\"name\":\"lobby\"},\"client\":" + dora
                        + ",\"action\":\"registered\"}}", disp.next());
                assertNull(telnet.poll(200), "a disposable join is not a line notice");

                // minichats -> disposable, line (and minichats, the publisher included)
                assertEquals("{\"status\":\"ok\"}", mini.request(publish("lobby", "\"from minichats\"")));
                assertDelivery(mini.next(), "minnie", "\"from minichats\"");
                assertEquals("{\"type\":\"chat\",\"data\":{\"room\":{\"name\":\"lobby\"},\"client\":{\"id\":\"minnie\","
                        + "\"name\":\"minnie\"},\"text\":\"from minichats\"}}", disp.next());
                assertEquals("minnie: from minichats", telnet.readLine());

                // disposable -> minichats, line
                disp.send("{\"text\":\"from disposable\"}");
                assertEquals("{\"type\":\"chat\",\"data\":{\"room\":{\"name\":\"lobby\"},\"client\":" + dora
                        + ",\"text\":\"from disposable\"}}", disp.next());
                assertDelivery(mini.next(), "dora", "\"from disposable\"");
                assertEquals("dora: from disposable", telnet.readLine());

                // line -> minichats, disposable
                String id = telnet.id();
                telnet.send("from line");
                assertDelivery(mini.next(), id, "\"from line\"");
                assertEquals("{\"type\":\"chat\",\"data\":{\"room\":{\"name\":\"lobby\"},\"client\":{\"id\":\"" + id
                        + "\",\"name\":\"" + id + "\"},\"text\":\"from line\"}}", disp.next());
                assertNull(telnet.poll(200), "not back to the line author");

                // Non-string content reaches the text-only dialects as its JSON text.
                mini.request(publish("lobby", "{\"n\":[1,2.5,\"x\"]}"));
                assertDelivery(mini.next(), "minnie", "{\"n\":[1,2.5,\"x\"]}");
                assertEquals("{\"type\":\"chat\",\"data\":{\"room\":{\"name\":\"lobby\"},\"client\":{\"id\":\"minnie\","
                        + "\"name\":\"minnie\"},\"text\":\"{\\\"n\\\":[1,2.5,\\\"x\\\"]}\"}}", disp.next());
                assertEquals("minnie: {\"n\":[1,2.5,\"x\"]}", telnet.readLine());

                // A multi-line minichats string stays one line for the line chat.
                mini.request(publish("lobby", "\"two\\nlines\\r\\nhere\""));
                mini.next();
                disp.next();
                assertEquals("minnie: two lines  here", telnet.readLine());
                // So do other control characters but the tab: an escape sequence cannot reach a terminal.
                mini.request(publish("lobby", "\"\\u001b[2Jtab\\there\\u0007\""));
                mini.next();
                disp.next();
                assertEquals("minnie:  [2Jtab\there ", telnet.readLine());

                // Counts and listings include every dialect.
                assertEquals(3, Requests.countOf(mini, "lobby"));
            }
            Requests.awaitCount(mini, "lobby", 2);
        }
    }

    @Test
    void theLineChatIsTheConfiguredChannelOnly() throws Exception {
        try (JdkClient mini = JdkClient.connectAs(http, "other");
             LineClient telnet = LineClient.join(line)) {
            mini.request(subscribe("not-lobby"));
            mini.request(publish("not-lobby", "\"elsewhere\""));
            mini.next();
            assertNull(telnet.poll(300));
        }
    }

    private static void assertDelivery(String delivery, String sender, String content) {
        assertTrue(delivery.startsWith("{\"sender\":\"" + sender + "\",\"channel_name\":\"lobby\",\"sent_at\":\""), delivery);
        assertTrue(delivery.endsWith("\",\"content\":" + content + "}"), delivery);
    }
}
