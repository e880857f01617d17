package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Order and completeness under concurrency: publishers and subscribers spread over four event
 * loops, with clients joining, leaving and dropping their connections mid-stream.
 */
@Timeout(120)
class FanoutIT {

    private static final int PUBLISHERS = 4;
    private static final int MESSAGES_PER_CHANNEL = 250;
    private static final List<String> CHANNELS = List.of("fan-a", "fan-b");
    private static final Pattern DELIVERY = Pattern.compile(
            "\\{\"sender\":\"(pub\\d+)\",\"channel_name\":\"(fan-[ab])\",\"sent_at\":\"[^\"]{24}\","
                    + "\"content\":\\{\"p\":(\\d+),\"s\":(\\d+)}}");

    private static SwitchboardServer server;
    private static InetSocketAddress address;

    @BeforeAll
    static void start() {
        server = Requests.startOnLoopback(SwitchboardConfig.builder().ioThreads(4));
        address = server.localAddress();
    }

    @AfterAll
    static void stop() {
        server.stop().join();
    }

    @Test
    void everySubscriberGetsEveryMessageOnceInPublishOrderDespiteChurn() throws Exception {
        // Subscribers of one channel each, and of both; publishers are subscribed to both.
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            List<String> channels = i % 3 == 0 ? CHANNELS : List.of(CHANNELS.get(i % 3 - 1));
            members.add(new Member(JdkClient.connectAs(address, "sub" + i), channels));
        }
        List<Member> publishers = new ArrayList<>();
        for (int p = 0; p < PUBLISHERS; p++) {
            Member m = new Member(JdkClient.connectAs(address, "pub" + p), CHANNELS);
            publishers.add(m);
            members.add(m);
        }
        for (Member m : members) {
            for (String channel : m.channels) {
                assertTrue(m.client.request(subscribe(channel)).startsWith("{\"status\":\"ok\""));
            }
        }

        ExecutorService pool = Executors.newFixedThreadPool(PUBLISHERS + 2);
        try {
            List<Future<?>> work = new ArrayList<>();
            for (int p = 0; p < PUBLISHERS; p++) {
                JdkClient publisher = publishers.get(p).client;
                int id = p;
                work.add(pool.submit(() -> {
                    for (int s = 0; s < MESSAGES_PER_CHANNEL; s++) {
                        for (String channel : CHANNELS) {
                            publisher.send(Requests.publish(channel, "{\"p\":" + id + ",\"s\":" + s + "}"));
                        }
                    }
                }));
            }
            for (int c = 0; c < 2; c++) {
                int churner = c;
                work.add(pool.submit(() -> {
                    churn(churner);
                    return null;
                }));
            }
            for (Future<?> f : work) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }

        for (Member m : members) {
            m.receiveAll();
        }
        try (JdkClient observer = JdkClient.connectAs(address, "observer")) {
            // 8 + 8 single-channel subscribers, 8 of both, 4 publishers; every churner is gone.
            awaitListing(observer, "{\"status\":\"ok\",\"info\":{\"channels\":["
                    + "{\"channel_name\":\"fan-a\",\"total_subscribers\":20},"
                    + "{\"channel_name\":\"fan-b\",\"total_subscribers\":20}]}}");
        }
        for (Member m : members) {
            m.client.close();
        }
    }

    /** Clients that subscribe, read a little, and leave in one of three ways, over and over. */
    private static void churn(int churner) throws InterruptedException {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int round = 0; round < 30; round++) {
            JdkClient c = JdkClient.connectAs(address, "churn" + churner);
            c.request(subscribe("fan-a"));
            c.request(subscribe("churn-" + churner + "-" + round));
            // Read a little of whatever is flowing (nothing, once the publishers are done).
            for (int i = random.nextInt(5); i > 0 && c.poll(20) != null; i--) {
                continue;
            }
            switch (round % 3) {
                case 0:
                    c.abort();
                    break;
                case 1:
                    c.send("{\"action\":\"unsubscribe\",\"params\":{\"channel_name\":\"fan-a\"}}");
                    c.close();
                    break;
                default:
                    c.send("{\"action\":\"list\"}");
                    c.abort();
            }
        }
    }

    private static void awaitListing(JdkClient c, String expected) throws InterruptedException {
        long deadline = System.nanoTime() + JdkClient.WAIT.toNanos();
        String actual;
        while (!(actual = c.request("{\"action\":\"list_channels\"}")).equals(expected)) {
            if (System.nanoTime() > deadline) {
                assertEquals(expected, actual);
            }
            Thread.sleep(20);
        }
    }

    /** A client and the channels it subscribed to, with what it must receive. */
    private static final class Member {
        final JdkClient client;
        final List<String> channels;

        Member(JdkClient client, List<String> channels) {
            this.client = client;
            this.channels = channels;
        }

        /** Reads until it has every delivery of its channels, checking order on the way. */
        void receiveAll() {
            Map<String, Integer> nextSeq = new HashMap<>();
            int expected = channels.size() * PUBLISHERS * MESSAGES_PER_CHANNEL;
            int received = 0;
            while (received < expected) {
                String m = client.next();
                if (m.startsWith("{\"status\":\"ok\"}")) {
                    continue; // a publisher's own acknowledgements
                }
                Matcher d = DELIVERY.matcher(m);
                assertTrue(d.matches(), m);
                assertTrue(channels.contains(d.group(2)), "delivery of a channel not subscribed: " + m);
                assertEquals("pub" + d.group(3), d.group(1));
                String stream = d.group(1) + "/" + d.group(2);
                int seq = Integer.parseInt(d.group(4));
                int want = nextSeq.getOrDefault(stream, 0);
                assertEquals(want, seq, "per-publisher order (or a loss or duplicate) on " + stream);
                nextSeq.put(stream, want + 1);
                received++;
            }
            for (String channel : channels) {
                for (int p = 0; p < PUBLISHERS; p++) {
                    assertEquals(MESSAGES_PER_CHANNEL, nextSeq.get("pub" + p + "/" + channel));
                }
            }
        }
    }
}
