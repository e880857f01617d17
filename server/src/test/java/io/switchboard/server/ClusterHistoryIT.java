package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.NodeProcess;
import io.switchboard.server.testing.RedisProcess;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static io.switchboard.server.testing.Positions.epoch;
import static io.switchboard.server.testing.Positions.n;
import static io.switchboard.server.testing.Positions.offset;
import static io.switchboard.server.testing.Positions.positioned;
import static io.switchboard.server.testing.Positions.publishAll;
import static io.switchboard.server.testing.Positions.recover;
import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * History and recovery across a cluster (issue 18): nodes joined through a real Redis (started by
 * the test), which assigns each channel's offsets once per publish. A subscriber recovers on
 * another node than the one it left, also when that node was killed with SIGKILL, with no gap and
 * no duplicate; Redis losing the streams means a new epoch and {@code recovered:false}. Each test
 * has nodes and a key prefix of its own.
 */
@Timeout(180)
class ClusterHistoryIT {

    private static final AtomicInteger CLUSTERS = new AtomicInteger();
    private static RedisProcess redis;

    private final String prefix = "hist" + CLUSTERS.incrementAndGet() + ":";
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

    private SwitchboardServer node() throws InterruptedException {
        SwitchboardServer node = Requests.startOnLoopback(SwitchboardConfig.builder().historySize(1000)
                .maxMessagesPerSecond(0).redisEndpoint(redis.endpoint()).redisKeyPrefix(prefix));
        nodes.add(node);
        awaitTrue(() -> node.switchboard().problem() == null, "the node joins the cluster");
        return node;
    }

    private JdkClient client(InetSocketAddress address, String name) {
        JdkClient c = JdkClient.connectAs(address, name);
        clients.add(c);
        return c;
    }

    /** Reads {@code count} deliveries, checking they continue {@code last} with consecutive offsets; returns the last offset. */
    private static long readOn(JdkClient c, long last, int count, List<Integer> got) {
        for (int i = 0; i < count; i++) {
            String d = c.next();
            long o = offset(d);
            assertEquals(last + 1, o, "the next offset: " + d);
            last = o;
            got.add(n(d));
        }
        return last;
    }

    @Test
    void aSubscriberMovingBetweenNodesAtRandomPointsGetsEveryPublishOnceInOrder() throws Exception {
        int total = 600;
        SwitchboardServer a = node();
        SwitchboardServer b = node();
        List<InetSocketAddress> addresses = List.of(a.localAddress(), b.localAddress());
        JdkClient publisher = client(a.localAddress(), "pub");
        publisher.request(subscribe("storm"));
        Random random = new Random(7);
        List<Integer> got = new ArrayList<>();
        int at = 0;
        JdkClient sub = client(addresses.get(at), "sub");
        String ok = sub.request(positioned("storm"));
        String epoch = epoch(ok);
        long last = offset(ok);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread publishing = new Thread(() -> {
            try {
                publishAll(publisher, "storm", 0, total);
            } catch (Throwable t) {
                failed.set(t);
            }
        });
        publishing.start();
        int moves = 0;
        while (got.size() < total) {
            last = readOn(sub, last, Math.min(1 + random.nextInt(50), total - got.size()), got);
            if (got.size() < total) {
                sub.abort();
                at = 1 - at; // the other node
                moves++;
                sub = client(addresses.get(at), "sub");
                String recovered = sub.request(recover("storm", last, epoch));
                assertTrue(recovered.contains("\"recovered\":true"), recovered);
                assertEquals(epoch, epoch(recovered));
            }
        }
        publishing.join();
        assertNull(failed.get());
        for (int i = 0; i < total; i++) {
            assertEquals(i, got.get(i), "publish " + i);
        }
        assertTrue(moves > 5, "moves: " + moves);
    }

    @Test
    void aSubscriberOfANodeKilledWithSigkillRecoversOnTheSurvivor() throws Exception {
        SwitchboardServer survivor = node();
        JdkClient publisher = client(survivor.localAddress(), "pub");
        publisher.request(subscribe("k"));
        try (NodeProcess doomed = NodeProcess.start("--redis-endpoint", redis.endpoint(), "--redis-key-prefix", prefix,
                "--history-size", "100").awaitHealthy()) {
            JdkClient there = client(new InetSocketAddress("127.0.0.1", doomed.port()), "sub");
            String ok = there.request(positioned("k"));
            String epoch = epoch(ok);
            List<Integer> got = new ArrayList<>();
            publishAll(publisher, "k", 0, 10);
            long last = readOn(there, offset(ok), 10, got);
            doomed.kill();
            publishAll(publisher, "k", 10, 20);
            JdkClient here = client(survivor.localAddress(), "sub");
            String recovered = here.request(recover("k", last, epoch));
            assertTrue(recovered.contains("\"offset\":20,\"epoch\":\"" + epoch + "\",\"recovered\":true}"), recovered);
            readOn(here, last, 10, got);
            publishAll(publisher, "k", 20, 21);
            readOn(here, 20, 1, got);
            for (int i = 0; i < 21; i++) {
                assertEquals(i, got.get(i));
            }
        }
    }

    @Test
    void publishesFromEveryNodeShareOneSequenceAndHistoryIsTheSameOnEachNode() throws Exception {
        SwitchboardServer a = node();
        SwitchboardServer b = node();
        JdkClient subA = client(a.localAddress(), "subA");
        JdkClient subB = client(b.localAddress(), "subB");
        String epoch = epoch(subA.request(positioned("both")));
        assertEquals(epoch, epoch(subB.request(positioned("both"))), "one stream, one epoch");
        JdkClient pubA = client(a.localAddress(), "pubA");
        JdkClient pubB = client(b.localAddress(), "pubB");
        pubA.request(subscribe("both"));
        pubB.request(subscribe("both"));
        Thread other = new Thread(() -> publishAll(pubB, "both", 100, 150));
        other.start();
        publishAll(pubA, "both", 0, 50);
        other.join();
        for (JdkClient c : List.of(subA, subB)) {
            int nextA = 0;
            int nextB = 100;
            for (long o = 1; o <= 100; o++) {
                String d = c.next();
                assertEquals(o, offset(d), d);
                int n = n(d);
                if (n < 100) {
                    assertEquals(nextA++, n);
                } else {
                    assertEquals(nextB++, n);
                }
            }
        }
        String ha = subA.request("{\"action\":\"history\",\"params\":{\"channel_name\":\"both\",\"limit\":5}}");
        String hb = subB.request("{\"action\":\"history\",\"params\":{\"channel_name\":\"both\",\"limit\":5}}");
        assertEquals(ha, hb);
        assertTrue(ha.contains("\"offset\":100,\"publications\":[{\"offset\":96,"), ha);
    }

    @Test
    void redisLosingTheStreamsMeansANewEpochAndRecoveredFalse() throws Exception {
        SwitchboardServer a = node();
        JdkClient sub = client(a.localAddress(), "sub");
        String epoch = epoch(sub.request(positioned("gone")));
        JdkClient publisher = client(a.localAddress(), "pub");
        publisher.request(subscribe("gone"));
        publishAll(publisher, "gone", 0, 3);
        long last = readOn(sub, 0, 3, new ArrayList<>());
        JdkClient late = client(a.localAddress(), "late");
        assertEquals(3, offset(late.request(positioned("gone"))), "joined at 3: it skips what is on its way up to 3");
        redis.stop();
        awaitTrue(() -> a.switchboard().problem() != null, "the node sees Redis gone");
        JdkClient meanwhile = client(a.localAddress(), "meanwhile");
        String down = meanwhile.request(recover("gone", last, epoch));
        assertTrue(down.contains("\"recovered\":false"), "no guess while Redis is down: " + down);
        redis.startAgain(); // a Redis without persistence: the streams are gone
        awaitTrue(() -> a.switchboard().problem() == null, "the node rejoins");
        JdkClient after = client(a.localAddress(), "after");
        String ok = after.request(recover("gone", last, epoch));
        assertTrue(ok.contains("\"recovered\":false"), ok);
        assertNotEquals(epoch, epoch(ok), "a new stream, a new epoch");
        // The new stream counts from 1 again: a subscriber that stayed connected, positioned at 3 of
        // the old epoch, gets its publishes (its position held in the old stream only).
        publishAll(publisher, "gone", 3, 5);
        List<Integer> got = new ArrayList<>();
        readOn(late, 0, 2, got);
        assertEquals(List.of(3, 4), got);
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
