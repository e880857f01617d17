package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.RawClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static io.switchboard.server.RandomchatScenarios.addMember;
import static io.switchboard.server.RandomchatScenarios.brief;
import static io.switchboard.server.RandomchatScenarios.chat;
import static io.switchboard.server.RandomchatScenarios.chatState;
import static io.switchboard.server.RandomchatScenarios.createChat;
import static io.switchboard.server.RandomchatScenarios.deleteChat;
import static io.switchboard.server.RandomchatScenarios.error;
import static io.switchboard.server.RandomchatScenarios.message;
import static io.switchboard.server.RandomchatScenarios.newMember;
import static io.switchboard.server.RandomchatScenarios.normalize;
import static io.switchboard.server.RandomchatScenarios.registerRequest;
import static io.switchboard.server.RandomchatScenarios.send;
import static io.switchboard.server.RandomchatScenarios.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The randomchat store's promise with the runnable jar as a real process on a real data
 * directory: users, tokens, chats, memberships and undelivered messages survive a graceful
 * restart and a {@code kill -9} ({@link Process#destroyForcibly()}: SIGKILL), and nothing a client
 * was answered is lost.
 */
@Timeout(120)
class RandomchatRecoveryIT {

    private static final Path JAR = Path.of("target", "switchboard.jar");
    private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+) ");
    private static final Pattern TOKEN = Pattern.compile("\"token\":\"([A-Za-z0-9_-]{43})\"");

    @TempDir
    Path data;
    private final List<Process> processes = new ArrayList<>();
    private final List<JdkClient> clients = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        clients.forEach(JdkClient::close);
        processes.forEach(Process::destroyForcibly);
    }

    /** A user as its client knows it: name, phone, token. */
    private record Account(String name, String phone, String token) {
        String user(boolean disconnected) {
            return RandomchatScenarios.user(name, phone, disconnected);
        }
    }

    @Test
    void whatWasAnsweredSurvivesKill9() throws Exception {
        Process first = start();
        InetSocketAddress node = address(first);
        Scene s = scene(node);

        first.destroyForcibly(); // SIGKILL: no shutdown hook, no close frames
        assertTrue(first.waitFor(20, TimeUnit.SECONDS));
        InetSocketAddress again = address(start());

        // Bob gets what he missed, once; Ann was online when the process died: offline since the restart.
        JdkClient bob = login(again, s.bob);
        assertEquals(state(chatState(chat(s.chat, s.ann.user(true), s.bob.user(true)),
                brief(s.ann.user(true), "before the crash"))), normalize(bob.next()));
        JdkClient ann = login(again, s.ann);
        assertEquals(state(chatState(chat(s.chat, s.ann.user(true), s.bob.user(true)))), normalize(ann.next()));
        assertEquals(error("A chat named '" + s.chat + "' already exists", "create_chat"),
                request(ann, createChat(s.chat)));
        bob.closeGracefully();
        JdkClient bobAgain = login(again, s.bob);
        assertEquals(state(chatState(chat(s.chat, s.ann.user(true), s.bob.user(true)))), normalize(bobAgain.next()),
                "delivered once");
        // The token is checked against what survived.
        JdkClient impostor = connect(again);
        impostor.send(registerRequest("Bob", s.bob.phone, null));
        assertTrue(impostor.next().startsWith("{\"type\":\"error\",\"message\":\"Phone 'bob' is registered"));
    }

    @Test
    void whatWasOnItsWayToAMemberOnlineWhenTheNodeWasKilledIsInItsNextStateOnce() throws Exception {
        // Bob is not cut off as a slow consumer: what is queued for him is in the node when it dies.
        Process first = start("--outbound-soft-limit-time", "1h", "--outbound-hard-limit-bytes", "67108864");
        InetSocketAddress node = address(first);
        JdkClient annClient = connect(node);
        Account ann = register(annClient, "Ann", "ann");
        RawClient bob = new RawClient(node, 4096); // a small receive window: most of what is sent waits
        try {
            bob.upgrade("/randomchat");
            bob.sendText(registerRequest("Bob", "bob", null));
            Matcher t = TOKEN.matcher(bob.readText());
            assertTrue(t.find());
            Account bobAccount = new Account("Bob", "bob", t.group(1));
            String c = "flight";
            request(annClient, createChat(c));
            annClient.send(addMember(c, new RandomchatScenarios.Person(null, "Bob", "bob", null)));
            annClient.next();
            assertTrue(bob.readText().startsWith("{\"type\":\"new_member\""));

            // Bob reads nothing while Ann sends: every message is committed (Ann's copy is the answer),
            // most of Bob's copies wait in the node, a few are out on his socket.
            String filler = "x".repeat(3900);
            int n = 900;
            for (int i = 0; i < n; i++) {
                annClient.send(send(c, i + filler));
            }
            for (int i = 0; i < n; i++) {
                assertTrue(annClient.next().startsWith("{\"type\":\"message\""));
            }
            first.destroyForcibly();
            assertTrue(first.waitFor(20, TimeUnit.SECONDS));

            // What reached Bob's socket before the node died, then his next state: each message once.
            Pattern number = Pattern.compile("\"message\":\"(\\d+)x");
            List<Integer> got = new ArrayList<>();
            try {
                for (;;) {
                    RawClient.Frame f = bob.readFrame();
                    if (f.opcode() == RawClient.CLOSE) {
                        break;
                    }
                    Matcher m = number.matcher(f.text());
                    if (m.find()) {
                        got.add(Integer.parseInt(m.group(1)));
                    }
                }
            } catch (java.io.IOException end) {
                // the connection ended, perhaps in the middle of a frame (its message is in flight still)
            }
            int live = got.size();
            assertTrue(live < n, "everything reached Bob's socket before the kill: the test shows nothing");

            JdkClient back = login(address(start()), bobAccount);
            Matcher m = number.matcher(back.next());
            while (m.find()) {
                got.add(Integer.parseInt(m.group(1)));
            }
            assertTrue(got.size() > live, "the state after the crash carries none of what never reached Bob");
            List<Integer> sorted = new ArrayList<>(got);
            Collections.sort(sorted);
            assertEquals(IntStream.range(0, n).boxed().collect(Collectors.toList()), sorted,
                    "every message reached Bob exactly once (" + live + " before the kill)");
        } finally {
            bob.close();
        }
    }

    @Test
    void aGracefulRestartKeepsEverythingAndRecordsWhoLeftWhen() throws Exception {
        Process first = start();
        Scene s = scene(address(first));

        first.destroy(); // SIGTERM: the node says goodbye and records Ann's disconnection
        assertTrue(first.waitFor(20, TimeUnit.SECONDS));
        assertEquals(143, first.exitValue());
        InetSocketAddress again = address(start());

        JdkClient ann = login(again, s.ann);
        assertEquals(state(chatState(chat(s.chat, s.ann.user(true), s.bob.user(true)))), normalize(ann.next()));
        JdkClient bob = login(again, s.bob);
        assertEquals(state(chatState(chat(s.chat, s.ann.user(true), s.bob.user(true)),
                brief(s.ann.user(true), "before the crash"))), normalize(bob.next()));
        ann.send(send(s.chat, "after"));
        String after = message(chat(s.chat, s.ann.user(true), s.bob.user(true)), s.ann.user(true), "after");
        assertEquals(after, normalize(ann.next()));
        assertEquals(after, normalize(bob.next()));
    }

    /** Ann and Bob with a chat; Bob leaves; Ann's message to him is answered (her own copy): the ack. */
    private record Scene(Account ann, Account bob, String chat) {
    }

    private Scene scene(InetSocketAddress node) throws InterruptedException {
        JdkClient annClient = connect(node);
        Account ann = register(annClient, "Ann", "ann");
        JdkClient bobClient = connect(node);
        Account bob = register(bobClient, "Bob", "bob");
        String c = "kept";
        assertEquals(newMember(chat(c, ann.user(false)), ann.user(false)), request(annClient, createChat(c)));
        annClient.send(addMember(c, new RandomchatScenarios.Person(null, bob.name, bob.phone, bob.token)));
        String both = newMember(chat(c, ann.user(false), bob.user(false)), bob.user(false));
        assertEquals(both, normalize(annClient.next()));
        assertEquals(both, normalize(bobClient.next()));
        bobClient.closeGracefully();
        awaitLogout(annClient, ann, bob);
        // Bob's logout is recorded: the message is kept for him, durably, before Ann gets her copy.
        annClient.send(send(c, "before the crash"));
        assertEquals(message(chat(c, ann.user(false), bob.user(true)), ann.user(false), "before the crash"),
                normalize(annClient.next()));
        // Ann's connection tells the store that it wrote her copy before its next request: once that
        // is answered, a kill leaves nothing of hers in flight (else her next state would carry it).
        assertEquals(error("A chat named '" + c + "' already exists", "create_chat"), request(annClient, createChat(c)));
        return new Scene(ann, bob, c);
    }

    /**
     * Waits until the store records {@code bob}'s logout: Ann adds him to a probe chat, whose event
     * shows whether he is disconnected, and deletes it again (an offline member is not told).
     */
    private static void awaitLogout(JdkClient annClient, Account ann, Account bob) throws InterruptedException {
        String probe = "probe";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (;;) {
            assertEquals(newMember(chat(probe, ann.user(false)), ann.user(false)), request(annClient, createChat(probe)));
            annClient.send(addMember(probe, new RandomchatScenarios.Person(null, bob.name, bob.phone, bob.token)));
            String added = normalize(annClient.next());
            String deleted = request(annClient, deleteChat(probe));
            assertTrue(deleted.startsWith("{\"type\":\"chat_deleted\""), deleted);
            if (added.equals(newMember(chat(probe, ann.user(false), bob.user(true)), bob.user(true)))) {
                return;
            }
            assertTrue(System.nanoTime() - deadline < 0, "Bob's logout was not recorded: " + added);
            Thread.sleep(20);
        }
    }

    private Account register(JdkClient c, String name, String phone) {
        c.send(registerRequest(name, phone, null));
        String state = c.next();
        Matcher m = TOKEN.matcher(state);
        assertTrue(m.find(), state);
        return new Account(name, phone, m.group(1));
    }

    private JdkClient login(InetSocketAddress node, Account a) {
        JdkClient c = connect(node);
        c.send(registerRequest(a.name, a.phone, a.token));
        return c;
    }

    private JdkClient connect(InetSocketAddress node) {
        JdkClient c = RandomchatScenarios.open(node);
        clients.add(c);
        return c;
    }

    private static String request(JdkClient c, String json) {
        c.send(json);
        return normalize(c.next());
    }

    /** Starts the runnable jar on a free port with this test's data directory. */
    private Process start(String... flags) throws Exception {
        assertTrue(Files.exists(JAR), "the shaded jar is built in the package phase");
        List<String> command = new ArrayList<>(List.of("java", "-jar", JAR.toString(), "--app-host", "127.0.0.1",
                "--app-port", "0", "--line-port", "0", "--data-dir", data.toString()));
        command.addAll(List.of(flags));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        processes.add(p);
        return p;
    }

    /** Reads the process's output up to its startup line, then keeps draining it; returns its address. */
    private static InetSocketAddress address(Process p) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        List<String> seen = new ArrayList<>();
        String line;
        Matcher m = null;
        while ((line = out.readLine()) != null) {
            seen.add(line);
            m = LISTENING.matcher(line);
            if (m.find()) {
                break;
            }
        }
        assertNotNull(line, "the process ended before its startup line: " + seen);
        Thread drain = new Thread(() -> {
            try {
                while (out.readLine() != null) {
                    // keep the pipe from filling up
                }
            } catch (java.io.IOException ignored) {
                // the process ended
            }
        }, "drain");
        drain.setDaemon(true);
        drain.start();
        return new InetSocketAddress("127.0.0.1", Integer.parseInt(m.group(1)));
    }
}
