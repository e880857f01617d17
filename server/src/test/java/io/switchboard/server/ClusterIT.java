package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.LineClient;
import io.switchboard.server.testing.NodeProcess;
import io.switchboard.server.testing.RedisProcess;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.switchboard.server.testing.Requests.publish;
import static io.switchboard.server.testing.Requests.subscribe;
import static io.switchboard.server.testing.Requests.unsubscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Several nodes joined through a real Redis (started by the test: {@link RedisProcess}), with
 * real WebSocket clients on each. Each test has its own key prefix, so its nodes form a cluster
 * of their own.
 */
@Timeout(180)
class ClusterIT {

    private static final Pattern DELIVERY = Pattern.compile("\"sender\":\"([^\"]+)\".*\"content\":\\{\"n\":(\\d+)}");
    private static final AtomicInteger CLUSTERS = new AtomicInteger();
    private static final String EXPIRED = "switchboard_cluster_nodes_expired_total";
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String API_KEY = "cluster-it-key-0123";
    private static RedisProcess redis;

    private final String prefix = "it" + CLUSTERS.incrementAndGet() + ":";
    private final List<SwitchboardServer> nodes = new ArrayList<>();
    private final List<JdkClient> clients = new ArrayList<>();

    @BeforeAll
    static void startRedis() {
        redis = RedisProcess.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @AfterEach
    void stopNodes() {
        clients.forEach(JdkClient::close);
        nodes.forEach(SwitchboardServer::close);
        redis.startAgain();
    }

    @Test
    void everyClientGetsEveryMessageOnceInPublisherOrder() throws Exception {
        int perNode = 3;
        int messages = 200;
        List<JdkClient> all = new ArrayList<>();
        for (int n = 0; n < 3; n++) {
            SwitchboardServer node = node(Duration.ofSeconds(30));
            for (int c = 0; c < perNode; c++) {
                JdkClient client = client(node, "n" + n + "c" + c);
                // The ok of a subscribe promises publishes from every node: no waiting for counts here.
                assertTrue(client.request(subscribe("room")).startsWith("{\"status\":\"ok\""));
                all.add(client);
            }
        }
        // One publisher per node, all at once.
        ExecutorService publishers = Executors.newFixedThreadPool(3);
        List<Future<?>> sent = new ArrayList<>();
        for (int n = 0; n < 3; n++) {
            JdkClient publisher = all.get(n * perNode);
            sent.add(publishers.submit(() -> {
                for (int i = 0; i < messages; i++) {
                    publisher.send(publish("room", "{\"n\":" + i + "}"));
                }
            }));
        }
        for (Future<?> f : sent) {
            f.get();
        }
        publishers.shutdown();

        for (JdkClient client : all) {
            Map<String, Integer> next = new HashMap<>();
            int received = 0;
            while (received < 3 * messages) {
                Matcher m = DELIVERY.matcher(client.next());
                if (!m.find()) {
                    continue; // this publisher's own oks
                }
                String sender = m.group(1);
                int n = Integer.parseInt(m.group(2));
                int expected = next.getOrDefault(sender, 0);
                assertEquals(expected, n, "delivery from " + sender + " out of order or duplicated");
                next.put(sender, n + 1);
                received++;
            }
            assertEquals(Map.of("n0c0", messages, "n1c0", messages, "n2c0", messages), next);
            assertNull(client.poll(200), "nothing more: no duplicate");
        }
        // Each node is subscribed to the channel once in Redis, and a node without subscribers not at all.
        assertEquals(3, redis.subscribersOf(prefix + "ch:room"));
        SwitchboardServer idle = node(Duration.ofSeconds(30));
        awaitTrue(() -> count(idle, "room") == 9, "the new node counts the others' subscribers");
        assertEquals(3, redis.subscribersOf(prefix + "ch:room"));
    }

    @Test
    void disposableRoomsAndTheLineChatSpanNodes() throws Exception {
        SwitchboardServer a = node(SwitchboardConfig.builder().lineOnAnyPort().lineChannel("cross"));
        SwitchboardServer b = node(SwitchboardConfig.builder().lineOnAnyPort().lineChannel("cross"));
        JdkClient ann = disposable(a, "ann");
        String annWelcome = ann.next();
        String annId = idOf(annWelcome, "ann");
        assertEquals("{\"type\":\"welcome\",\"data\":{\"room\":{\"name\":\"cross\",\"activeClients\":["
                + member(annId, "ann") + "]}}}", annWelcome);
        assertEquals(info(annId, "ann", "registered"), ann.next());
        awaitTrue(() -> count(b, "cross") == 1, "node b hears of node a's member");

        JdkClient bob = disposable(b, "bob");
        String bobWelcome = bob.next();
        String bobId = idOf(bobWelcome, "bob");
        assertTrue(bobWelcome.contains(member(annId, "ann")), "the welcome lists members on other nodes: " + bobWelcome);
        assertTrue(bobWelcome.contains(member(bobId, "bob")), bobWelcome);
        assertEquals(info(bobId, "bob", "registered"), bob.next());
        assertEquals(info(bobId, "bob", "registered"), ann.next(), "info crosses nodes");

        bob.send("{\"text\":\"hi ann\"}");
        String chat = "{\"type\":\"chat\",\"data\":{\"room\":{\"name\":\"cross\"},\"client\":" + member(bobId, "bob")
                + ",\"text\":\"hi ann\"}}";
        assertEquals(chat, bob.next());
        assertEquals(chat, ann.next());

        // The line chat is the channel "cross" on both nodes.
        try (LineClient onA = LineClient.join(a.lineAddress())) {
            awaitTrue(() -> count(b, "cross") == 3, "node b counts the line client on node a");
            try (LineClient onB = LineClient.join(b.lineAddress())) {
                assertEquals("A new client has connected to the chat: id = " + onB.id(), onA.readLine());
                onB.send("from the line on b");
                assertEquals(onB.id() + ": from the line on b", onA.readLine());
                String fromLine = "{\"type\":\"chat\",\"data\":{\"room\":{\"name\":\"cross\"},\"client\":"
                        + member(onB.id(), onB.id()) + ",\"text\":\"from the line on b\"}}";
                assertEquals(fromLine, ann.next());
                assertEquals(fromLine, bob.next());
                ann.send("{\"text\":\"to everyone\"}");
                ann.next();
                bob.next();
                assertEquals("ann: to everyone", onA.readLine());
                // onA's join notice crosses Redis on its own; node b's count of it may come first, so the
                // notice may reach onB just after onB joined. Anything else is a failure.
                String next = onB.readLine();
                if (next.equals("A new client has connected to the chat: id = " + onA.id())) {
                    next = onB.readLine();
                }
                assertEquals("ann: to everyone", next);
                String bId = onB.id();
                onB.abort();
                assertEquals(bId + " has left the chat", onA.readLine());
            }
        }

        bob.abort();
        assertEquals(info(bobId, "bob", "unregistered"), ann.next());
        assertNull(ann.poll(300), "one unregistered, from bob's node");
        awaitTrue(() -> count(a, "cross") == 1, "node a no longer counts bob");
        JdkClient cy = disposable(a, "cyd");
        String cyWelcome = cy.next();
        assertFalse(cyWelcome.contains(bobId), "bob left the room's members in Redis: " + cyWelcome);
        assertTrue(cyWelcome.contains(member(annId, "ann")), cyWelcome);
    }

    private JdkClient disposable(SwitchboardServer node, String name) {
        return disposable(node, name, "cross");
    }

    private JdkClient disposable(SwitchboardServer node, String name, String room) {
        return disposable(node.localAddress(), name, room);
    }

    private JdkClient disposable(InetSocketAddress node, String name, String room) {
        JdkClient c = JdkClient.connect(URI.create("ws://127.0.0.1:" + node.getPort() + "/ws?name=" + name
                + "&room=" + room));
        clients.add(c);
        return c;
    }

    /** The {@code welcome} a new disposable member of {@code room} on {@code node} gets; the member leaves. */
    private static String welcomeOn(SwitchboardServer node, String room) {
        try (JdkClient probe = JdkClient.connect(URI.create("ws://127.0.0.1:" + node.localAddress().getPort()
                + "/ws?name=probe&room=" + room))) {
            return probe.next();
        }
    }

    /**
     * PROTOCOL.md section 1a, "Presence", across nodes: a join_leave subscriber on one node hears the
     * members of every dialect on another come and go, and presence lists them all, on the WebSocket
     * and at {@code GET /api/presence} alike.
     */
    @Test
    void presenceAndJoinLeaveSpanNodes() throws Exception {
        SwitchboardConfig.Builder config = SwitchboardConfig.builder().lineOnAnyPort().lineChannel("lobby")
                .apiKey(API_KEY);
        SwitchboardServer a = node(config);
        SwitchboardServer b = node(config);
        JdkClient watcher = client(a, "watcher");
        assertTrue(watcher.request(PresenceIT.subscribeWithJoinLeave("lobby")).startsWith("{\"status\":\"ok\""));

        JdkClient bea = client(b, "bea");
        bea.request(subscribe("lobby"));
        String beaJoin = watcher.next();
        String beaId = PresenceIT.idIn(beaJoin, "bea");
        assertEquals(PresenceIT.join(beaId, "bea", "minichats"), beaJoin, "a join crosses nodes");
        JdkClient dora = disposable(b, "dora", "lobby");
        String welcome = dora.next();
        String doraJoin = watcher.next();
        String doraId = PresenceIT.idIn(doraJoin, "dora");
        assertEquals(PresenceIT.join(doraId, "dora", "disposable"), doraJoin);
        assertEquals("{\"type\":\"welcome\",\"data\":{\"room\":{\"name\":\"lobby\",\"activeClients\":[{\"id\":\""
                + doraId + "\",\"name\":\"dora\"}]}}}", welcome, "a welcome lists disposable members only, on any node");
        try (LineClient telnet = LineClient.join(b.lineAddress())) {
            String lineJoin = watcher.next();
            String lineId = PresenceIT.idIn(lineJoin, telnet.id());
            assertTrue(lineId.matches(Pattern.quote(telnet.id()) + "@[0-9a-f]{16}"),
                    "in a cluster a line client's id is its address and its node's: " + lineId);
            assertEquals(PresenceIT.join(lineId, telnet.id(), "line"), lineJoin);

            String watcherId = PresenceIT.idIn(watcher.request(PresenceIT.presence("lobby", null)), "watcher");
            String all = "{\"status\":\"ok\",\"info\":{\"channel_name\":\"lobby\",\"clients\":["
                    + PresenceIT.client(lineId, telnet.id(), "line") + "," + PresenceIT.client(beaId, "bea", "minichats")
                    + "," + PresenceIT.client(doraId, "dora", "disposable") + ","
                    + PresenceIT.client(watcherId, "watcher", "minichats") + "]}}";
            // Redis has b's members a moment after a hears of their joins.
            awaitTrue(() -> all.equals(watcher.request(PresenceIT.presence("lobby", null))), "a lists b's members");
            awaitTrue(() -> all.equals(apiPresence(b, "lobby")), "b's HTTP API lists a's member");
            assertEquals(0.0, Requests.metric(a, "switchboard_presence_partial_total"));

            bea.request(unsubscribe("lobby"));
            assertEquals(PresenceIT.leave(beaId, "bea", "minichats"), watcher.next());
            dora.abort();
            assertEquals(PresenceIT.leave(doraId, "dora", "disposable"), watcher.next());
            telnet.abort();
            assertEquals(PresenceIT.leave(lineId, telnet.id(), "line"), watcher.next());
        }
        String alone = "{\"status\":\"ok\",\"info\":{\"channel_name\":\"lobby\",\"clients\":["
                + PresenceIT.client(PresenceIT.idIn(apiPresence(a, "lobby"), "watcher"), "watcher", "minichats") + "]}}";
        awaitTrue(() -> alone.equals(apiPresence(b, "lobby")), "b's members left presence in Redis");
    }

    private static String apiPresence(SwitchboardServer node, String channel) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.localAddress().getPort()
                    + "/api/presence?channel_name=" + channel)).header("Authorization", "Bearer " + API_KEY).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static String idOf(String welcome, String name) {
        Matcher m = Pattern.compile("\\{\"id\":\"([^\"]+)\",\"name\":\"" + name + "\"}").matcher(welcome);
        assertTrue(m.find(), welcome);
        return m.group(1);
    }

    private static String member(String id, String name) {
        return "{\"id\":\"" + id + "\",\"name\":\"" + name + "\"}";
    }

    private static String info(String id, String name, String action) {
        return "{\"type\":\"info\",\"data\":{\"room\":{\"name\":\"cross\"},\"client\":" + member(id, name)
                + ",\"action\":\"" + action + "\"}}";
    }

    @Test
    void chatroomTopicsAndServicesSpanNodes() throws Exception {
        SwitchboardServer a = node(SwitchboardConfig.builder());
        SwitchboardServer b = node(SwitchboardConfig.builder());
        JdkClient onA = chatroom(a);
        JdkClient onB = chatroom(b);
        long idA = helloId(onA.next());
        long idB = helloId(onB.next());
        assertTrue(idA > 0 && idB > 0 && idA != idB, "ids unique in the cluster: " + idA + ", " + idB);

        // One topic, two writers on two nodes: both subscribers see the same versions in the same order.
        onA.send(chatroomMessage("subscribe", "{\"topic_name\":\"shared\",\"type\":\"list\"}"));
        assertEquals(topicUpdate("shared", "{\"type\":\"set\",\"value\":[],\"version\":0}"), onA.next());
        onB.send(chatroomMessage("subscribe", "{\"topic_name\":\"shared\",\"type\":\"int\"}"));
        assertEquals(topicUpdate("shared", "{\"type\":\"set\",\"value\":[],\"version\":0}"), onB.next());
        int each = 40;
        Thread writerB = new Thread(() -> {
            for (int i = 0; i < each; i++) {
                onB.send(chatroomMessage("update", "{\"topic_name\":\"shared\",\"change\":{\"type\":\"insert\","
                        + "\"index\":0,\"value\":\"b" + i + "\"}}"));
            }
        });
        writerB.start();
        for (int i = 0; i < each; i++) {
            onA.send(chatroomMessage("update", "{\"topic_name\":\"shared\",\"change\":{\"type\":\"insert\","
                    + "\"index\":0,\"value\":\"a" + i + "\"}}"));
        }
        writerB.join();
        List<String> seenA = new ArrayList<>();
        List<String> seenB = new ArrayList<>();
        for (int v = 1; v <= 2 * each; v++) {
            seenA.add(onA.next());
            seenB.add(onB.next());
            assertTrue(seenA.get(v - 1).endsWith(",\"version\":" + v + "}}}"), seenA.get(v - 1));
        }
        assertEquals(seenA, seenB);
        JdkClient late = chatroom(b);
        late.next();
        late.send(chatroomMessage("subscribe", "{\"topic_name\":\"shared\"}"));
        String snapshot = late.next();
        assertTrue(snapshot.endsWith(",\"version\":" + 2 * each + "}}}"), snapshot);
        assertEquals(2 * each, snapshot.split("\"[ab]\\d+\"").length - 1, snapshot);

        // A service on node a, asked from node b; a second provider is refused across nodes.
        onA.send(chatroomMessage("subscribe", "{\"topic_name\":\"_chatroom/server_status\"}"));
        onA.next();
        onA.send(chatroomMessage("register_service", "{\"service_name\":\"echo\"}"));
        String status;
        do {
            status = onA.next(); // node a's events, the late client's connect among them
        } while (!status.contains("[info] Client " + idA + " registered service 'echo'"));
        onA.send(chatroomMessage("unsubscribe", "{\"topic_name\":\"_chatroom/server_status\"}"));
        String own = "_chatroom/client_message/" + idB;
        onB.send(chatroomMessage("subscribe", "{\"topic_name\":\"" + own + "\"}"));
        onB.next();
        onB.send(chatroomMessage("register_service", "{\"service_name\":\"echo\"}"));
        assertTrue(onB.next().contains("Cannot register service 'echo': client " + idA + " provides it"));
        onB.send(chatroomMessage("request", "{\"service_name\":\"echo\",\"args\":{\"say\":\"hi\"},\"request_id\":1}"));
        Matcher m = Pattern.compile("\\{\"type\":\"request\",\"content\":\\{\"service_name\":\"echo\","
                + "\"args\":\\{\"say\":\"hi\"},\"request_id\":(\\d+)}}").matcher(onA.next());
        assertTrue(m.matches());
        onA.send(chatroomMessage("response", "{\"response\":\"hi\",\"request_id\":" + m.group(1) + "}"));
        assertEquals("{\"type\":\"response\",\"content\":{\"response\":\"hi\",\"request_id\":1}}", onB.next());

        // The provider leaves with a request pending: the requester on the other node hears at once.
        onB.send(chatroomMessage("request", "{\"service_name\":\"echo\",\"args\":null,\"request_id\":2}"));
        onA.next();
        onA.abort();
        assertEquals("{\"type\":\"response\",\"content\":{\"response\":null,\"request_id\":2,"
                + "\"error\":\"The provider of service 'echo' disconnected\"}}", onB.next());
        onB.send(chatroomMessage("request", "{\"service_name\":\"echo\",\"args\":null,\"request_id\":3}"));
        assertEquals("{\"type\":\"response\",\"content\":{\"response\":null,\"request_id\":3,"
                + "\"error\":\"No service named 'echo'\"}}", onB.next());
    }

    /**
     * A registration has no answer; in a cluster the provider's next message is read only once
     * Redis has decided it (issue 20): an unregister right behind it finds the service, and after the
     * answer to the next message a requester on another node finds it.
     */
    @Test
    void aChatroomRegistrationTakesEffectBeforeTheProvidersNextMessageIsRead() throws Exception {
        SwitchboardServer a = node(SwitchboardConfig.builder());
        SwitchboardServer b = node(SwitchboardConfig.builder());
        JdkClient provider = chatroom(a);
        JdkClient requester = chatroom(b);
        long id = helloId(provider.next());
        helloId(requester.next());
        String own = "_chatroom/client_message/" + id;
        String noNotice = topicUpdate(own, "{\"type\":\"set\",\"value\":\"\",\"version\":0}");
        for (int i = 0; i < 10; i++) {
            provider.send(chatroomMessage("register_service", "{\"service_name\":\"brief-" + i + "\"}"));
            provider.send(chatroomMessage("unregister_service", "{\"service_name\":\"brief-" + i + "\"}"));
            provider.send(chatroomMessage("register_service", "{\"service_name\":\"svc-" + i + "\"}"));
            provider.send(chatroomMessage("subscribe", "{\"topic_name\":\"" + own + "\"}"));
            assertEquals(noNotice, provider.next(), "neither refused nor 'you do not provide it'");
            requester.send(chatroomMessage("request", "{\"service_name\":\"svc-" + i + "\",\"args\":" + i
                    + ",\"request_id\":" + i + "}"));
            Matcher m = Pattern.compile("\\{\"type\":\"request\",\"content\":\\{\"service_name\":\"svc-" + i
                    + "\",\"args\":" + i + ",\"request_id\":(\\d+)}}").matcher(provider.next());
            assertTrue(m.matches());
            provider.send(chatroomMessage("response", "{\"response\":" + i + ",\"request_id\":" + m.group(1) + "}"));
            assertEquals("{\"type\":\"response\",\"content\":{\"response\":" + i + ",\"request_id\":" + i + "}}",
                    requester.next());
        }
        requester.send(chatroomMessage("request", "{\"service_name\":\"brief-0\",\"args\":null,\"request_id\":\"x\"}"));
        assertEquals("{\"type\":\"response\",\"content\":{\"response\":null,\"request_id\":\"x\","
                + "\"error\":\"No service named 'brief-0'\"}}", requester.next(), "the unregister took effect");
    }

    private JdkClient chatroom(SwitchboardServer node) {
        JdkClient c = JdkClient.connect(URI.create("ws://127.0.0.1:" + node.localAddress().getPort() + "/chatroom"));
        clients.add(c);
        return c;
    }

    private static long helloId(String hello) {
        Matcher m = Pattern.compile("\\{\"type\":\"hello\",\"content\":\\{\"id\":(\\d+)}}").matcher(hello);
        assertTrue(m.matches(), hello);
        return Long.parseLong(m.group(1));
    }

    private static String chatroomMessage(String type, String content) {
        return "{\"type\":\"" + type + "\",\"content\":" + content + "}";
    }

    private static String topicUpdate(String topic, String change) {
        return "{\"type\":\"update\",\"content\":{\"topic_name\":\"" + topic + "\",\"change\":" + change + "}}";
    }

    @Test
    void aSubscribeOkMeansPublishesFromOtherNodesArrive() throws Exception {
        SwitchboardServer a = node(Duration.ofSeconds(30));
        SwitchboardServer b = node(Duration.ofSeconds(30));
        JdkClient publisher = client(a, "pub");
        JdkClient subscriber = client(b, "sub");
        for (int i = 0; i < 50; i++) {
            String channel = "fresh-" + i;
            assertTrue(publisher.request(subscribe(channel)).startsWith("{\"status\":\"ok\""));
            // Requests pipelined behind a waiting subscribe are answered after it, in order.
            subscriber.send(subscribe(channel));
            subscriber.send("{\"action\":\"list\",\"request_id\":" + i + "}");
            assertTrue(subscriber.next().startsWith("{\"status\":\"ok\",\"info\":{\"channel_name\""));
            assertTrue(subscriber.next().startsWith("{\"status\":\"ok\",\"request_id\":" + i));
            assertTrue(publisher.request(publish(channel, "{\"n\":" + i + "}")).startsWith("{\"status\":\"ok\""));
            assertTrue(publisher.next().contains("{\"n\":" + i + "}"), "its own copy");
            assertTrue(subscriber.next().contains("{\"n\":" + i + "}"), "published right after the ok: delivered");
        }
    }

    @Test
    void countsAndListingAgreeAcrossNodesAfterChurn() throws Exception {
        List<SwitchboardServer> three = List.of(node(Duration.ofSeconds(30)), node(Duration.ofSeconds(30)),
                node(Duration.ofSeconds(30)));
        String[] channels = {"a", "b", "c", "d", "e"};
        Random random = new Random(42);
        Map<JdkClient, List<String>> joined = new HashMap<>();
        for (int i = 0; i < 30; i++) {
            JdkClient c = client(three.get(i % 3), "churn" + i);
            joined.put(c, new ArrayList<>());
        }
        for (int round = 0; round < 200; round++) {
            List<JdkClient> live = new ArrayList<>(joined.keySet());
            JdkClient c = live.get(random.nextInt(live.size()));
            String channel = channels[random.nextInt(channels.length)];
            List<String> mine = joined.get(c);
            if (round % 40 == 39) {
                c.abort(); // gone without a word
                joined.remove(c);
            } else if (mine.contains(channel)) {
                c.request(unsubscribe(channel));
                mine.remove(channel);
            } else {
                c.request(subscribe(channel));
                mine.add(channel);
            }
        }
        Map<String, Integer> expected = new TreeMap<>();
        joined.values().forEach(list -> list.forEach(ch -> expected.merge(ch, 1, Integer::sum)));
        for (SwitchboardServer node : three) {
            awaitTrue(() -> listing(node).equals(expected), "node lists " + expected);
        }
        // The wire listing says the same.
        JdkClient any = joined.keySet().iterator().next();
        String reply = any.request("{\"action\":\"list_channels\"}");
        StringBuilder wire = new StringBuilder("{\"status\":\"ok\",\"info\":{\"channels\":[");
        expected.forEach((ch, n) -> wire.append("{\"channel_name\":\"").append(ch).append("\",\"total_subscribers\":")
                .append(n).append("},"));
        wire.setLength(wire.length() - 1);
        assertEquals(wire + "]}}", reply);
        // A node unsubscribes from Redis when its last local subscriber leaves.
        for (Map.Entry<JdkClient, List<String>> e : joined.entrySet()) {
            for (String ch : e.getValue()) {
                e.getKey().request(unsubscribe(ch));
            }
        }
        for (String ch : channels) {
            awaitTrue(() -> redis.subscribersOf(prefix + "ch:" + ch) == 0, "no node subscribed to " + ch);
        }
        for (SwitchboardServer node : three) {
            awaitTrue(() -> listing(node).isEmpty(), "no channel left");
        }
    }

    /**
     * docs/guarantees.md, {@code CLUSTER_NODE_TIMEOUT}: a node killed with SIGKILL (no goodbye, its
     * Redis keys left behind) is forgotten between a third of the timeout and all of it after it
     * dies: its subscribers are no longer counted, and its disposable members are no longer listed
     * in a {@code welcome} on another node, even while a member there keeps the room's hash alive
     * in Redis. The survivor counts the forgotten node in {@code cluster_nodes_expired_total}.
     */
    @Test
    void aNodeKilledWithoutCleanupStopsBeingCountedAndLeavesPresenceWithinTheTimeout() throws Exception {
        Duration timeout = Duration.ofSeconds(3);
        SwitchboardServer survivor = node(SwitchboardConfig.builder().clusterNodeTimeout(timeout).apiKey(API_KEY));
        Process doomed = new ProcessBuilder("java", "-jar", Path.of("target", "switchboard.jar").toString(),
                "--app-host", "127.0.0.1", "--app-port", "0", "--redis-endpoint", redis.endpoint(),
                "--redis-key-prefix", prefix, "--cluster-node-timeout", "3s", "--line-port", "0")
                .redirectErrorStream(true).start();
        try {
            int port = NodeProcess.portOf(doomed);
            JdkClient there = JdkClient.connectAs(new InetSocketAddress("127.0.0.1", port), "doomed");
            clients.add(there);
            String reply = there.request(subscribe("kkk"));
            assertTrue(reply.startsWith("{\"status\":\"ok\""), reply);
            JdkClient dead = JdkClient.connect(URI.create("ws://127.0.0.1:" + port + "/ws?name=dead&room=kkk"));
            clients.add(dead);
            dead.next(); // its welcome
            awaitTrue(() -> count(survivor, "kkk") == 2, "the survivor counts the other node's members");
            JdkClient here = client(survivor, "survivor");
            assertTrue(here.request(subscribe("kkk")).contains("\"total_subscribers\":3"));
            awaitTrue(() -> apiPresence(survivor, "kkk").contains("\"client_name\":\"doomed\"")
                    && apiPresence(survivor, "kkk").contains("\"client_name\":\"dead\""), "the survivor lists them");
            // A disposable member on each node; the survivor's keeps the room's hash from expiring.
            JdkClient keeper = disposable(survivor, "keeper", "haunt");
            assertTrue(keeper.next().startsWith("{\"type\":\"welcome\""));
            JdkClient ghost = disposable(new InetSocketAddress("127.0.0.1", port), "ghost", "haunt");
            assertTrue(ghost.next().startsWith("{\"type\":\"welcome\""));
            awaitTrue(() -> welcomeOn(survivor, "haunt").contains("\"name\":\"ghost\""),
                    "a welcome on the survivor lists the other node's member");
            assertEquals(0.0, Requests.metric(survivor, EXPIRED), "a node that beats is never forgotten");

            doomed.destroyForcibly().waitFor(); // SIGKILL: no goodbye, no cleanup
            long killed = System.nanoTime();
            awaitTrue(() -> count(survivor, "kkk") == 1, "the dead node's subscribers are no longer counted");
            String alone = "{\"status\":\"ok\",\"info\":{\"channel_name\":\"kkk\",\"clients\":["
                    + PresenceIT.client(PresenceIT.idIn(apiPresence(survivor, "kkk"), "survivor"), "survivor", "minichats")
                    + "]}}";
            // Its members are still in Redis (the survivor keeps the channel's hash alive), but not listed.
            assertEquals(alone, apiPresence(survivor, "kkk"), "its members left presence with it");
            Duration took = Duration.ofNanos(System.nanoTime() - killed);
            String welcome = welcomeOn(survivor, "haunt");
            assertFalse(welcome.contains("\"name\":\"ghost\""), "the dead node's member is gone with it: " + welcome);
            assertTrue(welcome.contains("\"name\":\"keeper\""), welcome);
            awaitTrue(() -> Requests.metric(survivor, EXPIRED) == 1.0, "the forgotten node counted");
            // Forgotten 2/3 of the timeout after its last heartbeat, which was at most 1/3 before the
            // kill: no sooner than 1/3 after it (1/4 allows for a late beat), and within the timeout
            // (2 s of margin for a loaded machine's sweeps and scheduling).
            assertTrue(took.compareTo(timeout.dividedBy(4)) >= 0, "forgotten too soon, after " + took);
            assertTrue(took.compareTo(timeout.plusSeconds(2)) <= 0, "forgotten after " + took + ", bound " + timeout);
        } finally {
            doomed.destroyForcibly();
        }
    }

    @Test
    void losingRedisKeepsLocalDeliveryAndRecovers() throws Exception {
        SwitchboardServer a = node(Duration.ofSeconds(30));
        SwitchboardServer b = node(Duration.ofSeconds(30));
        JdkClient a1 = client(a, "a1");
        JdkClient a2 = client(a, "a2");
        JdkClient b1 = client(b, "b1");
        for (JdkClient c : List.of(a1, a2, b1)) {
            c.request(subscribe("o"));
        }
        a1.request(publish("o", "{\"n\":0}"));
        for (JdkClient c : List.of(a1, a2, b1)) {
            assertTrue(c.next().contains("{\"n\":0}"));
        }

        redis.stop();
        awaitTrue(() -> health(a).statusCode() == 503, "a says its link is down");
        awaitTrue(() -> health(b).statusCode() == 503, "b says its link is down");
        assertTrue(health(a).body().startsWith("cluster link down: "), health(a).body());
        assertTrue(a1.request(publish("o", "{\"n\":1}")).startsWith("{\"status\":\"ok\""));
        assertTrue(a1.next().contains("{\"n\":1}"), "local delivery goes on");
        assertTrue(a2.next().contains("{\"n\":1}"), "local delivery goes on");
        assertTrue(health(a).body().contains("1 publishes did not reach other nodes"), health(a).body());
        assertEquals(1.0, Requests.metric(a, "switchboard_cluster_unforwarded_total"), "counted");
        assertEquals(0.0, Requests.metric(a, "switchboard_cluster_link_up"));
        // Presence without Redis: this node's members only, counted as partial.
        String local = a1.request(PresenceIT.presence("o", null));
        assertEquals(List.of("a1", "a2"), presenceNames(local), local);
        assertEquals(1.0, Requests.metric(a, "switchboard_presence_partial_total"));
        // A node started while Redis is away starts anyway, and says so.
        SwitchboardServer late = startingNode(Duration.ofSeconds(30));
        assertEquals(503, health(late).statusCode());
        JdkClient l1 = client(late, "l1");
        assertTrue(l1.request(subscribe("o")).startsWith("{\"status\":\"ok\""), "subscribes are not held up");

        redis.startAgain();
        for (SwitchboardServer node : List.of(a, b, late)) {
            awaitTrue(() -> health(node).statusCode() == 200, "the link is back");
        }
        awaitTrue(() -> count(a, "o") == 4 && count(b, "o") == 4 && count(late, "o") == 4,
                "counts are whole again after Redis lost everything");
        b1.request(publish("o", "{\"n\":2}"));
        for (JdkClient c : List.of(a1, a2, b1, l1)) {
            assertTrue(c.next().contains("{\"n\":2}"), "cross-node delivery resumed");
        }
        assertNull(b1.poll(100), "what could not be forwarded is not delivered late");
        awaitTrue(() -> presenceNames(b1.request(PresenceIT.presence("o", null))).equals(List.of("a1", "a2", "b1", "l1")),
                "each node wrote its members again into the Redis that lost them");
    }

    /**
     * A member that leaves while its node is cut off from a Redis that keeps its data (here: an
     * append-only file, fsynced at every write) leaves presence once the link is back: the node
     * replaces its fields in the hashes it changed meanwhile, not only writes its current members.
     */
    @Test
    void aMemberThatLeavesWhileRedisIsAwayLeavesPresenceWhenItIsBack() throws Exception {
        Path dir = java.nio.file.Files.createTempDirectory("redis-aof");
        try (RedisProcess durable = RedisProcess.start("--appendonly", "yes", "--appendfsync", "always",
                "--dir", dir.toString())) {
            SwitchboardConfig.Builder config = SwitchboardConfig.builder().redisEndpoint(durable.endpoint())
                    .redisKeyPrefix(prefix).apiKey(API_KEY);
            SwitchboardServer a = Requests.startOnLoopback(config);
            nodes.add(a);
            SwitchboardServer b = Requests.startOnLoopback(config);
            nodes.add(b);
            awaitTrue(() -> a.switchboard().problem() == null && b.switchboard().problem() == null, "both join");
            JdkClient stays = client(a, "stays");
            JdkClient goes = client(a, "goes");
            stays.request(subscribe("aof"));
            goes.request(subscribe("aof"));
            awaitTrue(() -> presenceNames(apiPresence(b, "aof")).equals(List.of("goes", "stays")), "b lists a's members");

            durable.stop();
            awaitTrue(() -> a.switchboard().problem() != null, "a's link is down");
            goes.request(unsubscribe("aof"));
            durable.startAgain();
            assertTrue(durable.command("HLEN", prefix + "presence:aof").contains(":2"), "Redis kept both fields");
            awaitTrue(() -> a.switchboard().problem() == null, "a's link is back");
            awaitTrue(() -> presenceNames(apiPresence(b, "aof")).equals(List.of("stays")),
                    "the member that left meanwhile is gone from Redis too");
        }
    }

    /** docs/guarantees.md, "Close codes": 1013 to a chatroom client of a node whose link to Redis is down. */
    @Test
    void aChatroomClientOfANodeCutOffFromRedisIsClosedWith1013() throws Exception {
        SwitchboardServer a = node(Duration.ofSeconds(30));
        redis.stop();
        awaitTrue(() -> health(a).statusCode() == 503, "a says its link is down");
        JdkClient c = JdkClient.connect(URI.create("ws://127.0.0.1:" + a.localAddress().getPort() + "/chatroom"));
        clients.add(c);
        assertEquals(1013, c.awaitClose(), "no id to give: try again later");
        assertEquals("cluster unavailable", c.closeReason());
        assertEquals(1.0, Requests.metric(a, "switchboard_closes_total{reason=\"cluster_unavailable\"}"), "counted");
    }

    @Test
    void joinsAPasswordProtectedRedisWithTheSecretAndSaysWhyWithoutIt() throws Exception {
        try (RedisProcess guarded = RedisProcess.start("--requirepass", "s3cret-pass")) {
            SwitchboardConfig.Builder config = SwitchboardConfig.builder().redisEndpoint(guarded.endpoint())
                    .redisKeyPrefix(prefix);
            SwitchboardServer right = Requests.startOnLoopback(config.redisSecret("s3cret-pass"));
            nodes.add(right);
            SwitchboardServer wrong = Requests.startOnLoopback(config.redisSecret("not-it"));
            nodes.add(wrong);
            awaitTrue(() -> right.switchboard().problem() == null, "the node with the secret joins");
            awaitTrue(() -> wrong.switchboard().problem() != null && wrong.switchboard().problem().contains("WRONGPASS"),
                    "the node with a wrong secret says why");
            assertEquals(503, health(wrong).statusCode());
            assertTrue(health(wrong).body().contains("WRONGPASS"), health(wrong).body());
        }
    }

    /** A node of this test's cluster, once its link is up (as a load balancer waits for its health). */
    private SwitchboardServer node(Duration nodeTimeout) throws InterruptedException {
        return node(SwitchboardConfig.builder().clusterNodeTimeout(nodeTimeout));
    }

    private SwitchboardServer node(SwitchboardConfig.Builder config) throws InterruptedException {
        SwitchboardServer node = startingNode(config);
        awaitTrue(() -> node.switchboard().problem() == null, "the node joins the cluster");
        return node;
    }

    private SwitchboardServer startingNode(Duration nodeTimeout) {
        return startingNode(SwitchboardConfig.builder().clusterNodeTimeout(nodeTimeout));
    }

    private SwitchboardServer startingNode(SwitchboardConfig.Builder config) {
        SwitchboardServer node = Requests.startOnLoopback(config.redisEndpoint(redis.endpoint()).redisKeyPrefix(prefix));
        nodes.add(node);
        return node;
    }

    private JdkClient client(SwitchboardServer node, String name) {
        JdkClient c = JdkClient.connectAs(node.localAddress(), name);
        clients.add(c);
        return c;
    }

    private static int count(SwitchboardServer node, String channel) {
        return listing(node).getOrDefault(channel, 0);
    }

    private static Map<String, Integer> listing(SwitchboardServer node) {
        Map<String, Integer> m = new TreeMap<>();
        node.switchboard().channels().forEach(c -> m.put(c.name(), c.subscribers()));
        return m;
    }

    private static HttpResponse<String> health(SwitchboardServer node) {
        try {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.localAddress().getPort()
                    + "/health")).build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** The members' names in a presence reply, in its order. */
    private static List<String> presenceNames(String reply) {
        List<String> names = new ArrayList<>();
        Matcher m = Pattern.compile("\"client_name\":\"([^\"]+)\"").matcher(reply);
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    private static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 20 s: " + what);
            }
            Thread.sleep(20);
        }
    }
}
