package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A bounded churn soak (about {@code -Dsoak.seconds}, default 40): a few hundred real WebSocket
 * clients connect, subscribe, publish, unsubscribe, leave cleanly or drop their connection, all at
 * once, under paranoid leak detection. Afterwards: no leak (the class's leak check), no channel
 * left behind, and every client still connected received, exactly once, every message published
 * to its channels while it was subscribed. Throughout, every client (those that left included)
 * gets each publisher's messages in publish order, nothing twice, and nothing from a channel it is
 * not subscribed to (a delivery before the subscribe's ok or after the unsubscribe's ok fails); a
 * client that leaves cleanly gets nothing after the server's close, and the node holds no
 * subscription for any client that left.
 *
 * <p>"While subscribed" is decided on the test's clock: a message counts if it was sent after the
 * subscribe's ok arrived. A subscription still on at the end must have every such message; one
 * that ended may lack the tail of what was published just before its unsubscribe (the unsubscribe,
 * read by the subscriber's event loop, may overtake a fan-out task already queued there), but never
 * a message between two it got.
 */
@Timeout(300)
class ChurnSoakIT {

    private static final Pattern DELIVERY = Pattern.compile("\"sender\":\"([^\"]+)\",\"channel_name\":\"([^\"]+)\".*\"content\":(\\d+)}");
    private static final Pattern REQUEST_ID = Pattern.compile("\"request_id\":(\\d+)");
    private static final int CHANNELS = 12;
    private static final int WORKERS = 4;
    private static final int CLIENTS_PER_WORKER = 60;

    /** A message as its publisher saw it. */
    record Published(String channel, String id, long sentAt, long okAt) {
        String publisher() {
            return id.substring(0, id.indexOf('#'));
        }
    }

    /** One subscription of a client: from its ok to when its end was sent (Long.MAX_VALUE: still on). */
    record Interval(String channel, long from, long to) {
    }

    /** A client that keeps its deliveries apart from the replies it waits for. */
    static final class SoakClient {
        final String name;
        final JdkClient ws;
        final Map<String, Long> subscribedAt = new HashMap<>();
        final List<Interval> intervals = new ArrayList<>();
        final List<String> received = new ArrayList<>();
        final Set<String> unique = new HashSet<>();
        /** The last sequence number received per channel and publisher, {@code channel/publisher}. */
        final Map<String, Long> lastSeq = new HashMap<>();
        int nextRequest;
        long nextSeq;

        SoakClient(SwitchboardServer server, String name) {
            this.name = name;
            this.ws = JdkClient.connectAs(server.localAddress(), name);
        }

        /** Sends {@code request} (an object missing its closing brace) and returns its reply. */
        String call(String request) {
            int id = nextRequest++;
            ws.send(request + ",\"request_id\":" + id + "}");
            while (true) {
                String m = ws.next();
                Matcher r = REQUEST_ID.matcher(m);
                if (m.startsWith("{\"status\"") && r.find() && Integer.parseInt(r.group(1)) == id) {
                    return m;
                }
                note(m);
            }
        }

        void note(String m) {
            Matcher d = DELIVERY.matcher(m);
            if (d.find()) {
                String channel = d.group(2);
                String key = channel + "/" + d.group(1);
                long seq = Long.parseLong(d.group(3));
                if (!subscribedAt.containsKey(channel)) {
                    throw new AssertionError(name + " is not subscribed to " + channel + " and got " + m);
                }
                Long last = lastSeq.put(key, seq);
                if (last != null && seq <= last) {
                    throw new AssertionError(name + " got " + key + "#" + seq + " after #" + last + ": out of order");
                }
                String delivery = key + "#" + seq;
                if (!unique.add(delivery)) {
                    throw new AssertionError(name + " got " + delivery + " twice");
                }
                received.add(delivery);
            } else if (!m.startsWith("{\"status\":\"ok\"")) {
                throw new AssertionError(name + " got " + m);
            }
        }

        /** Takes what has arrived; call once everything had time to arrive. */
        void drain() throws InterruptedException {
            for (String m = ws.poll(10); m != null; m = ws.poll(10)) {
                note(m);
            }
        }
    }

    @Test
    void hundredsOfClientsChurnAndEveryLiveSubscriberGetsEverything() throws Exception {
        long seconds = Long.getLong("soak.seconds", 40);
        SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder().ioThreads(2)
                .maxMessagesPerSecond(0));
        try {
            ConcurrentLinkedQueue<Published> published = new ConcurrentLinkedQueue<>();
            List<SoakClient> survivors = new ArrayList<>();
            ConcurrentLinkedQueue<SoakClient> left = new ConcurrentLinkedQueue<>();
            AtomicInteger names = new AtomicInteger();
            AtomicInteger aborted = new AtomicInteger();
            long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
            ExecutorService workers = Executors.newFixedThreadPool(WORKERS);
            List<Future<List<SoakClient>>> done = new ArrayList<>();
            for (int w = 0; w < WORKERS; w++) {
                long seed = w;
                done.add(workers.submit(() -> churn(server, new Random(seed), end, names, aborted, published, left)));
            }
            for (Future<List<SoakClient>> f : done) {
                survivors.addAll(f.get());
            }
            workers.shutdown();

            Map<String, List<Published>> byChannel = new HashMap<>();
            published.forEach(p -> byChannel.computeIfAbsent(p.channel, c -> new ArrayList<>()).add(p));
            long checked = 0;
            for (SoakClient c : survivors) {
                // Every publish was answered; a fan-out task its subscriber's loop had not run when it
                // read the first request has run by the time it reads the second.
                c.call("{\"action\":\"list_channels\"");
                c.call("{\"action\":\"list_channels\"");
                c.drain();
                assertEquals(null, c.ws.closedBy(), c.name + " was closed by the server");
            }
            // The node holds no subscription of a client that left: each channel's subscribers are
            // exactly the survivors subscribed to it.
            Map<String, Integer> expectedSubscribers = new HashMap<>();
            for (SoakClient c : survivors) {
                c.subscribedAt.keySet().forEach(ch -> expectedSubscribers.merge(ch, 1, Integer::sum));
            }
            Map<String, Integer> actualSubscribers = new HashMap<>();
            long countDeadline = System.nanoTime() + JdkClient.WAIT.toNanos();
            do { // the last aborted connections may still be closing
                actualSubscribers.clear();
                server.switchboard().channels().forEach(ch -> actualSubscribers.put(ch.name(), ch.subscribers()));
            } while (!expectedSubscribers.equals(actualSubscribers) && System.nanoTime() < countDeadline
                    && sleep20());
            assertEquals(expectedSubscribers, actualSubscribers, "subscribers per channel: the survivors' only");
            List<SoakClient> everyone = new ArrayList<>(survivors);
            everyone.addAll(left);
            for (SoakClient c : everyone) {
                Set<String> unique = c.unique;
                for (Interval i : c.intervals) {
                    // Each publisher's messages sent after the subscribe's ok and answered before the end.
                    Map<String, List<Published>> expected = new HashMap<>();
                    for (Published p : byChannel.getOrDefault(i.channel, List.of())) {
                        if (p.sentAt > i.from && p.okAt < i.to) {
                            expected.computeIfAbsent(p.publisher(), x -> new ArrayList<>()).add(p);
                        }
                    }
                    for (List<Published> fromOne : expected.values()) {
                        // An unsubscribe may overtake the fan-out of a publish already answered (the
                        // subscriber's loop reads before it runs the queued fan-out), so a subscription
                        // that ended may miss the tail of what it was sent; never a message in between.
                        boolean gotAll = true;
                        for (Published p : fromOne) {
                            boolean got = unique.contains(p.channel + "/" + p.id);
                            if (got && !gotAll || !got && i.to == Long.MAX_VALUE) {
                                throw new AssertionError(c.name + (got ? " got a message after missing one before it: "
                                        : " missed ") + p + " in " + i);
                            }
                            gotAll &= got;
                            checked += got ? 1 : 0;
                        }
                    }
                }
            }
            assertTrue(checked > 1000, "the soak checked " + checked + " deliveries: too few to mean much");
            System.out.printf("churn soak: %d s, %d clients in all, %d dropped abruptly, %d left cleanly, "
                    + "%d publishes, %d deliveries checked%n", seconds, names.get(), aborted.get(), left.size(),
                    published.size(), checked);

            survivors.forEach(c -> c.ws.abort());
            long deadline = System.nanoTime() + JdkClient.WAIT.toNanos();
            while (!server.switchboard().channels().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertEquals(List.of(), server.switchboard().channels(), "no channel left behind");
        } finally {
            server.close();
        }
    }

    /** One worker's share: its own clients, so that no client is used by two threads. */
    private static List<SoakClient> churn(SwitchboardServer server, Random random, long end, AtomicInteger names,
                                          AtomicInteger aborted, ConcurrentLinkedQueue<Published> published,
                                          ConcurrentLinkedQueue<SoakClient> left) {
        List<SoakClient> clients = new ArrayList<>();
        while (System.nanoTime() < end) {
            if (clients.size() < CLIENTS_PER_WORKER) {
                clients.add(new SoakClient(server, "c" + names.incrementAndGet()));
                continue;
            }
            SoakClient c = clients.get(random.nextInt(clients.size()));
            String channel = "ch" + random.nextInt(CHANNELS);
            int op = random.nextInt(100);
            if (op < 2) {
                c.ws.abort(); // gone without a word, subscriptions and all
                clients.remove(c);
                aborted.incrementAndGet();
            } else if (op < 4) {
                // What arrives before the server's answering close is noted while still subscribed;
                // after it, the JDK client takes nothing more.
                long leaving = System.nanoTime();
                c.ws.closeGracefully();
                try {
                    c.drain();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(e);
                }
                leaveAll(c, leaving);
                clients.remove(c);
                left.add(c);
            } else if (op < 30) {
                if (!c.subscribedAt.containsKey(channel)) {
                    c.call("{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"" + channel + "\"}");
                    c.subscribedAt.put(channel, System.nanoTime());
                } else {
                    long sent = System.nanoTime();
                    c.call("{\"action\":\"unsubscribe\",\"params\":{\"channel_name\":\"" + channel + "\"}");
                    c.intervals.add(new Interval(channel, c.subscribedAt.remove(channel), sent));
                }
            } else if (!c.subscribedAt.isEmpty()) {
                String mine = c.subscribedAt.keySet().iterator().next();
                long seq = c.nextSeq++;
                long sent = System.nanoTime();
                String reply = c.call("{\"action\":\"publish\",\"params\":{\"channel_name\":\"" + mine
                        + "\",\"content\":" + seq + "}");
                assertTrue(reply.startsWith("{\"status\":\"ok\""), reply);
                published.add(new Published(mine, c.name + "#" + seq, sent, System.nanoTime()));
            }
        }
        for (SoakClient c : clients) {
            // Still subscribed: every later publish counts too, and what is still on its way is noted.
            c.subscribedAt.forEach((ch, from) -> c.intervals.add(new Interval(ch, from, Long.MAX_VALUE)));
        }
        return clients;
    }

    private static boolean sleep20() throws InterruptedException {
        Thread.sleep(20);
        return true;
    }

    private static void leaveAll(SoakClient c, long at) {
        c.subscribedAt.forEach((ch, from) -> c.intervals.add(new Interval(ch, from, at)));
        c.subscribedAt.clear();
    }
}
