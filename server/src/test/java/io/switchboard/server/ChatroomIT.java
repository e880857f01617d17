package io.switchboard.server;

import io.switchboard.server.internal.dialect.chatroom.Topic;
import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * PROTOCOL.md section 4, the chatroom dialect, on a real server over loopback with the JDK's
 * WebSocket client: frames exactly as the server writes them. Each test has a node of its own:
 * ids, {@code _chatroom/server_status}, service names and the inspection page's counts are the
 * node's, and a client of an earlier test leaving late would otherwise show in them.
 */
@Timeout(60)
class ChatroomIT {

    private static final Pattern HELLO = Pattern.compile("\\{\"type\":\"hello\",\"content\":\\{\"id\":(\\d+)}}");
    private static final Pattern VERSION = Pattern.compile("\"version\":(\\d+)}}}$");

    private SwitchboardServer server;
    private InetSocketAddress address;

    @BeforeEach
    void start() {
        server = Requests.startOnLoopback(SwitchboardConfig.builder()
                .chatroomMaxValueBytes(64)
                .chatroomRequestTimeout(Duration.ofMillis(500))
                .debug(true).debugPort(0));
        address = server.localAddress();
    }

    @AfterEach
    void stop() {
        server.stop().join();
    }

    /** A chatroom client that has read its hello. */
    record Client(JdkClient ws, long id) implements AutoCloseable {
        static Client connect(InetSocketAddress address) {
            JdkClient ws = JdkClient.connect(URI.create("ws://127.0.0.1:" + address.getPort() + "/chatroom"));
            Matcher m = HELLO.matcher(ws.next());
            assertTrue(m.matches());
            return new Client(ws, Long.parseLong(m.group(1)));
        }

        void send(String type, String content) {
            ws.send("{\"type\":\"" + type + "\",\"content\":" + content + "}");
        }

        String next() {
            return ws.next();
        }

        /** Subscribes and returns the snapshot. */
        String subscribe(String topic, String type) {
            send("subscribe", "{\"topic_name\":\"" + topic + "\",\"type\":\"" + type + "\"}");
            return next();
        }

        /** Sends a change and returns the next message (the update or the rejection). */
        String update(String topic, String change) {
            send("update", "{\"topic_name\":\"" + topic + "\",\"change\":" + change + "}");
            return next();
        }

        /** Returns once the server has served everything this client sent before (a subscribe answers in order). */
        void sync() {
            String topic = "_chatroom/client_message/" + id; // special: not counted against the topic limit
            assertTrue(subscribe(topic, "string").contains("\"topic_name\":\"" + topic + "\""));
        }

        /** Reads until a message containing {@code text} arrives (others' events may come first). */
        String await(String text) {
            for (;;) {
                String m = next();
                if (m.contains(text)) {
                    return m;
                }
            }
        }

        @Override
        public void close() {
            ws.close();
        }
    }

    private static String update(String topic, String change) {
        return "{\"type\":\"update\",\"content\":{\"topic_name\":\"" + topic + "\",\"change\":" + change + "}}";
    }

    private static String reject(String topic, String change, String reason) {
        return "{\"type\":\"reject_update\",\"content\":{\"topic_name\":\"" + topic + "\",\"change\":" + change
                + ",\"reason\":\"" + reason + "\"}}";
    }

    /**
     * On a fresh node the ids are 1, 2, 3, ... in the order the clients connected (issue 20): each
     * client here connects once the one before has its 101, before any hello is read.
     */
    @Test
    void helloIdsFollowTheOrderOfConnectionsFromOne() {
        List<JdkClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 30; i++) {
                clients.add(JdkClient.connect(URI.create("ws://127.0.0.1:" + address.getPort() + "/chatroom")));
            }
            for (int i = 0; i < clients.size(); i++) {
                assertEquals("{\"type\":\"hello\",\"content\":{\"id\":" + (i + 1) + "}}", clients.get(i).next());
            }
        } finally {
            clients.forEach(JdkClient::close);
        }
    }

    /**
     * The seed gives {@code register_service} no answer: the registration is in effect for every
     * connection of the node before the provider's next message is read, so the answer to that
     * message tells the provider that any requester finds it (issue 20).
     */
    @Test
    void aRegistrationIsInEffectBeforeTheProvidersNextMessageIsServed() {
        try (Client provider = Client.connect(address); Client requester = Client.connect(address)) {
            String own = "_chatroom/client_message/" + provider.id();
            for (int i = 0; i < 20; i++) {
                provider.send("register_service", "{\"service_name\":\"now-" + i + "\"}");
                provider.send("subscribe", "{\"topic_name\":\"" + own + "\"}");
                assertEquals(update(own, "{\"type\":\"set\",\"value\":\"\",\"version\":0}"), provider.next(),
                        "registered: no notice");
                requester.send("request", "{\"service_name\":\"now-" + i + "\",\"args\":" + i + ",\"request_id\":" + i + "}");
                Matcher m = Pattern.compile("\\{\"type\":\"request\",\"content\":\\{\"service_name\":\"now-" + i
                        + "\",\"args\":" + i + ",\"request_id\":(\\d+)}}").matcher(provider.next());
                assertTrue(m.matches());
                provider.send("response", "{\"response\":" + i + ",\"request_id\":" + m.group(1) + "}");
                assertEquals("{\"type\":\"response\",\"content\":{\"response\":" + i + ",\"request_id\":" + i + "}}",
                        requester.next());
            }
        }
    }

    @Test
    void aSubscriberGetsTheValueAtOnceAndEveryChangeOfEachType() {
        try (Client c = Client.connect(address)) {
            assertEquals(update("s1", "{\"type\":\"set\",\"value\":\"\",\"version\":0}"), c.subscribe("s1", "string"));
            assertEquals(update("s1", "{\"type\":\"insert\",\"position\":0,\"text\":\"héllo\",\"version\":1}"),
                    c.update("s1", "{\"type\":\"insert\",\"position\":0,\"text\":\"héllo\"}"));
            assertEquals(update("s1", "{\"type\":\"delete\",\"position\":1,\"length\":2,\"id\":\"d1\",\"version\":2}"),
                    c.update("s1", "{\"type\":\"delete\",\"position\":1,\"length\":2,\"id\":\"d1\"}"));
            assertEquals(update("s1", "{\"type\":\"set\",\"value\":\"x\",\"version\":3}"),
                    c.update("s1", "{\"type\":\"set\",\"value\":\"x\"}"));

            assertEquals(update("i1", "{\"type\":\"set\",\"value\":0,\"version\":0}"), c.subscribe("i1", "int"));
            assertEquals(update("i1", "{\"type\":\"add\",\"value\":5,\"id\":7,\"version\":1}"),
                    c.update("i1", "{\"type\":\"add\",\"value\":5,\"id\":7}"));

            assertEquals(update("f1", "{\"type\":\"set\",\"value\":0.0,\"version\":0}"), c.subscribe("f1", "float"));
            assertEquals(update("f1", "{\"type\":\"add\",\"value\":2.0,\"version\":1}"),
                    c.update("f1", "{\"type\":\"add\",\"value\":2}"));
            assertEquals(update("f1", "{\"type\":\"set\",\"value\":1.5,\"version\":2}"),
                    c.update("f1", "{\"type\":\"set\",\"value\":1.5}"));

            assertEquals(update("l1", "{\"type\":\"set\",\"value\":[],\"version\":0}"), c.subscribe("l1", "list"));
            assertEquals(update("l1", "{\"type\":\"insert\",\"index\":0,\"value\":{\"a\":1},\"version\":1}"),
                    c.update("l1", "{\"type\":\"insert\",\"index\":0,\"value\":{\"a\":1}}"));
            assertEquals(update("l1", "{\"type\":\"insert\",\"index\":1,\"value\":\"b\",\"version\":2}"),
                    c.update("l1", "{\"type\":\"insert\",\"index\":1,\"value\":\"b\"}"));
            assertEquals(update("l1", "{\"type\":\"pop\",\"index\":0,\"version\":3}"),
                    c.update("l1", "{\"type\":\"pop\",\"index\":0}"));

            assertEquals(update("d1", "{\"type\":\"set\",\"value\":{},\"version\":0}"), c.subscribe("d1", "dict"));
            assertEquals(update("d1", "{\"type\":\"add\",\"key\":\"k\",\"value\":[1,2],\"version\":1}"),
                    c.update("d1", "{\"type\":\"add\",\"key\":\"k\",\"value\":[1,2]}"));
            assertEquals(update("d1", "{\"type\":\"change_value\",\"key\":\"k\",\"value\":null,\"version\":2}"),
                    c.update("d1", "{\"type\":\"change_value\",\"key\":\"k\",\"value\":null}"));
            assertEquals(update("d1", "{\"type\":\"pop\",\"key\":\"k\",\"version\":3}"),
                    c.update("d1", "{\"type\":\"pop\",\"key\":\"k\"}"));

            assertEquals(update("g1", "{\"type\":\"set\",\"value\":null,\"version\":0}"), c.subscribe("g1", "generic"));
            assertEquals(update("g1", "{\"type\":\"set\",\"value\":{\"any\":[true,1.25]},\"version\":1}"),
                    c.update("g1", "{\"type\":\"set\",\"value\":{\"any\":[true,1.25]}}"));

            // A later subscriber gets the current value, whatever type it asked for.
            try (Client late = Client.connect(address)) {
                assertEquals(update("l1", "{\"type\":\"set\",\"value\":[\"b\"],\"version\":3}"), late.subscribe("l1", "int"));
                assertEquals(update("s1", "{\"type\":\"set\",\"value\":\"x\",\"version\":3}"), late.subscribe("s1", "dict"));
            }
        }
    }

    @Test
    void aChangeThatDoesNotFitIsRejectedToItsSenderAlone() throws InterruptedException {
        try (Client c = Client.connect(address); Client other = Client.connect(address)) {
            c.subscribe("r-int", "int");
            other.subscribe("r-int", "int");
            String change = "{\"type\":\"add\",\"value\":\"1\",\"id\":\"x\"}";
            assertEquals(reject("r-int", change, "An int topic adds integers (64 bits), not a string"),
                    c.update("r-int", change));
            change = "{\"type\":\"add\",\"value\":1.5}";
            assertEquals(reject("r-int", change, "An int topic adds integers (64 bits), not a float"), c.update("r-int", change));
            change = "{\"type\":\"insert\",\"index\":0,\"value\":1}";
            assertEquals(reject("r-int", change, "An int topic takes no 'insert' change: only set, add"), c.update("r-int", change));
            c.update("r-int", "{\"type\":\"set\",\"value\":9223372036854775807}");
            change = "{\"type\":\"add\",\"value\":1}";
            assertEquals(reject("r-int", change, "The sum is out of range of an int topic (64 bits)"), c.update("r-int", change));
            // The other subscriber saw the one applied change and no rejection.
            assertEquals(update("r-int", "{\"type\":\"set\",\"value\":9223372036854775807,\"version\":1}"), other.next());
            assertNull(other.ws().poll(200));

            c.subscribe("r-str", "string");
            c.update("r-str", "{\"type\":\"set\",\"value\":\"abc\"}");
            change = "{\"type\":\"insert\",\"position\":4,\"text\":\"z\"}";
            assertEquals(reject("r-str", change, "Position 4 is out of range: the string has 3 characters (0 to 3)"),
                    c.update("r-str", change));
            change = "{\"type\":\"delete\",\"position\":2,\"length\":2}";
            assertEquals(reject("r-str", change, "Deleting 2 characters at position 2 is out of range: the string has 3 characters"),
                    c.update("r-str", change));
            change = "{\"type\":\"insert\",\"text\":\"z\"}";
            assertEquals(reject("r-str", change, "The 'insert' change needs a \\\"position\\\""), c.update("r-str", change));
            change = "{\"type\":\"set\",\"value\":\"" + "x".repeat(70) + "\"}";
            assertEquals(reject("r-str", change, "The value would be over the limit of 64 bytes"), c.update("r-str", change));

            c.subscribe("r-list", "list");
            change = "{\"type\":\"pop\",\"index\":0}";
            assertEquals(reject("r-list", change, "Index 0 is out of range: the list has 0 items"), c.update("r-list", change));
            change = "{\"type\":\"insert\",\"index\":-1,\"value\":1}";
            assertEquals(reject("r-list", change, "Index -1 is out of range: the list has 0 items (0 to 0)"),
                    c.update("r-list", change));

            c.subscribe("r-dict", "dict");
            change = "{\"type\":\"pop\",\"key\":\"k\"}";
            assertEquals(reject("r-dict", change, "No key 'k'"), c.update("r-dict", change));
            change = "{\"type\":\"change_value\",\"key\":\"k\",\"value\":1}";
            assertEquals(reject("r-dict", change, "No key 'k': use add to add it"), c.update("r-dict", change));
            c.update("r-dict", "{\"type\":\"add\",\"key\":\"k\",\"value\":1}");
            change = "{\"type\":\"add\",\"key\":\"k\",\"value\":2}";
            assertEquals(reject("r-dict", change, "Key 'k' exists: use change_value to change it"), c.update("r-dict", change));
            change = "{\"type\":\"set\",\"value\":[]}";
            assertEquals(reject("r-dict", change, "A dict topic cannot hold a list"), c.update("r-dict", change));

            c.subscribe("r-gen", "generic");
            change = "{\"type\":\"add\",\"value\":1}";
            assertEquals(reject("r-gen", change, "A generic topic takes no 'add' change: only set"), c.update("r-gen", change));
            change = "\"set\"";
            assertEquals(reject("r-gen", change,
                    "A change must be an object with a \\\"type\\\", e.g. {\\\"type\\\": \\\"set\\\", \\\"value\\\": 1}"),
                    c.update("r-gen", change));

            change = "{\"type\":\"set\",\"value\":1}";
            assertEquals(reject("never-subscribed", change, "Not subscribed to 'never-subscribed': subscribe before updating"),
                    c.update("never-subscribed", change));
            assertEquals(reject("_chatroom/server_status", change, "'_chatroom/server_status' is written by the server only"),
                    c.update("_chatroom/server_status", change));
            c.send("unsubscribe", "{\"topic_name\":\"r-gen\"}");
            assertEquals(reject("r-gen", change, "Not subscribed to 'r-gen': subscribe before updating"), c.update("r-gen", change));
        }
    }

    /** CHATROOM_MAX_VALUE_BYTES (64 here) at its boundary, the value as compact JSON, and its metric. */
    @Test
    void aValueOfTheMaxBytesIsTakenAndOneByteMoreIsRejectedAndCounted() throws Exception {
        try (Client c = Client.connect(address)) {
            c.subscribe("v64", "string");
            String fits = "\"" + "x".repeat(62) + "\""; // 64 bytes
            assertEquals(update("v64", "{\"type\":\"set\",\"value\":" + fits + ",\"version\":1}"),
                    c.update("v64", "{\"type\":\"set\",\"value\":" + fits + "}"));
            String change = "{\"type\":\"set\",\"value\":\"" + "x".repeat(63) + "\"}"; // 65 bytes
            assertEquals(reject("v64", change, "The value would be over the limit of 64 bytes"), c.update("v64", change));
            assertEquals(1, metric(server, "switchboard_chatroom_updates_rejected_total"));
        }
    }

    @Test
    void concurrentWritersLeaveEverySubscriberWithTheSameValueAndVersions() throws Exception {
        int writers = 4;
        int changes = 150;
        List<Client> clients = new ArrayList<>();
        try {
            for (int i = 0; i < writers; i++) {
                Client c = Client.connect(address);
                clients.add(c);
                c.subscribe("race", "int");
            }
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (Client c : clients) {
                Thread t = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int k = 0; k < changes; k++) {
                        c.send("update", "{\"topic_name\":\"race\",\"change\":{\"type\":\"add\",\"value\":"
                                + c.id() + ",\"id\":\"" + c.id() + "-" + k + "\"}}");
                    }
                });
                t.start();
                threads.add(t);
            }
            go.countDown();
            for (Thread t : threads) {
                t.join();
            }
            // Every subscriber sees versions 1..N in order, and the same sequence of changes.
            List<List<String>> seen = new ArrayList<>();
            for (Client c : clients) {
                List<String> updates = new ArrayList<>();
                for (int v = 1; v <= writers * changes; v++) {
                    String m = c.next();
                    Matcher vm = VERSION.matcher(m);
                    assertTrue(vm.find(), m);
                    assertEquals(v, Integer.parseInt(vm.group(1)), m);
                    updates.add(m);
                }
                seen.add(updates);
            }
            for (List<String> s : seen) {
                assertEquals(seen.get(0), s);
            }
            // A newcomer's snapshot is the end state of that sequence.
            try (Client late = Client.connect(address)) {
                long sum = 0;
                for (Client c : clients) {
                    sum += c.id() * changes;
                }
                assertEquals(update("race", "{\"type\":\"set\",\"value\":" + sum + ",\"version\":" + writers * changes
                        + "}"), late.subscribe("race", "dict"));
            }
        } finally {
            clients.forEach(Client::close);
        }
    }

    @Test
    void requestsReachTheProviderUnderServerIdsAndAnswersComeBackUnderTheRequesters() {
        try (Client provider = Client.connect(address); Client a = Client.connect(address);
             Client b = Client.connect(address)) {
            provider.send("register_service", "{\"service_name\":\"add\"}");
            provider.sync();
            // Both requesters use request_id 1: the provider sees two distinct ids.
            a.send("request", "{\"service_name\":\"add\",\"args\":[1,2],\"request_id\":1}");
            String first = provider.next();
            b.send("request", "{\"service_name\":\"add\",\"args\":{\"x\":3},\"request_id\":1}");
            String second = provider.next();
            Matcher m1 = Pattern.compile("\\{\"type\":\"request\",\"content\":\\{\"service_name\":\"add\",\"args\":\\[1,2],"
                    + "\"request_id\":(\\d+)}}").matcher(first);
            Matcher m2 = Pattern.compile("\\{\"type\":\"request\",\"content\":\\{\"service_name\":\"add\",\"args\":\\{\"x\":3},"
                    + "\"request_id\":(\\d+)}}").matcher(second);
            assertTrue(m1.matches(), first);
            assertTrue(m2.matches(), second);
            assertTrue(!m1.group(1).equals(m2.group(1)));
            // Answered out of order, each reaches its own requester with its own id.
            provider.send("response", "{\"response\":\"for b\",\"request_id\":" + m2.group(1) + "}");
            provider.send("response", "{\"response\":3,\"request_id\":" + m1.group(1) + "}");
            assertEquals("{\"type\":\"response\",\"content\":{\"response\":\"for b\",\"request_id\":1}}", b.next());
            assertEquals("{\"type\":\"response\",\"content\":{\"response\":3,\"request_id\":1}}", a.next());

            a.send("request", "{\"service_name\":\"nope\",\"args\":null,\"request_id\":\"q\"}");
            assertEquals("{\"type\":\"response\",\"content\":{\"response\":null,\"request_id\":\"q\","
                    + "\"error\":\"No service named 'nope'\"}}", a.next());
        }
    }

    @Test
    void unansweredRequestsTimeOutAndLateResponsesAreIgnored() throws Exception {
        try (Client provider = Client.connect(address); Client a = Client.connect(address)) {
            provider.send("register_service", "{\"service_name\":\"slow\"}");
            provider.sync();
            long sent = System.nanoTime();
            a.send("request", "{\"service_name\":\"slow\",\"args\":1,\"request_id\":5}");
            Matcher m = Pattern.compile("\"request_id\":(\\d+)").matcher(provider.next());
            assertTrue(m.find());
            assertEquals("{\"type\":\"response\",\"content\":{\"response\":null,\"request_id\":5,"
                    + "\"error\":\"Service 'slow' did not answer within 500 ms\"}}", a.next());
            // The timeout reached, not before (Netty's timers never fire early; the upper side is the client's wait).
            assertTrue(System.nanoTime() - sent >= Duration.ofMillis(500).toNanos(), "timed out before its time");
            String before = debugJson();
            provider.send("response", "{\"response\":\"late\",\"request_id\":" + m.group(1) + "}");
            provider.send("response", "{\"response\":\"unknown\",\"request_id\":999999}");
            assertNull(a.ws().poll(300));
            assertEquals(ignored(before) + 2, awaitIgnored(ignored(before) + 2));
            assertEquals(2, metric(server, "switchboard_chatroom_responses_ignored_total"));
        }
    }

    @Test
    void aProviderThatLeavesFailsItsPendingRequestsAndReleasesItsServices() {
        try (Client a = Client.connect(address); Client watcher = Client.connect(address)) {
            Client provider = Client.connect(address);
            provider.send("register_service", "{\"service_name\":\"gone\"}");
            provider.sync();
            a.send("request", "{\"service_name\":\"gone\",\"args\":[],\"request_id\":\"r1\"}");
            provider.next();
            provider.ws().abort();
            assertEquals("{\"type\":\"response\",\"content\":{\"response\":null,\"request_id\":\"r1\","
                    + "\"error\":\"The provider of service 'gone' disconnected\"}}", a.next());
            // The name is free again.
            watcher.send("register_service", "{\"service_name\":\"gone\"}");
            watcher.sync();
            a.send("request", "{\"service_name\":\"gone\",\"args\":[],\"request_id\":\"r2\"}");
            assertTrue(watcher.next().startsWith("{\"type\":\"request\",\"content\":{\"service_name\":\"gone\""));
        }
    }

    @Test
    void registrationConflictsAndErrorsAreWrittenToTheClientsMessageTopic() {
        try (Client owner = Client.connect(address); Client c = Client.connect(address)) {
            String own = "_chatroom/client_message/" + c.id();
            assertEquals(update(own, "{\"type\":\"set\",\"value\":\"\",\"version\":0}"), c.subscribe(own, "string"));
            owner.send("register_service", "{\"service_name\":\"taken\"}");
            owner.send("subscribe", "{\"topic_name\":\"sync-point\"}");
            owner.next(); // the snapshot: the registration is done before it
            c.send("register_service", "{\"service_name\":\"taken\"}");
            assertEquals(update(own, "{\"type\":\"set\",\"value\":\"[error] Cannot register service 'taken': client "
                    + owner.id() + " provides it\",\"version\":1}"), c.next());
            c.send("unregister_service", "{\"service_name\":\"taken\"}");
            assertEquals(update(own, "{\"type\":\"set\",\"value\":\"[error] Cannot unregister service 'taken': you do "
                    + "not provide it\",\"version\":2}"), c.next());
            c.ws().send("{not json");
            assertTrue(c.next().contains("\"value\":\"[error] Malformed JSON: "));
            c.send("shout", "{}");
            assertTrue(c.next().contains("\"value\":\"[error] Unknown message type 'shout' (expected: subscribe,"));
            c.ws().sendBinary(new byte[] {1, 2});
            assertTrue(c.next().contains("\"value\":\"[error] Binary frames are not supported: send JSON in text frames\""));
            c.send("subscribe", "{\"topic_name\":\"_chatroom/client_message/" + owner.id() + "\"}");
            assertTrue(c.next().contains("\"value\":\"[error] Cannot subscribe to '_chatroom/client_message/" + owner.id()
                    + "': names starting with _chatroom/ are reserved"));
            c.send("subscribe", "{\"topic_name\":\"t\",\"type\":\"tuple\"}");
            assertTrue(c.next().contains("unknown topic type tuple (expected: generic, string, int, float, list or dict)"));
            c.send("subscribe", "{\"type\":\"int\"}");
            assertTrue(c.next().contains("\"value\":\"[error] 'subscribe' needs \\\"topic_name\\\" in its content\""));
        }
    }

    @Test
    void serverStatusTellsOfClientsAndServices() {
        try (Client watcher = Client.connect(address)) {
            String snapshot = watcher.subscribe("_chatroom/server_status", "string");
            assertTrue(snapshot.contains("\"change\":{\"type\":\"set\",\"value\":\"[info] "), snapshot);
            Client c = Client.connect(address);
            watcher.await("\"value\":\"[info] Client " + c.id() + " connected\"");
            c.send("register_service", "{\"service_name\":\"status-svc\"}");
            watcher.await("\"value\":\"[info] Client " + c.id() + " registered service 'status-svc'\"");
            c.close();
            watcher.await("\"value\":\"[info] Service 'status-svc' is gone: its provider, client " + c.id()
                    + ", disconnected\"");
            watcher.await("\"value\":\"[info] Client " + c.id() + " disconnected\"");
        }
    }

    @Test
    void theDebugPageListsClientsTopicsAndServices() throws Exception {
        try (Client c = Client.connect(address)) {
            c.subscribe("debug-topic", "dict");
            c.update("debug-topic", "{\"type\":\"add\",\"key\":\"<k>\",\"value\":1}");
            c.send("register_service", "{\"service_name\":\"debug-svc\"}");
            c.subscribe("sync-debug", "int"); // the registration is done once this answers
            String json = debugJson();
            // The address as a client would write it, not InetSocketAddress's "/127.0.0.1:port" (issue 20).
            assertTrue(Pattern.compile("\\{\"id\":" + c.id() + ",\"address\":\"127\\.0\\.0\\.1:\\d+\",").matcher(json).find(),
                    json);
            assertTrue(json.contains("\"topics\":[\"debug-topic\",\"sync-debug\"],\"services\":[\"debug-svc\"]}"), json);
            assertTrue(json.contains("{\"name\":\"debug-topic\",\"type\":\"dict\",\"value\":{\"<k>\":1},\"version\":1,"
                    + "\"subscribers\":[" + c.id() + "]}"), json);
            assertTrue(json.contains("{\"name\":\"debug-svc\",\"provider\":" + c.id() + "}"), json);
            HttpResponse<String> html = get("/");
            assertEquals(200, html.statusCode());
            assertTrue(html.body().contains("<tr><td>" + c.id() + "</td><td>127.0.0.1:"), html.body());
            assertTrue(html.body().contains("<td>debug-topic</td><td>dict</td><td>1</td><td>" + c.id()
                    + "</td><td><pre>{&quot;&lt;k&gt;&quot;:1}</pre></td>"), html.body());
            assertEquals(404, get("/nothing").statusCode());
        }
        assertEquals("127.0.0.1", server.debugAddress().getAddress().getHostAddress());
    }

    @Test
    void topicsAndWaitingRequestsAreBounded() throws Exception {
        SwitchboardServer small = Requests.startOnLoopback(SwitchboardConfig.builder().chatroomMaxTopics(2)
                .chatroomMaxPendingRequests(1));
        try (Client c = Client.connect(small.localAddress()); Client provider = Client.connect(small.localAddress())) {
            String own = "_chatroom/client_message/" + c.id();
            c.subscribe(own, "string"); // special topics do not count
            c.subscribe("one", "int");
            c.subscribe("two", "int");
            c.send("subscribe", "{\"topic_name\":\"three\"}");
            assertEquals(update(own, "{\"type\":\"set\",\"value\":\"[error] Cannot subscribe to 'three': this "
                    + "server holds its most topics (2)\",\"version\":1}"), c.next());
            provider.send("register_service", "{\"service_name\":\"hold\"}");
            provider.sync();
            c.send("request", "{\"service_name\":\"hold\",\"args\":1,\"request_id\":1}");
            provider.next();
            c.send("request", "{\"service_name\":\"hold\",\"args\":2,\"request_id\":2}");
            assertEquals("{\"type\":\"response\",\"content\":{\"response\":null,\"request_id\":2,"
                    + "\"error\":\"Too many requests waiting for responses (at most 1)\"}}", c.next());
            assertEquals(2, metric(small, "switchboard_chatroom_topics"), "the special topics aside");
            assertEquals(1, metric(small, "switchboard_chatroom_requests_pending"));
        } finally {
            small.stop().join();
        }
    }

    @Test
    void aValueThatWouldCostMoreHeapThanItsBoundIsRejected() {
        // 64 bytes of JSON may cost 16 * 64 = 1024 bytes of heap; an empty dict in a list is
        // estimated at 94 (the map 88, its slot 6), the list at 48: ten fit (988), eleven do not.
        try (Client c = Client.connect(address)) {
            c.subscribe("costly", "list");
            String ten = "[" + "{},".repeat(9) + "{}]";
            assertEquals(update("costly", "{\"type\":\"set\",\"value\":" + ten + ",\"version\":1}"),
                    c.update("costly", "{\"type\":\"set\",\"value\":" + ten + "}"));
            String change = "{\"type\":\"insert\",\"index\":0,\"value\":{}}";
            assertEquals(reject("costly", change,
                    "The value would take over 1024 bytes of the server's memory (it would take about 1082)"),
                    c.update("costly", change));
            assertEquals(update("costly", "{\"type\":\"pop\",\"index\":0,\"version\":2}"),
                    c.update("costly", "{\"type\":\"pop\",\"index\":0}"));
        }
    }

    /**
     * The attack: values of many tiny items, each costing far more heap than its JSON, on
     * topic after topic. Each is refused past 16 times CHATROOM_MAX_VALUE_BYTES, and the node's
     * values together past CHATROOM_MAX_MEMORY_BYTES; the heap, measured after a collection, grows
     * by no more than the node's estimate of its values (the estimate errs high) and the bound.
     */
    @Test
    void aClientCannotFillTheHeapWithCostlyValues() throws Exception {
        long maxMemory = 24L * 1024 * 1024;
        SwitchboardServer small = Requests.startOnLoopback(SwitchboardConfig.builder().chatroomMaxMemoryBytes(maxMemory));
        MemoryMXBean heap = ManagementFactory.getMemoryMXBean();
        try (Client c = Client.connect(small.localAddress())) {
            long before = usedHeapAfterGc(heap);
            long maxCost = 16L * 65536;
            // At the value's bound: 48 + 11154 * 94 fits 1 MiB, one more empty dict does not.
            c.subscribe("heavy-0", "list");
            String value = "[" + "{},".repeat(11153) + "{}]";
            assertTrue(c.update("heavy-0", "{\"type\":\"set\",\"value\":" + value + "}").startsWith(
                    "{\"type\":\"update\",\"content\":{\"topic_name\":\"heavy-0\",\"change\":{\"type\":\"set\""));
            String change = "{\"type\":\"insert\",\"index\":0,\"value\":{}}";
            assertEquals(reject("heavy-0", change, "The value would take over " + maxCost
                    + " bytes of the server's memory (it would take about " + (48 + 11155 * 94) + ")"),
                    c.update("heavy-0", change));
            // Topic after topic, in shapes that cost the most per byte of JSON, until the node refuses.
            String[] shapes = {"{}", "[]", "0", "\"\"", "1.5"};
            String fullReason = Pattern.quote("The server holds its most chatroom data (" + maxMemory
                    + " bytes of memory for every topic's value): this change would add about ") + "\\d+";
            int accepted = 1;
            int topic = 1;
            for (;; topic++) {
                assertTrue(topic <= 200, "the node took " + accepted + " costly values");
                String name = "heavy-" + topic;
                c.subscribe(name, "list");
                String item = shapes[topic % shapes.length];
                int n = Math.min(40_000 / (item.length() + 1), (int) ((maxCost - 48) / itemCost(item)));
                String reply = c.update(name, "{\"type\":\"set\",\"value\":[" + (item + ",").repeat(n - 1) + item + "]}");
                if (reply.startsWith("{\"type\":\"reject_update\"")) {
                    assertTrue(reply.matches("\\{\"type\":\"reject_update\",\"content\":\\{\"topic_name\":\"" + name
                            + "\",\"change\":.*,\"reason\":\"" + fullReason + "\"}}"), reply.substring(0, 100));
                    break;
                }
                accepted++;
            }
            long estimated = metric(small, "switchboard_chatroom_memory_bytes");
            assertTrue(estimated <= maxMemory && estimated > maxMemory - maxCost, "estimated " + estimated);
            long grown = usedHeapAfterGc(heap) - before;
            long slack = 8L * 1024 * 1024; // the test's own garbage and buffers, the pools' chunks
            assertTrue(grown <= estimated + slack, "the heap grew by " + grown + " for values estimated at " + estimated);
            // Freeing what it holds makes room again.
            assertEquals(update("heavy-0", "{\"type\":\"set\",\"value\":[],\"version\":2}"),
                    c.update("heavy-0", "{\"type\":\"set\",\"value\":[]}"));
            String name = "heavy-" + topic;
            assertTrue(c.update(name, "{\"type\":\"set\",\"value\":[" + "{},".repeat(99) + "{}]}")
                    .startsWith("{\"type\":\"update\""));
        } finally {
            small.stop().join();
        }
    }

    /** The estimated heap cost of a list item, as JsonValues.heapCost counts it (slot included). */
    private static long itemCost(String item) {
        return 6 + switch (item) {
            case "{}" -> 88;
            case "[]" -> 48;
            case "\"\"" -> 40;
            default -> 16; // a boxed number
        };
    }

    private static long usedHeapAfterGc(MemoryMXBean heap) {
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) { // the lowest of a few: a collection may run while another is under way
            System.gc();
            used = Math.min(used, heap.getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    @Test
    void aTopicWithoutSubscribersExpiresWithItsValueSoSquattersCannotHoldTheLimit() throws Exception {
        SwitchboardServer small = Requests.startOnLoopback(SwitchboardConfig.builder().chatroomMaxTopics(2)
                .chatroomTopicIdleTimeout(Duration.ofMillis(200)).debug(true).debugPort(0));
        try (Client other = Client.connect(small.localAddress())) {
            String own = "_chatroom/client_message/" + other.id();
            other.subscribe(own, "string");
            long left;
            try (Client squatter = Client.connect(small.localAddress())) {
                squatter.subscribe("a", "list");
                squatter.update("a", "{\"type\":\"insert\",\"index\":0,\"value\":1}");
                squatter.subscribe("b", "int");
                other.send("subscribe", "{\"topic_name\":\"c\",\"type\":\"int\"}");
                assertEquals(update(own, "{\"type\":\"set\",\"value\":\"[error] Cannot subscribe to 'c': this "
                        + "server holds its most topics (2)\",\"version\":1}"), other.next());
                left = System.nanoTime(); // before the squatter's close, so before its topics are idle
            }
            // Gone with the squatter's subscriptions, once idle for the timeout (polled, bounded).
            long deadline = System.nanoTime() + JdkClient.WAIT.toNanos();
            while (metric(small, "switchboard_chatroom_topics_expired_total") < 2 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(2, metric(small, "switchboard_chatroom_topics_expired_total"));
            assertTrue(System.nanoTime() - left >= Duration.ofMillis(200).toNanos(), "expired before the idle timeout");
            assertEquals(0, metric(small, "switchboard_chatroom_topics"));
            assertEquals(0, metric(small, "switchboard_chatroom_memory_bytes"));
            String json = get(small, "/json").body();
            assertTrue(json.contains("{\"name\":\"" + own + "\"") && !json.contains("{\"name\":\"a\"")
                    && !json.contains("{\"name\":\"b\""), json);
            // Its value went with it: a subscribe creates it anew, empty, and there is room for others.
            assertEquals(update("a", "{\"type\":\"set\",\"value\":0,\"version\":0}"), other.subscribe("a", "int"));
            assertEquals(update("c", "{\"type\":\"set\",\"value\":[],\"version\":0}"), other.subscribe("c", "list"));
        } finally {
            small.stop().join();
        }
    }

    /**
     * A subscribe or change that reaches a topic as it expires goes to its successor: the
     * subscriber gets a snapshot, and its change is applied on top of that snapshot, never lost.
     * Three clients (on different event loops) take turns on a topic that expires as soon as it
     * has no subscriber, without waiting for their unsubscribes.
     */
    @Test
    void subscribesAndChangesRacingAnExpiryAreNeverLost() {
        SwitchboardServer small = Requests.startOnLoopback(SwitchboardConfig.builder()
                .chatroomTopicIdleTimeout(Duration.ofNanos(1)));
        Pattern snapshot = Pattern.compile("\\{\"type\":\"update\",\"content\":\\{\"topic_name\":\"flip\",\"change\":"
                + "\\{\"type\":\"set\",\"value\":\\[.*],\"version\":(\\d+)}}}");
        List<Client> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                clients.add(Client.connect(small.localAddress()));
            }
            for (int i = 0; i < 300; i++) {
                Client who = clients.get(i % 3);
                who.send("subscribe", "{\"topic_name\":\"flip\",\"type\":\"list\"}");
                // Changes of others while this client was still subscribed may come first.
                String reply = who.await("\"change\":{\"type\":\"set\"");
                Matcher m = snapshot.matcher(reply);
                assertTrue(m.matches(), reply);
                long version = Long.parseLong(m.group(1));
                assertEquals(update("flip", "{\"type\":\"insert\",\"index\":0,\"value\":" + i + ",\"version\":"
                        + (version + 1) + "}"), who.update("flip", "{\"type\":\"insert\",\"index\":0,\"value\":" + i + "}"));
                who.send("unsubscribe", "{\"topic_name\":\"flip\"}");
            }
        } finally {
            clients.forEach(Client::close);
            small.stop().join();
        }
    }

    private static long metric(SwitchboardServer node, String name) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + node.localAddress().getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        Matcher m = Pattern.compile("(?m)^" + name + "(?:\\{[^}]*})? (\\S+)$").matcher(r.body());
        assertTrue(m.find(), name + " in " + r.body());
        return (long) Double.parseDouble(m.group(1));
    }

    private static HttpResponse<String> get(SwitchboardServer node, String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + node.debugAddress().getPort() + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + server.debugAddress().getPort() + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private String debugJson() throws Exception {
        HttpResponse<String> r = get("/json");
        assertEquals(200, r.statusCode());
        return r.body();
    }

    private static long ignored(String json) {
        Matcher m = Pattern.compile("\"ignored_responses\":(\\d+)").matcher(json);
        assertTrue(m.find(), json);
        return Long.parseLong(m.group(1));
    }

    private long awaitIgnored(long expected) throws Exception {
        long deadline = System.nanoTime() + JdkClient.WAIT.toNanos();
        long seen;
        do {
            seen = ignored(debugJson());
            if (seen >= expected) {
                return seen;
            }
            Thread.sleep(20);
        } while (System.nanoTime() < deadline);
        return seen;
    }
}
