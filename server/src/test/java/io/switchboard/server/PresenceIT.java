package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.LineClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.switchboard.server.testing.Requests.publish;
import static io.switchboard.server.testing.Requests.subscribe;
import static io.switchboard.server.testing.Requests.unsubscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PROTOCOL.md section 1a, "Presence", on one node: {@code presence} lists the members of a channel
 * in every dialect of the shared namespace, and {@code join_leave} subscriptions hear every other
 * member come and go. Each test has a node of its own, so its members are exactly the test's.
 */
@Timeout(60)
class PresenceIT {

    private static final Pattern UUID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    private SwitchboardServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop().join();
        }
    }

    private void start(SwitchboardConfig.Builder config) {
        server = Requests.startOnLoopback(config.lineOnAnyPort().lineChannel("lobby"));
    }

    @Test
    void listsTheMembersOfEveryDialectSortedByName() throws Exception {
        start(SwitchboardConfig.builder());
        try (JdkClient watcher = JdkClient.connectAs(server.localAddress(), "watcher");
             JdkClient minnie = JdkClient.connectAs(server.localAddress(), "minnie");
             JdkClient asker = JdkClient.connectAs(server.localAddress(), "asker")) {
            assertEquals("{\"status\":\"ok\",\"request_id\":1,\"info\":{\"channel_name\":\"lobby\",\"clients\":[]}}",
                    asker.request(presence("lobby", 1)), "nobody yet; asking does not make one a member");
            watcher.request(subscribeWithJoinLeave("lobby"));
            minnie.request(subscribe("lobby"));
            String minnieId = idIn(watcher.next(), "minnie");
            try (JdkClient dora = disposable("dora")) {
                dora.next(); // the welcome: written with the join, which the room hears of next
                String doraId = idIn(watcher.next(), "dora");
                LineClient telnet = LineClient.join(server.lineAddress());
                assertEquals(join(telnet.id(), telnet.id(), "line"), watcher.next(), "on one node a line id is its address");

                String reply = asker.request(presence("lobby", "\"r2\""));
                String watcherId = idIn(reply, "watcher");
                // By name, then id, as the bytes of their UTF-8: digits before letters.
                assertEquals("{\"status\":\"ok\",\"request_id\":\"r2\",\"info\":{\"channel_name\":\"lobby\",\"clients\":["
                        + client(telnet.id(), telnet.id(), "line") + "," + client(doraId, "dora", "disposable") + ","
                        + client(minnieId, "minnie", "minichats") + "," + client(watcherId, "watcher", "minichats")
                        + "]}}", reply);
                assertTrue(UUID.matcher(minnieId).matches() && UUID.matcher(watcherId).matches(),
                        "a minichats member's id is a UUID per connection: " + minnieId + ", " + watcherId);
                assertEquals(2.0, Requests.metric(server, "switchboard_presence_requests_total"));
                assertEquals(0.0, Requests.metric(server, "switchboard_presence_partial_total"), "a single node is whole");
                assertEquals(4.0, Requests.metric(server, "switchboard_subscriptions"), "every member is a subscription");
                telnet.close();
            }
        }
    }

    @Test
    void joinAndLeaveReachJoinLeaveSubscribersOfEveryOtherMemberOnly() throws Exception {
        start(SwitchboardConfig.builder());
        try (JdkClient watcher = JdkClient.connectAs(server.localAddress(), "watcher");
             JdkClient plain = JdkClient.connectAs(server.localAddress(), "plain");
             JdkClient minnie = JdkClient.connectAs(server.localAddress(), "minnie")) {
            assertEquals("{\"status\":\"ok\",\"request_id\":5,\"info\":{\"channel_name\":\"lobby\",\"total_subscribers\":1}}",
                    watcher.request("{\"action\":\"subscribe\",\"request_id\":5,\"params\":{\"channel_name\":\"lobby\","
                            + "\"join_leave\":true}}"), "the subscribe's own ok, and not its own join");
            plain.request(subscribe("lobby"));
            String plainJoin = watcher.next();
            assertEquals(join(idIn(plainJoin, "plain"), "plain", "minichats"), plainJoin,
                    "a subscriber without join_leave is a member all the same");

            // A minichats member: join, its messages as usual, leave on unsubscribe and on close.
            minnie.request(subscribe("lobby"));
            String join = watcher.next();
            String minnieId = idIn(join, "minnie");
            assertEquals(join(minnieId, "minnie", "minichats"), join);
            minnie.request(publish("lobby", "\"hi\""));
            minnie.next();
            assertTrue(watcher.next().startsWith("{\"sender\":\"minnie\",\"channel_name\":\"lobby\",\"sent_at\":\""),
                    "a join_leave subscription gets messages as any other");
            assertTrue(plain.next().startsWith("{\"sender\":\"minnie\""), "no join before the message");
            minnie.request(unsubscribe("lobby"));
            assertEquals(leave(minnieId, "minnie", "minichats"), watcher.next());
            minnie.request(subscribe("lobby"));
            assertEquals(join(minnieId, "minnie", "minichats"), watcher.next(), "the same id for the same connection");
            minnie.abort();
            assertEquals(leave(minnieId, "minnie", "minichats"), watcher.next(), "a connection that drops leaves");

            // A disposable member, who sees its own info but no minichats presence (docs/dialects.md).
            JdkClient dora = disposable("dora");
            String welcome = dora.next();
            String doraJoin = watcher.next();
            String doraId = idIn(doraJoin, "dora");
            assertEquals(join(doraId, "dora", "disposable"), doraJoin);
            assertEquals("{\"type\":\"welcome\",\"data\":{\"room\":{\"name\":\"lobby\",\"activeClients\":[{\"id\":\""
                    + doraId + "\",\"name\":\"dora\"}]}}}", welcome, "the welcome lists disposable members only");
            assertTrue(dora.next().contains("\"action\":\"registered\""));

            // A line client, named by its address:port; its lines reach the others as messages.
            LineClient telnet = LineClient.join(server.lineAddress());
            String lineId = telnet.id();
            assertEquals(join(lineId, lineId, "line"), watcher.next());
            telnet.send("hello");
            assertTrue(watcher.next().startsWith("{\"sender\":\"" + lineId + "\""));
            assertTrue(plain.next().startsWith("{\"sender\":\"" + lineId + "\""));
            assertTrue(dora.next().contains("\"text\":\"hello\""), "dora saw no join of the line client first");
            telnet.abort();
            assertEquals(leave(lineId, lineId, "line"), watcher.next());
            dora.abort();
            assertEquals(leave(doraId, "dora", "disposable"), watcher.next());

            // Nothing reached the subscriber without join_leave but the messages: its next frame is its reply.
            assertEquals("{\"status\":\"ok\",\"request_id\":9,\"info\":{\"channels\":[\"lobby\"]}}",
                    plain.request("{\"action\":\"list\",\"request_id\":9}"));
        }
    }

    @Test
    void aLineClientDisconnectedBySHUTDOWNLeavesPresenceUnannouncedToTheLineChat() throws Exception {
        start(SwitchboardConfig.builder().lineAllowShutdown(true));
        try (JdkClient watcher = JdkClient.connectAs(server.localAddress(), "watcher");
             LineClient first = LineClient.join(server.lineAddress());
             LineClient second = LineClient.join(server.lineAddress())) {
            assertEquals("A new client has connected to the chat: id = " + second.id(), first.readLine());
            watcher.request(subscribeWithJoinLeave("lobby"));
            first.send("SHUTDOWN");
            assertEquals("The chat has been shut down", first.readLine());
            assertEquals("The chat has been shut down", second.readLine());
            assertTrue(first.isClosedByServer() && second.isClosedByServer(), "no leave notice before the close");
            String a = watcher.next();
            String b = watcher.next();
            assertTrue(a.startsWith("{\"event\":\"leave\"") && b.startsWith("{\"event\":\"leave\""), a + b);
            assertTrue((a + b).contains(first.id()) && (a + b).contains(second.id()), a + b);
            String reply = watcher.request(presence("lobby", null));
            assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"lobby\",\"clients\":["
                    + client(idIn(reply, "watcher"), "watcher", "minichats") + "]}}", reply, "they left presence");
        }
    }

    @Test
    void refusesBadPresenceRequestsAndTheConnectionLivesOn() throws Exception {
        server = SwitchboardServer.builder(Switchboard.builder(SwitchboardConfig.builder().host("127.0.0.1").port(0)
                        .build())
                .channelAuthorizer((operation, channel, client, handshake) ->
                        channel.startsWith("secret") && operation == ChannelAuthorizer.Operation.SUBSCRIBE
                                ? "secret channels are for staff" : null)
                .build()).build();
        server.start().join();
        try (JdkClient c = JdkClient.connectAs(server.localAddress(), "c")) {
            assertEquals("{\"status\":\"error\",\"request_id\":1,\"info\":{\"detail\":\"Missing parameter 'channel_name'\","
                    + "\"code\":\"missing_param\"}}", c.request("{\"action\":\"presence\",\"request_id\":1}"));
            assertEquals("{\"status\":\"error\",\"request_id\":2,\"info\":{\"detail\":\"'channel_name' must be a string\","
                    + "\"code\":\"invalid_param\"}}",
                    c.request("{\"action\":\"presence\",\"request_id\":2,\"params\":{\"channel_name\":7}}"));
            assertEquals("{\"status\":\"error\",\"request_id\":3,\"info\":{\"detail\":\"'channel_name' must not be empty\","
                    + "\"code\":\"invalid_param\"}}", c.request(presence("", 3)));
            // MAX_CHANNEL_NAME_BYTES (128): 128 bytes are a name, 129 are not.
            String longest = "n".repeat(128);
            assertEquals("{\"status\":\"ok\",\"request_id\":4,\"info\":{\"channel_name\":\"" + longest + "\",\"clients\":[]}}",
                    c.request(presence(longest, 4)));
            assertEquals("{\"status\":\"error\",\"request_id\":5,\"info\":{\"detail\":\"'channel_name' is longer than 128 bytes\","
                    + "\"code\":\"invalid_param\"}}", c.request(presence(longest + "n", 5)));
            assertEquals("{\"status\":\"error\",\"request_id\":6,\"info\":{\"detail\":\"secret channels are for staff\","
                    + "\"code\":\"forbidden\"}}", c.request(presence("secret-room", 6)), "whoever may not subscribe");
            assertEquals("{\"status\":\"ok\",\"request_id\":7,\"info\":{\"channel_name\":\"open\",\"clients\":[]}}",
                    c.request(presence("open", 7)), "the connection lives on");
            assertEquals(1.0, Requests.metric(server, "switchboard_errors_total{code=\"missing_param\"}"));
            assertEquals(3.0, Requests.metric(server, "switchboard_errors_total{code=\"invalid_param\"}"));
            assertEquals(1.0, Requests.metric(server, "switchboard_errors_total{code=\"forbidden\"}"));
        }
    }

    private JdkClient disposable(String name) {
        return JdkClient.connect(URI.create("ws://127.0.0.1:" + server.localAddress().getPort() + "/ws?name=" + name
                + "&room=lobby"));
    }

    static String presence(String channel, Object requestId) {
        return "{\"action\":\"presence\"" + (requestId == null ? "" : ",\"request_id\":" + requestId)
                + ",\"params\":{\"channel_name\":\"" + channel + "\"}}";
    }

    static String subscribeWithJoinLeave(String channel) {
        return "{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"" + channel + "\",\"join_leave\":true}}";
    }

    static String client(String id, String name, String dialect) {
        return "{\"client_id\":\"" + id + "\",\"client_name\":\"" + name + "\",\"dialect\":\"" + dialect + "\"}";
    }

    static String join(String id, String name, String dialect) {
        return "{\"event\":\"join\",\"channel_name\":\"lobby\",\"client\":" + client(id, name, dialect) + "}";
    }

    static String leave(String id, String name, String dialect) {
        return "{\"event\":\"leave\",\"channel_name\":\"lobby\",\"client\":" + client(id, name, dialect) + "}";
    }

    /** The {@code client_id} of the member named {@code name} in a presence reply or a join or leave event. */
    static String idIn(String json, String name) {
        Matcher m = Pattern.compile("\\{\"client_id\":\"([^\"]+)\",\"client_name\":\"" + Pattern.quote(name) + "\"")
                .matcher(json);
        assertTrue(m.find(), "no " + name + " in " + json);
        return m.group(1);
    }
}
