package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static io.switchboard.server.testing.Requests.publish;
import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A subscriber that stops reading, after NATS's slow-consumer test: a raw socket with a tiny
 * receive buffer that never reads while a publisher floods its channel. The node must bound what it
 * holds for it (close it, or drop its deliveries) while a fast subscriber gets every message.
 */
@Timeout(120)
class SlowConsumerIT {

    private static final int MESSAGES = 4000;
    private static final String CONTENT = "\"" + "x".repeat(4000) + "\"";

    @Test
    void closesASlowConsumerAndTheOthersGetEverything() throws Exception {
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder()
                .maxMessagesPerSecond(0).outboundSoftLimitBytes(64 * 1024).outboundHardLimitBytes(2 * 1024 * 1024))) {
            try (Socket slow = slowSubscriber(server.localAddress());
                 JdkClient fast = JdkClient.connectAs(server.localAddress(), "fast");
                 JdkClient publisher = JdkClient.connectAs(server.localAddress(), "pub")) {
                fast.request(subscribe("flood"));
                publisher.request(subscribe("flood"));
                assertEquals(3, countOf(publisher, "flood"));
                flood(publisher, fast);
                // Closed at the hard limit: it leaves the channel.
                awaitCount(publisher, "flood", 2);
            }
        }
    }

    @Test
    void dropsASlowConsumersDeliveriesUnderTheDropPolicy() throws Exception {
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder()
                .maxMessagesPerSecond(0).slowConsumerPolicy(SlowConsumerPolicy.DROP))) {
            // The default soft limit (1 MiB) is above one batch (400 KB), so the clients that read
            // never go over it; the one that does not read does, and loses deliveries, not its connection.
            try (Socket slow = slowSubscriber(server.localAddress());
                 JdkClient fast = JdkClient.connectAs(server.localAddress(), "fast");
                 JdkClient publisher = JdkClient.connectAs(server.localAddress(), "pub")) {
                fast.request(subscribe("flood"));
                publisher.request(subscribe("flood"));
                flood(publisher, fast);
                // Still connected and subscribed: only its deliveries were skipped.
                awaitCount(publisher, "flood", 3);
            }
        }
    }

    @Test
    void closesAConsumerThatStaysOverTheSoftLimitForItsTime() throws Exception {
        // A hard limit far above what the flood leaves pending: only the soft limit's time can close it.
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder()
                .maxMessagesPerSecond(0).outboundSoftLimitBytes(64 * 1024).outboundHardLimitBytes(1L << 30)
                .outboundSoftLimitTime(Duration.ofMillis(300)))) {
            try (Socket slow = slowSubscriber(server.localAddress());
                 JdkClient publisher = JdkClient.connectAs(server.localAddress(), "pub")) {
                publisher.request(subscribe("flood"));
                flood(publisher, null);
                awaitCount(publisher, "flood", 1);
            }
        }
    }

    /** Connects, subscribes to "flood", and from then on never reads. */
    private static Socket slowSubscriber(InetSocketAddress address) throws Exception {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096);
        s.connect(new InetSocketAddress("127.0.0.1", address.getPort()));
        s.setSoTimeout(10_000);
        s.getOutputStream().write(io.switchboard.server.testing.RawClient.upgradeRequest("/api/connect?client_name=slow")
                .getBytes(StandardCharsets.US_ASCII));
        byte[] mask = {1, 2, 3, 4};
        byte[] payload = subscribe("flood").getBytes(StandardCharsets.UTF_8);
        byte[] frame = new byte[payload.length + 6];
        frame[0] = (byte) 0x81;
        frame[1] = (byte) (0x80 | payload.length);
        System.arraycopy(mask, 0, frame, 2, 4);
        for (int i = 0; i < payload.length; i++) {
            frame[6 + i] = (byte) (payload[i] ^ mask[i % 4]);
        }
        // The 101 and the confirmation first (RFC 6455 section 4.1: no data before the response),
        // then the subscribe and its reply; then nothing more is read.
        InputStream in = s.getInputStream();
        String seen = readUntil(in, "", "client_name");
        s.getOutputStream().write(frame);
        readUntil(in, seen, "total_subscribers");
        return s;
    }

    private static String readUntil(InputStream in, String seen, String marker) throws Exception {
        while (!seen.contains(marker)) {
            byte[] chunk = new byte[512];
            int n = in.read(chunk);
            assertTrue(n > 0, "the slow subscriber's setup: " + seen);
            seen += new String(chunk, 0, n, StandardCharsets.ISO_8859_1);
        }
        return seen;
    }

    /**
     * Publishes {@link #MESSAGES} in batches of 100; before the next batch the clients that read
     * (the publisher, its own copies and oks; the fast subscriber, checking order) take the whole
     * batch, so they never fall far behind. The slow subscriber takes nothing.
     */
    private static void flood(JdkClient publisher, JdkClient fast) {
        for (int batch = 0; batch < MESSAGES; batch += 100) {
            for (int i = batch; i < batch + 100; i++) {
                publisher.send(publish("flood", "{\"i\":" + i + ",\"pad\":" + CONTENT + "}"));
            }
            for (int i = 0; i < 200; i++) {
                publisher.next();
            }
            for (int i = batch; fast != null && i < batch + 100; i++) {
                String m = fast.next();
                assertTrue(m.contains("\"content\":{\"i\":" + i + ","), "message " + i + " in order: "
                        + m.substring(0, Math.min(120, m.length())));
            }
        }
    }

    private static int countOf(JdkClient c, String channel) {
        String reply = c.request("{\"action\":\"list\"}");
        String key = "{\"channel_name\":\"" + channel + "\",\"total_subscribers\":";
        int at = reply.indexOf(key);
        return at < 0 ? -1 : Integer.parseInt(reply.substring(at + key.length(), reply.indexOf('}', at + key.length())));
    }

    /** Polls the listing, bounded by the client's wait, skipping the publisher's own deliveries. */
    private static void awaitCount(JdkClient c, String channel, int expected) throws InterruptedException {
        long deadline = System.nanoTime() + JdkClient.WAIT.toNanos();
        while (true) {
            c.send("{\"action\":\"list\"}");
            String reply;
            do {
                reply = c.next();
            } while (!reply.contains("\"channels\""));
            String key = "{\"channel_name\":\"" + channel + "\",\"total_subscribers\":";
            int at = reply.indexOf(key);
            int actual = at < 0 ? -1 : Integer.parseInt(reply.substring(at + key.length(),
                    reply.indexOf('}', at + key.length())));
            if (actual == expected) {
                return;
            }
            if (System.nanoTime() > deadline) {
                assertEquals(expected, actual, channel + " subscribers");
            }
            Thread.sleep(50);
        }
    }
}
