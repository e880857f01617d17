package io.switchboard.server;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.channel.EventLoop;
import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.RawClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import static io.switchboard.server.testing.Requests.publish;
import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One client against the node, as an attacker would try it: loopback sockets, no credentials, and
 * a client that sends as fast as it can while it never reads what it is sent. Each attack must end
 * with the attacker's connection closed by the node, a well-behaved client served throughout, and
 * what the node held for the attacker (its outbound bytes, and the JVM's direct memory and heap, read
 * from the MXBeans) under the documented bound: the hard limit plus one reply. A chatroom client
 * that floods one topic's owner is bounded before any outbound limit: at most 64 of its requests
 * are in flight ({@link #aChatroomClientHasAtMost64RequestsInFlight}).
 */
@Timeout(180)
public class HostileClientsIT {

    private static final long SOFT = 1024 * 1024;
    private static final long HARD = 8 * 1024 * 1024;
    /** What the JVM's direct memory may grow by in an attack: the hard limit and the allocator's chunks around it. */
    private static final long DIRECT_MEMORY_BOUND = 64L * 1024 * 1024;
    /**
     * What the live heap (after a full collection) may rise by in an attack: loose, because the
     * tests' paranoid leak detection keeps stack traces for every buffer in flight (about 25 KB
     * each: 37,000 pongs waiting at the hard limit hold some 350 MB); a node that buffered without
     * bound filled the 1 GiB heap.
     */
    private static final long HEAP_BOUND = 640L * 1024 * 1024;
    /** How much an attacker sends at most, if it is never stopped: far past any bound. */
    private static final long ATTACK_BYTES = 512L * 1024 * 1024;

    /**
     * An HTTP keep-alive client pipelines {@code GET /metrics} and never reads: each 40-byte request
     * asks for a response of kilobytes. Reading stops at the soft limit; the requests read before
     * then wait in the flow control, and past 128 of them Netty's codec refuses more: the node closes
     * the connection as a slow consumer (were it not, the handshake deadline would, as no request completes).
     */
    @Test
    void pipelinedHttpRequestsThatAreNeverRead() throws Exception {
        try (SwitchboardServer server = start(SwitchboardConfig.builder().handshakeTimeout(Duration.ofSeconds(2)))) {
            byte[] request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            attack(server, () -> connect(server), request);
            // Closed as a slow consumer (the codec's pipelining limit or the hard limit), before the
            // handshake deadline (which counts nothing), and not as a bug.
            assertEquals(1.0, Requests.metric(server, "switchboard_closes_total{reason=\"slow_consumer\"}"));
            assertEquals(0.0, Requests.metric(server, "switchboard_closes_total{reason=\"internal_error\"}"));
        }
    }

    /**
     * A minichats client sends {@code list_channels} in a loop and never reads, after ordinary
     * clients made a few thousand channels with long names (each reply up to the message limit).
     * Under either policy, the hard limit (or, under {@code close}, the soft limit's time) ends it.
     */
    @ParameterizedTest
    @EnumSource(SlowConsumerPolicy.class)
    void listChannelsRepliesThatAreNeverRead(SlowConsumerPolicy policy) throws Exception {
        try (SwitchboardServer server = start(SwitchboardConfig.builder().slowConsumerPolicy(policy)
                .maxSubscribesPerSecond(0).outboundSoftLimitTime(Duration.ofSeconds(2))
                .pingInterval(Duration.ofSeconds(1)).pingTimeout(Duration.ofSeconds(1)))) {
            makeChannels(server, 3000);
            try (JdkClient lister = JdkClient.connectAs(server.localAddress(), "lister")) {
                String listing = lister.request("{\"action\":\"list_channels\"}");
                assertTrue(listing.length() <= server.config().maxMessageBytes(), listing.length() + " bytes");
                assertTrue(listing.endsWith("],\"truncated\":true}}"), listing.substring(listing.length() - 80));
            }
            attack(server, () -> upgrade(server, "/api/connect?client_name=attacker"),
                    maskedText("{\"action\":\"list_channels\"}"));
            assertTrue(Requests.metric(server, "switchboard_read_pauses_total") >= 1, "reading stopped at the soft limit");
            assertEquals(1.0, Requests.metric(server, "switchboard_closes_total{reason=\"slow_consumer\"}")
                    + Requests.metric(server, "switchboard_closes_total{reason=\"ping_timeout\"}"), "its close counted");
        }
    }

    /** Pings answered with pongs that are never read: Netty's pongs count like any other write. */
    @ParameterizedTest
    @EnumSource(SlowConsumerPolicy.class)
    void pingsWhosePongsAreNeverRead(SlowConsumerPolicy policy) throws Exception {
        try (SwitchboardServer server = start(SwitchboardConfig.builder().slowConsumerPolicy(policy)
                .outboundSoftLimitTime(Duration.ofSeconds(2))
                .pingInterval(Duration.ofSeconds(1)).pingTimeout(Duration.ofSeconds(1)))) {
            attack(server, () -> upgrade(server, "/api/connect?client_name=pinger"), maskedFrame(0x9, new byte[125]));
            assertEquals(1.0, Requests.metric(server, "switchboard_closes_total{reason=\"slow_consumer\"}"),
                    "closed at an outbound limit");
        }
    }

    /**
     * A chatroom client subscribes to a topic holding a 60 KB value over and over, never reading:
     * each 60-byte request is answered with the whole value.
     */
    @Test
    void chatroomSnapshotsThatAreNeverRead() throws Exception {
        try (SwitchboardServer server = start(SwitchboardConfig.builder().outboundSoftLimitTime(Duration.ofSeconds(2)));
             JdkClient owner = JdkClient.connect(URI.create("ws://127.0.0.1:" + server.localAddress().getPort()
                     + "/chatroom"))) {
            assertTrue(owner.next().contains("\"hello\""));
            owner.send("{\"type\":\"subscribe\",\"content\":{\"topic_name\":\"big\",\"type\":\"string\"}}");
            assertTrue(owner.next().contains("\"update\""));
            owner.send("{\"type\":\"update\",\"content\":{\"topic_name\":\"big\",\"change\":{\"type\":\"set\","
                    + "\"value\":\"" + "v".repeat(60_000) + "\"}}}");
            assertTrue(owner.next().length() > 60_000);
            attack(server, () -> upgrade(server, "/chatroom"),
                    maskedText("{\"type\":\"subscribe\",\"content\":{\"topic_name\":\"big\",\"type\":\"string\"}}"));
            assertEquals(1.0, Requests.metric(server, "switchboard_closes_total{reason=\"slow_consumer\"}"),
                    "closed at an outbound limit");
        }
    }

    /**
     * docs/guarantees.md, "chatroom work in flight": a client may have 64 subscribes, unsubscribes
     * and updates handed to their topics' owners and not done; the one that makes 64 stops reading,
     * so the 65th is not read until one is done. The topic's owner (the loop of the client that
     * created it) is held by the test while a client on another loop sends 70 updates at once:
     * reading stops with exactly 64 read (counted in {@code chatroom_read_pauses_total}), and once
     * the owner runs again every update is applied, in order.
     */
    @Test
    void aChatroomClientHasAtMost64RequestsInFlight() throws Exception {
        int limit = 64;
        int sent = limit + 6;
        Map<Integer, EventLoop> loops = new ConcurrentHashMap<>(); // by the client's port
        Switchboard switchboard = Switchboard.create(SwitchboardConfig.builder().host("127.0.0.1").port(0)
                .ioThreads(2).maxMessagesPerSecond(0).build());
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        switchboard.bindMetrics(registry);
        CountDownLatch release = new CountDownLatch(1);
        try (SwitchboardServer server = SwitchboardServer.builder(switchboard)
                .pipelineCustomizer(p -> loops.put(((InetSocketAddress) p.channel().remoteAddress()).getPort(),
                        p.channel().eventLoop())).build()) {
            server.start().join();
            // Released before the server closes, whatever happens: the node cannot stop while a loop is held.
            try (RawClient owner = chatroomClient(server)) {
                holdTheOwnerWhileAClientFloodsIt(server, owner, loops, registry, release, limit, sent);
            } finally {
                release.countDown();
            }
        }
    }

    /**
     * {@code owner} makes a topic (its loop owns it); a client on the other loop subscribes, then
     * sends {@code sent} updates at once while the test holds the owner's loop.
     */
    private static void holdTheOwnerWhileAClientFloodsIt(SwitchboardServer server, RawClient owner,
                                                         Map<Integer, EventLoop> loops, SimpleMeterRegistry registry,
                                                         CountDownLatch release, int limit, int sent) throws Exception {
        String subscribe = "{\"type\":\"subscribe\",\"content\":{\"topic_name\":\"inflight\",\"type\":\"int\"}}";
        owner.sendText(subscribe);
        assertTrue(owner.readText().contains("\"version\":0"), "the topic is made, owned by its creator's loop");
        EventLoop ownerLoop = loops.get(owner.localPort());
        RawClient sender = null;
        for (int tries = 0; tries < 4 && sender == null; tries++) { // the loops take connections in turn
            RawClient c = chatroomClient(server);
            if (loops.get(c.localPort()) != ownerLoop) {
                sender = c;
            } else {
                c.close();
            }
        }
        assertNotNull(sender, "a client on the other loop");
        try (RawClient c = sender) {
            EventLoop senderLoop = loops.get(c.localPort());
            c.sendText(subscribe);
            assertTrue(c.readText().contains("\"version\":0"));
            // The subscribe's task has run on the owner, and its end on the sender's loop: none in flight.
            ownerLoop.submit(() -> { }).get(10, TimeUnit.SECONDS);
            senderLoop.submit(() -> { }).get(10, TimeUnit.SECONDS);
            double readBefore = counter(registry, "switchboard.messages.in");
            assertEquals(0.0, counter(registry, "switchboard.chatroom.read.pauses"));

            CountDownLatch held = new CountDownLatch(1);
            ownerLoop.execute(() -> {
                held.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(held.await(10, TimeUnit.SECONDS), "the owner's loop is held");
            ByteArrayOutputStream updates = new ByteArrayOutputStream();
            for (int i = 1; i <= sent; i++) {
                updates.writeBytes(RawClient.maskedFrame(RawClient.TEXT, true, ("{\"type\":\"update\",\"content\":"
                        + "{\"topic_name\":\"inflight\",\"change\":{\"type\":\"set\",\"value\":" + i + "}}}")
                        .getBytes(StandardCharsets.UTF_8)));
            }
            c.write(updates.toByteArray());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (counter(registry, "switchboard.chatroom.read.pauses") < 1) {
                assertTrue(System.nanoTime() < deadline, "reading stopped within 10 s");
                Thread.sleep(5);
            }
            // The pause is counted as the 64th is handed over, after it was counted as read; while
            // the owner is held no task is done, so nothing more is read: a limit of 63 or 65 reads 63 or 65.
            assertEquals(limit, counter(registry, "switchboard.messages.in") - readBefore,
                    "read up to the limit and not one more");
            release.countDown();
            for (int i = 1; i <= sent; i++) {
                String applied = "\"value\":" + i + ",\"version\":" + i + "}";
                String update = owner.readText();
                assertTrue(update.contains(applied), update);
                update = c.readText();
                assertTrue(update.contains(applied), update);
            }
            assertEquals(sent, counter(registry, "switchboard.messages.in") - readBefore, "the rest read once one was done");
        }
    }

    /** A chatroom connection to {@code server}, its {@code hello} read. */
    private static RawClient chatroomClient(SwitchboardServer server) throws IOException {
        RawClient c = new RawClient(server.localAddress());
        assertTrue(c.upgrade("/chatroom").startsWith("HTTP/1.1 101 "));
        assertTrue(c.readText().startsWith("{\"type\":\"hello\""));
        return c;
    }

    private static double counter(SimpleMeterRegistry registry, String name) {
        return registry.get(name).functionCounter().count();
    }

    /**
     * An exception nobody expected (here an application's authorizer that throws) closes that
     * connection, with the error reply and close 1011 first; the node serves the next request.
     */
    @Test
    void anUnexpectedExceptionClosesItsConnectionOnly() throws Exception {
        Switchboard switchboard = Switchboard.builder(SwitchboardConfig.builder().host("127.0.0.1").port(0).build())
                .channelAuthorizer((operation, channel, client, handshake) -> {
                    if (channel.equals("boom")) {
                        throw new IllegalStateException("the application's authorizer failed");
                    }
                    return null;
                }).build();
        try (SwitchboardServer server = SwitchboardServer.builder(switchboard).build()) {
            server.start().join();
            try (JdkClient victim = JdkClient.connectAs(server.localAddress(), "victim");
                 JdkClient other = JdkClient.connectAs(server.localAddress(), "other")) {
                victim.send(subscribe("boom"));
                assertTrue(victim.next().contains("\"code\":\"internal\""));
                assertEquals(1011, victim.awaitClose());
                assertTrue(other.request(subscribe("fine")).contains("\"total_subscribers\":1"));
                assertTrue(other.request(publish("fine", "1")).contains("\"ok\""));
            }
            assertEquals(1.0, Requests.metric(server, "switchboard_closes_total{reason=\"internal_error\"}"));
        }
    }

    /**
     * Runs one attack: on its own thread, {@code unit} sent over and over on the connection
     * {@code connect} opens, never reading, while a well-behaved client is served. The node must
     * close the attacker, hold no more than the bound meanwhile, and still answer {@code /health}.
     */
    private static void attack(SwitchboardServer server, Supplier<SocketChannel> connect, byte[] unit)
            throws InterruptedException {
        Watch watch = new Watch(server);
        CompletableFuture<Long> attack = CompletableFuture.supplyAsync(() -> floodWithoutReading(connect.get(), unit));
        servesAWellBehavedClientMeanwhile(server, attack);
        long sent = attack.join();
        watch.stop();
        assertTrue(sent < ATTACK_BYTES, "the node stopped the attacker (" + sent + " bytes sent)");
        watch.assertBounded(new Throwable().getStackTrace()[1].getMethodName());
        assertEquals(200, health(server));
    }

    private static SwitchboardServer start(SwitchboardConfig.Builder config) {
        return Requests.startOnLoopback(config.maxMessagesPerSecond(0)
                .outboundSoftLimitBytes((int) SOFT).outboundHardLimitBytes(HARD));
    }

    /** Subscribes clients to {@code count} channels with 120-byte names, then leaves them there. */
    private static void makeChannels(SwitchboardServer server, int count) {
        int perClient = server.config().maxSubscriptionsPerConnection();
        for (int made = 0; made < count; made += perClient) {
            JdkClient c = JdkClient.connectAs(server.localAddress(), "maker" + made);
            for (int i = made; i < Math.min(count, made + perClient); i++) {
                c.send(subscribe(String.format("%05d-", i) + "n".repeat(114)));
            }
            for (int i = made; i < Math.min(count, made + perClient); i++) {
                assertTrue(c.next().contains("\"total_subscribers\""));
            }
            // Kept open: the channels live while their subscriber does (closed with the server).
        }
    }

    /** Requests and replies on another connection until the attack is over, and once after. */
    private static void servesAWellBehavedClientMeanwhile(SwitchboardServer server, CompletableFuture<Long> attack) {
        try (JdkClient good = JdkClient.connectAs(server.localAddress(), "good")) {
            assertTrue(good.request(subscribe("calm")).contains("\"total_subscribers\":1"));
            int served = 0;
            do {
                assertTrue(good.request(publish("calm", String.valueOf(served))).contains("\"ok\""));
                assertTrue(good.next().contains("\"content\":" + served));
                served++;
            } while (!attack.isDone());
            assertEquals(200, health(server));
        }
    }

    private static int health(SwitchboardServer server) {
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + server.localAddress().getPort() + "/health")).timeout(JdkClient.WAIT).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode();
        } catch (IOException | InterruptedException e) {
            throw new AssertionError("the node did not answer /health", e);
        }
    }

    /**
     * Writes {@code unit} over and over and never reads, until the node closes the connection (the
     * write fails) or {@link #ATTACK_BYTES} are sent. A stalled write waits for the socket, not for
     * a time: the node ends a stall by closing. Returns the bytes sent.
     */
    private static long floodWithoutReading(SocketChannel channel, byte[] unit) {
        long sent = 0;
        try (channel; Selector selector = Selector.open()) {
            channel.configureBlocking(false);
            channel.register(selector, SelectionKey.OP_WRITE);
            ByteBuffer chunk = ByteBuffer.allocate(64 * 1024 / unit.length * unit.length);
            while (chunk.remaining() >= unit.length) {
                chunk.put(unit);
            }
            chunk.flip();
            while (sent < ATTACK_BYTES) {
                ByteBuffer b = chunk.duplicate();
                while (b.hasRemaining()) {
                    int n = channel.write(b);
                    sent += n;
                    if (n == 0) {
                        selector.select(1000);
                        selector.selectedKeys().clear();
                    }
                }
            }
        } catch (IOException closedByTheNode) {
            return sent;
        }
        return sent;
    }

    /** A connection with a tiny receive buffer, as a client that does not read would leave it. */
    private static SocketChannel connect(SwitchboardServer server) {
        try {
            SocketChannel ch = SocketChannel.open();
            ch.setOption(StandardSocketOptions.SO_RCVBUF, 4096);
            ch.connect(new InetSocketAddress("127.0.0.1", server.localAddress().getPort()));
            return ch;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** {@link #connect}, then a WebSocket upgrade to {@code target}; what the node sends after the 101 is left unread. */
    private static SocketChannel upgrade(SwitchboardServer server, String target) {
        SocketChannel ch = connect(server);
        try {
            ch.write(ByteBuffer.wrap(io.switchboard.server.testing.RawClient.upgradeRequest(target)
                    .getBytes(StandardCharsets.US_ASCII)));
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            ByteBuffer one = ByteBuffer.allocate(1);
            while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
                one.clear();
                if (ch.read(one) < 0) {
                    throw new AssertionError("closed during the upgrade: " + head);
                }
                head.write(one.get(0));
            }
            assertTrue(head.toString(StandardCharsets.US_ASCII).startsWith("HTTP/1.1 101 "), head.toString());
            return ch;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] maskedText(String text) {
        return maskedFrame(0x1, text.getBytes(StandardCharsets.UTF_8));
    }

    /** One final, masked client frame of at most 65535 bytes; the mask is all zeros, which RFC 6455 allows. */
    private static byte[] maskedFrame(int opcode, byte[] payload) {
        ByteArrayOutputStream frame = new ByteArrayOutputStream(payload.length + 8);
        frame.write(0x80 | opcode);
        if (payload.length <= 125) {
            frame.write(0x80 | payload.length);
        } else {
            frame.write(0x80 | 126);
            frame.write(payload.length >>> 8);
            frame.write(payload.length);
        }
        frame.writeBytes(new byte[4]);
        frame.writeBytes(payload);
        return frame.toByteArray();
    }

    /**
     * Samples, on its own thread until {@link #stop}, the most the node's connections held
     * unsent ({@code switchboard.outbound.pending}) and how far the JVM's direct memory rose.
     */
    private static final class Watch {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicLong maxPending = new AtomicLong();
        private final AtomicLong maxDirectRise = new AtomicLong();
        private final AtomicLong maxHeapRise = new AtomicLong(Long.MIN_VALUE);
        private final Thread thread;

        Watch(SwitchboardServer server) {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            server.switchboard().bindMetrics(registry);
            BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                    .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
            long directBefore = direct.getMemoryUsed();
            MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
            memory.gc();
            long heapBefore = memory.getHeapMemoryUsage().getUsed();
            thread = new Thread(() -> {
                long samples = 0;
                while (running.get()) {
                    maxPending.accumulateAndGet((long) registry.get("switchboard.outbound.pending").gauge().value(),
                            Math::max);
                    maxDirectRise.accumulateAndGet(direct.getMemoryUsed() - directBefore, Math::max);
                    if (++samples % 100 == 0) {
                        // The live heap, without the attack's garbage: every 100 samples, after a full collection.
                        memory.gc();
                        maxHeapRise.accumulateAndGet(memory.getHeapMemoryUsage().getUsed() - heapBefore, Math::max);
                    }
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                }
            }, "memory-watch");
            thread.setDaemon(true);
            thread.start();
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join();
        }

        /** The outbound bound: the hard limit plus the one write that crosses it (a reply, at most the message limit). */
        void assertBounded(String attack) {
            System.out.printf("%s: held at most %,d bytes outbound; direct memory rose by at most %,d bytes, "
                    + "the live heap by at most %s%n", attack, maxPending.get(), maxDirectRise.get(),
                    maxHeapRise.get() == Long.MIN_VALUE ? "(not sampled)" : String.format("%,d bytes", maxHeapRise.get()));
            assertTrue(maxPending.get() <= HARD + 256 * 1024, "held for the connections: " + maxPending.get());
            assertTrue(maxDirectRise.get() <= DIRECT_MEMORY_BOUND, "direct memory rose by " + maxDirectRise.get());
            assertTrue(maxHeapRise.get() <= HEAP_BOUND, "the heap rose by " + maxHeapRise.get());
        }
    }
}
