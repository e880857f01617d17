package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.RedisProcess;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The randomchat scenarios on two nodes joined through a real Redis (started by the test): each
 * user of a scenario connects to the next node in turn, so every rule is checked with the users on
 * different nodes; then what only a cluster does.
 */
@Timeout(120)
class RandomchatRedisIT extends RandomchatScenarios {

    private static RedisProcess redis;
    private static SwitchboardServer a;
    private static SwitchboardServer b;
    private static final AtomicInteger OWN = new AtomicInteger();
    private final AtomicInteger turn = new AtomicInteger();

    @BeforeAll
    static void start() {
        redis = RedisProcess.start();
        a = node();
        b = node();
    }

    private static SwitchboardServer node() {
        return Requests.startOnLoopback(SwitchboardConfig.builder().redisEndpoint(redis.endpoint())
                .redisKeyPrefix("rcit:").randomchatMaxChatsPerUser(MAX_OWNED).randomchatMaxAddedChatsPerUser(MAX_ADDED));
    }

    @AfterAll
    static void stop() {
        a.stop().join();
        b.stop().join();
        redis.close();
    }

    @AfterEach
    void closeClients() {
        closeAll();
    }

    @Override
    InetSocketAddress address() {
        return (turn.getAndIncrement() % 2 == 0 ? a : b).localAddress();
    }

    @Override
    List<SwitchboardServer> sharedNodes() {
        return List.of(a, b);
    }

    /** Two nodes on a key prefix of their own in the same Redis. */
    @Override
    Nodes startNodes(UnaryOperator<SwitchboardConfig.Builder> tune) {
        String prefix = "rcit" + OWN.incrementAndGet() + ":";
        List<SwitchboardServer> nodes = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            nodes.add(Requests.startOnLoopback(tune.apply(SwitchboardConfig.builder().redisEndpoint(redis.endpoint())
                    .redisKeyPrefix(prefix).randomchatMaxChatsPerUser(MAX_OWNED)
                    .randomchatMaxAddedChatsPerUser(MAX_ADDED))));
        }
        return new Nodes(nodes);
    }

    /** A node whose Redis is not there: nothing listens on its port. */
    @Override
    Nodes startNodesWithTheStoreDown() {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Nodes(List.of(Requests.startOnLoopback(SwitchboardConfig.builder()
                .redisEndpoint("127.0.0.1:" + port).redisKeyPrefix("rcit-down:"))));
    }

    @Test
    void usersOnDifferentNodesChatAndWhatOneMissedWaitsInRedis() throws Exception {
        Person ann = register(a.localAddress(), "Ann", "ann");
        Person bob = register(b.localAddress(), "Bob", "bob");
        String c = run + "across";
        ann.request(createChat(c));
        ann.client().send(addMember(c, bob));
        String both = newMember(chat(c, ann.user(), bob.user()), bob.user());
        assertEquals(both, ann.next());
        assertEquals(both, bob.next());

        bob.client().send(send(c, "from b"));
        String fromB = message(chat(c, ann.user(), bob.user()), bob.user(), "from b");
        assertEquals(fromB, bob.next());
        assertEquals(fromB, ann.next());

        // Bob leaves node b; Ann's message waits for him in Redis; he comes back on node a.
        bob.client().closeGracefully();
        awaitLoggedOut(bob, List.of(b));
        assertEquals(message(chat(c, ann.user(), bob.userOffline()), ann.user(), "while away"),
                ann.request(send(c, "while away")));
        Person back = login(bob, a.localAddress());
        assertEquals(state(chatState(chat(c, ann.user(), bob.userOffline()), brief(ann.user(), "while away"))),
                back.next());
        Person again = login(bob, b.localAddress());
        assertEquals(state(chatState(chat(c, ann.user(), bob.userOffline()))), again.next(), "taken once");

        // Both of Bob's connections, one per node, get Ann's next message; a stranger on b nothing.
        Person eve = register(b.localAddress(), "Eve", "eve");
        ann.client().send(send(c, "everywhere"));
        String everywhere = message(chat(c, ann.user(), bob.userOffline()), ann.user(), "everywhere");
        assertEquals(everywhere, ann.next());
        assertEquals(everywhere, back.next());
        assertEquals(everywhere, again.next());
        assertNothingCameTo(eve, ann, c);
    }

    @Test
    void eventsCrossNodesAgainAfterRedisDroppedTheSubscriptions() throws Exception {
        Person ann = register(a.localAddress(), "Ann", "ann");
        Person bob = register(b.localAddress(), "Bob", "bob");
        String c = run + "cut";
        ann.request(createChat(c));
        ann.client().send(addMember(c, bob));
        ann.next();
        bob.next();

        redis.command("CLIENT", "KILL", "TYPE", "pubsub");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!redis.command("PUBSUB", "CHANNELS", "rcit:rc:node:*").startsWith("*2\r\n")) {
            assertTrue(System.nanoTime() - deadline < 0, "the nodes did not subscribe again");
            Thread.sleep(50);
        }
        ann.client().send(send(c, "after the cut"));
        String after = message(chat(c, ann.user(), bob.user()), ann.user(), "after the cut");
        assertEquals(after, ann.next());
        assertEquals(after, bob.next());
    }

    @Test
    void aLogoutThatFailedIsTriedAgainUntilTheUserIsOffline() throws Exception {
        Person ann = register(a.localAddress(), "Ann", "ann");
        Person bob = register(b.localAddress(), "Bob", "bob");
        String c = run + "retry";
        ann.request(createChat(c));
        ann.client().send(addMember(c, bob));
        ann.next();
        bob.next();

        // Bob's online hash is made a string: recording his logout fails (WRONGTYPE) until it is gone.
        String online = "rcit:rc:online:" + bob.phone();
        redis.command("SET", online, "broken");
        long failedBefore = wrongTypeErrors();
        bob.client().closeGracefully();
        // Wait until the logout has failed at least once (Redis counts the WRONGTYPE it answered),
        // so that what follows goes through the retry path.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (wrongTypeErrors() == failedBefore) {
            assertTrue(System.nanoTime() - deadline < 0, "the logout was never tried");
            Thread.sleep(20);
        }
        redis.command("DEL", online);

        String offline = message(chat(c, ann.user(), bob.userOffline()), ann.user(), "ping");
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (String echo = ann.request(send(c, "ping")); !normalize(echo).equals(offline);
             echo = ann.request(send(c, "ping"))) {
            assertTrue(System.nanoTime() - deadline < 0, "Bob stays online for good: " + echo);
            Thread.sleep(200);
        }
    }

    @Test
    void aUserWhoseLastConnectionWasOnANodeThatDiedIsOfflineWithADate() throws Exception {
        Person ann = register(a.localAddress(), "Ann", "ann");
        Person bob = register(b.localAddress(), "Bob", "bob");
        String c = run + "crash";
        ann.request(createChat(c));
        ann.client().send(addMember(c, bob));
        ann.next();
        bob.next();
        bob.client().closeGracefully();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (redis.command("HGET", "rcit:rc:user:" + bob.phone(), "disc").startsWith("$-1")) {
            assertTrue(System.nanoTime() - deadline < 0, "Bob's logout was not recorded");
            Thread.sleep(20);
        }
        // As if Bob's last connection had been on a node that died, which recorded no logout.
        redis.command("HDEL", "rcit:rc:user:" + bob.phone(), "disc");
        redis.command("HSET", "rcit:rc:online:" + bob.phone(), "deadnode\t1", "1");

        ann.request(send(c, "anyone?")); // its members were read before the dead node's connection was forgotten
        assertEquals(message(chat(c, ann.user(), bob.userOffline()), ann.user(), "still there?"),
                ann.request(send(c, "still there?")));
    }

    @Test
    void whatWasOnItsWayToANodeThatDiedIsInTheMembersNextState() throws Exception {
        Person ann = register(a.localAddress(), "Ann", "ann");
        Person bob = register(b.localAddress(), "Bob", "bob");
        String c = run + "lost";
        ann.request(createChat(c));
        ann.client().send(addMember(c, bob));
        ann.next();
        bob.next();
        bob.client().closeGracefully();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (redis.command("HGET", "rcit:rc:user:" + bob.phone(), "disc").startsWith("$-1")) {
            assertTrue(System.nanoTime() - deadline < 0, "Bob's logout was not recorded");
            Thread.sleep(20);
        }
        // As if Bob were connected to a node that receives what it is sent and is killed (kill -9)
        // before it writes it: counted alive until its key expires, it never hands anything back.
        String room = chat(c, ann.user(), bob.userOffline());
        try (Socket deadNode = new Socket("127.0.0.1", redis.port())) {
            deadNode.setSoTimeout((int) JdkClient.WAIT.toMillis());
            InputStream in = deadNode.getInputStream();
            deadNode.getOutputStream().write("SUBSCRIBE rcit:rc:node:deadnode\r\n".getBytes(StandardCharsets.US_ASCII));
            readUntil(in, ":1\r\n"); // subscribed
            redis.command("SET", "rcit:rc:alive:deadnode", "1");
            redis.command("HSET", "rcit:rc:online:" + bob.phone(), "deadnode\t1", "1");
            assertEquals(message(room, ann.user(), "on its way"), ann.request(send(c, "on its way")));
            readUntil(in, "on its way"); // the node got it
        }
        redis.command("DEL", "rcit:rc:alive:deadnode"); // the node's key expires

        Person back = login(bob, a.localAddress());
        assertEquals(state(chatState(room, brief(ann.user(), "on its way"))), back.next());
        Person again = login(bob, b.localAddress());
        assertEquals(state(chatState(room)), again.next(), "taken once");
    }

    /** Reads {@code in} until {@code text} has come (bytes as ISO-8859-1, enough for ASCII). */
    private static void readUntil(InputStream in, String text) throws IOException {
        StringBuilder seen = new StringBuilder();
        while (seen.indexOf(text) < 0) {
            int b = in.read();
            assertTrue(b >= 0, "the stream ended before '" + text + "': " + seen);
            seen.append((char) b);
        }
    }

    @Test
    void aTokenIssuedOnOneNodeOpensTheOther() {
        Person ann = register(a.localAddress(), "Ann", "ann");
        JdkClient other = open(b.localAddress());
        clients.add(other);
        other.send(registerRequest("Ann", ann.phone(), "wrong"));
        assertEquals(error("Wrong token for phone '" + ann.phone() + "'", "register"), other.next());
        other.send(registerRequest("Ann", ann.phone(), ann.token()));
        assertEquals(state(), other.next());
    }

    /** How many WRONGTYPE errors Redis has answered since it started ({@code INFO errorstats}, Redis 6.2+). */
    private static long wrongTypeErrors() {
        Matcher m = Pattern.compile("errorstat_WRONGTYPE:count=(\\d+)").matcher(redis.command("INFO", "errorstats"));
        return m.find() ? Long.parseLong(m.group(1)) : 0;
    }
}
