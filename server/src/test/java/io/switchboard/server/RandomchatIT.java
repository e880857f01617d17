package io.switchboard.server;

import io.switchboard.server.testing.RawClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The randomchat scenarios on one node with the embedded store, and what only it does. */
@Timeout(60)
class RandomchatIT extends RandomchatScenarios {

    @TempDir
    static Path data;
    private static SwitchboardServer server;

    @BeforeAll
    static void start() {
        server = Requests.startOnLoopback(SwitchboardConfig.builder().dataDir(data)
                .randomchatMaxChatsPerUser(MAX_OWNED).randomchatMaxAddedChatsPerUser(MAX_ADDED));
    }

    @AfterAll
    static void stop() {
        server.stop().join();
    }

    @AfterEach
    void closeClients() {
        closeAll();
    }

    @Override
    InetSocketAddress address() {
        return server.localAddress();
    }

    @Test
    void keepsItsDataInOneFileOfTheDataDirectory() {
        register("Ann", "ann");
        assertTrue(Files.exists(data.resolve("randomchat.db")));
    }

    @Test
    void openLoginLetsAPhoneInWithoutItsToken(@TempDir Path dir) {
        try (SwitchboardServer open = Requests.startOnLoopback(SwitchboardConfig.builder().dataDir(dir)
                .randomchatOpenLogin(true))) {
            Person ann = register(open.localAddress(), "Ann", "ann");
            var c = open(open.localAddress());
            clients.add(c);
            c.send(registerRequest("Ann B.", ann.phone(), null));
            assertEquals(state(), c.next());
        }
    }

    @Test
    void messagesQueuedForASlowConsumerThatIsCutOffWaitForItsNextLogin(@TempDir Path dir) throws Exception {
        try (SwitchboardServer slow = Requests.startOnLoopback(SwitchboardConfig.builder().dataDir(dir)
                .outboundSoftLimitBytes(16 * 1024).outboundHardLimitBytes(64 * 1024)
                .randomchatMaxTextBytes(16 * 1024).maxMessagesPerSecond(100_000))) {
            Person ann = register(slow.localAddress(), "Ann", "ann");
            String bobPhone = run + "bob";
            RawClient bob = new RawClient(slow.localAddress(), 4096);
            bob.upgrade("/randomchat");
            bob.sendText(registerRequest("Bob", bobPhone, null));
            String token = bob.readText().replaceAll("^.*\"token\":\"([^\"]+)\".*$", "$1");
            String c = run + "flood";
            ann.request(createChat(c));
            ann.client().send("{\"type\":\"add_member\",\"chat\":\"" + c + "\",\"phone\":\"" + bobPhone + "\"}");
            ann.next();

            // Bob reads nothing until the server cuts him off: what it queued for him by then is
            // either out on the socket (Bob reads it now) or kept for his next login.
            String filler = "x".repeat(15 * 1024);
            int n = 600;
            for (int i = 0; i < n; i++) {
                ann.client().send(send(c, i + filler));
            }
            for (int i = 0; i < n; i++) {
                ann.next();
            }
            java.util.Set<Integer> got = new java.util.HashSet<>();
            java.util.List<Integer> all = new java.util.ArrayList<>();
            Pattern number = Pattern.compile("\"message\":\"(\\d+)x");
            try {
                for (;;) {
                    RawClient.Frame f = bob.readFrame();
                    if (f.opcode() == RawClient.CLOSE) {
                        break;
                    }
                    Matcher m = number.matcher(f.text());
                    if (m.find()) {
                        all.add(Integer.parseInt(m.group(1)));
                    }
                }
            } catch (java.io.IOException end) {
                // the connection ended (a frame may be cut short: its message was handed back)
            }
            bob.close();
            assertTrue(all.size() < n, "Bob was not cut off as a slow consumer");

            // His next login gets the rest: in its state, or (the logout still under way) as messages.
            var again = open(slow.localAddress());
            clients.add(again);
            again.send(registerRequest("Bob", bobPhone, token));
            for (String frame = again.next(); frame != null; frame = again.poll(1000)) {
                Matcher m = number.matcher(frame);
                while (m.find()) {
                    all.add(Integer.parseInt(m.group(1)));
                }
            }
            got.addAll(all);
            assertEquals(n, got.size(), "every message reached Bob");
            assertEquals(n, all.size(), "no message reached Bob twice");
        }
    }

    @Test
    void countsTheRequestsAPerUserLimitRefused() throws Exception {
        Person ann = register("Ann", "ann");
        for (int i = 0; i < MAX_OWNED; i++) {
            ann.request(createChat(run + "own" + i));
        }
        assertEquals(error("'" + ann.phone() + "' owns the most chats allowed (" + MAX_OWNED
                + "): delete one to create another", "create_chat"), ann.request(createChat(run + "one-more")));
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + address().getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        Matcher m = Pattern.compile("\nswitchboard_randomchat_limited_total\\{limit=\"owned_chats\"} (\\d+)\\.0\n")
                .matcher(r.body());
        assertTrue(m.find(), r.body());
        assertTrue(Integer.parseInt(m.group(1)) >= 1, m.group());
        assertTrue(r.body().contains("\nswitchboard_randomchat_limited_total{limit=\"added_chats\"} "), r.body());
    }

    @Test
    void isOffWithoutADataDirectoryInTheLibrary() throws Exception {
        try (SwitchboardServer off = Requests.startOnLoopback(SwitchboardConfig.builder())) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + off.localAddress().getPort() + "/randomchat")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(404, r.statusCode());
            assertEquals("The randomchat dialect is off: it needs DATA_DIR (or REDIS_ENDPOINT)\n", r.body());
        }
    }
}
