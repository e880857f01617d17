package io.switchboard.server.testing;

import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.SwitchboardServer;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/** The minichats requests tests send, and a node on loopback to send them to. */
public final class Requests {

    private Requests() {
    }

    public static String subscribe(String channel) {
        return "{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"" + channel + "\"}}";
    }

    public static String unsubscribe(String channel) {
        return "{\"action\":\"unsubscribe\",\"params\":{\"channel_name\":\"" + channel + "\"}}";
    }

    /** A publish of {@code content}, raw JSON. */
    public static String publish(String channel, String content) {
        return "{\"action\":\"publish\",\"params\":{\"channel_name\":\"" + channel + "\",\"content\":" + content + "}}";
    }

    /** Starts a node with {@code config} on 127.0.0.1 and an ephemeral port. */
    public static SwitchboardServer startOnLoopback(SwitchboardConfig.Builder config) {
        SwitchboardServer server = SwitchboardServer.create(config.host("127.0.0.1").port(0).build());
        server.start().join();
        return server;
    }

    /**
     * Returns the channel's {@code total_subscribers} in a listing, or -1 when it is not listed.
     * Messages before the listing reply (deliveries, oks) are skipped.
     */
    public static int countOf(JdkClient c, String channel) {
        c.send("{\"action\":\"list_channels\"}");
        String reply;
        do {
            reply = c.next();
        } while (!reply.contains("\"channels\""));
        String key = "{\"channel_name\":\"" + channel + "\",\"total_subscribers\":";
        int at = reply.indexOf(key);
        if (at < 0) {
            return -1;
        }
        int start = at + key.length();
        return Integer.parseInt(reply.substring(start, reply.indexOf('}', start)));
    }

    /** Polls the listing until the channel's count is {@code expected}, for at most the client's wait. */
    public static void awaitCount(JdkClient c, String channel, int expected) throws InterruptedException {
        long deadline = System.nanoTime() + JdkClient.WAIT.toNanos();
        int actual;
        while ((actual = countOf(c, channel)) != expected) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(channel + ": " + actual + " subscribers, expected " + expected);
            }
            Thread.sleep(20);
        }
    }

    /**
     * The value of one series at the node's {@code GET /metrics}, named as Prometheus shows it,
     * e.g. {@code switchboard_closes_total{reason="rate_limit"}}. Fails when the node does not show
     * the series, so a renamed metric fails the test that checks it.
     */
    public static double metric(SwitchboardServer server, String series) {
        String text;
        try {
            text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + server.localAddress().getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (Exception e) {
            throw new AssertionError("GET /metrics", e);
        }
        int at = text.indexOf("\n" + series + " ");
        if (at < 0) {
            throw new AssertionError("no series " + series + " at /metrics");
        }
        at += series.length() + 2;
        return Double.parseDouble(text.substring(at, text.indexOf('\n', at)));
    }
}
