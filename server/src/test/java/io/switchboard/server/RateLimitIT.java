package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

import static io.switchboard.server.testing.Requests.metric;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-connection rate limits on a real server, checked against the limiter's rules
 * ({@code RateLimiter}: a bucket of one second's worth, {@code R} tokens, full at the start and
 * refilled at {@code R} a second; {@code R} refused in a row close the connection) without
 * assuming how fast the messages go: a client sends one message at a time, each once the previous
 * one is answered (so nothing it sends is left unread when the node closes), until it is closed.
 * The answers must be the first {@code R} accepted, then accepted or refused in any mix without
 * {@code R} refusals in a row, ending with {@code R - 1} refusals (the {@code R}-th closes
 * unanswered). How many more
 * were accepted is bounded by what the bucket can have refilled in the time the client measured
 * from before its first message to the close: {@code R} a second, so none when the exchange took
 * under {@code 1/R} s. The bound only loosens on a slow machine; it never fails there.
 * {@code RateLimiterTest} checks the refill itself, to the nanosecond, with a clock of its own.
 */
@Timeout(30)
class RateLimitIT {

    private static final int RATE = 3;
    private static final String LIST_OK = "{\"status\":\"ok\",\"info\":{\"channels\":[]}}";
    private static final String LIMITED = "{\"status\":\"error\",\"info\":{\"detail\":\"Too many messages: at most 3 "
            + "per second\",\"code\":\"rate_limited\"}}";
    private static final String SUBSCRIBE_LIMITED = "{\"status\":\"error\",\"info\":{\"detail\":\"Too many subscribes "
            + "and unsubscribes: at most 3 per second\",\"code\":\"rate_limited\"}}";

    @Test
    void answersRateLimitedThenClosesWith1008OnPersistentFlooding() {
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder().maxMessagesPerSecond(RATE))) {
            long elapsed;
            List<String> replies;
            try (JdkClient c = JdkClient.connectAs(server.localAddress(), "flood")) {
                long start = System.nanoTime(); // the bucket is full (it holds no more) until the first message
                replies = exchangeUntilClosed(c, i -> "{\"action\":\"list\"}");
                assertEquals(1008, c.awaitClose());
                elapsed = System.nanoTime() - start;
                assertEquals("Rate limit exceeded", c.closeReason());
            }
            for (String r : replies) {
                assertTrue(r.equals(LIST_OK) || r.equals(LIMITED), r);
            }
            int refused = assertTheLimitersRules(replies.stream().map(LIMITED::equals).toList(), elapsed);
            assertEquals(refused, metric(server, "switchboard_errors_total{code=\"rate_limited\"}"), "the refusals counted");
            assertEquals(1.0, metric(server, "switchboard_closes_total{reason=\"rate_limit\"}"), "the close counted");
        }
    }

    /**
     * Subscribes and unsubscribes share a bucket of their own: the first three (a subscribe, an
     * unsubscribe, a subscribe) pass, then subscribes alternate with {@code list}s, which are never
     * refused by it, not even right after a refused subscribe.
     */
    @Test
    void subscribesHaveARateOfTheirOwn() {
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder()
                .maxSubscribesPerSecond(RATE))) {
            long elapsed;
            List<String> replies;
            try (JdkClient c = JdkClient.connectAs(server.localAddress(), "churner")) {
                long start = System.nanoTime(); // the bucket is full (it holds no more) until the first message
                // 0: subscribe ch0, 1: unsubscribe ch0, then even i: subscribe ch<i>, odd: list.
                replies = exchangeUntilClosed(c, i -> i == 1 ? Requests.unsubscribe("ch0")
                        : i % 2 == 0 ? Requests.subscribe("ch" + i) : "{\"action\":\"list\"}");
                assertEquals(1008, c.awaitClose(), "three refused in a row: abuse");
                elapsed = System.nanoTime() - start;
                assertEquals("Subscribe rate limit exceeded", c.closeReason());
            }
            assertTrue(replies.size() >= 3 && replies.size() % 2 == 0, "answered up to the closing subscribe: " + replies);
            assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"ch0\",\"total_subscribers\":1}}", replies.get(0));
            assertEquals("{\"status\":\"ok\"}", replies.get(1));
            List<Boolean> limiter = new ArrayList<>(List.of(false, false));
            for (int i = 2; i < replies.size(); i++) {
                String r = replies.get(i);
                if (i % 2 == 0) {
                    assertTrue(r.equals(SUBSCRIBE_LIMITED) || r.equals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"ch"
                            + i + "\",\"total_subscribers\":1}}"), r);
                    limiter.add(r.equals(SUBSCRIBE_LIMITED));
                } else {
                    assertTrue(r.startsWith("{\"status\":\"ok\",\"info\":{\"channels\":["), "a list is not a subscribe: " + r);
                }
            }
            int refused = assertTheLimitersRules(limiter, elapsed);
            assertEquals(refused, metric(server, "switchboard_errors_total{code=\"rate_limited\"}"), "the refusals counted");
            assertEquals(1.0, metric(server, "switchboard_closes_total{reason=\"subscribe_rate_limit\"}"),
                    "the close counted");
            assertEquals(0.0, metric(server, "switchboard_closes_total{reason=\"rate_limit\"}"), "not the message rate");
        }
    }

    /**
     * Checks the answers a limiter of {@link #RATE} gave, in order ({@code true}: refused), up to
     * the refusal that closed the connection (not answered), against its rules; returns the
     * refusals answered.
     */
    private static int assertTheLimitersRules(List<Boolean> refusedInOrder, long elapsedNanos) {
        String answers = refusedInOrder.toString();
        assertTrue(refusedInOrder.size() >= 2 * RATE - 1, "a full bucket, then RATE - 1 answered refusals: " + answers);
        for (int i = 0; i < RATE; i++) {
            assertEquals(false, refusedInOrder.get(i), "the bucket starts full: the first " + RATE + " pass: " + answers);
        }
        int run = 0;
        for (boolean refused : refusedInOrder) {
            run = refused ? run + 1 : 0;
            assertTrue(run < RATE, RATE + " refused in a row close the connection: " + answers);
        }
        assertEquals(RATE - 1, run, "the answers end with the refusals before the one that closed: " + answers);
        int accepted = (int) refusedInOrder.stream().filter(r -> !r).count();
        // What the bucket can have refilled at RATE a second, over at most the time measured.
        long refillable = elapsedNanos * RATE / 1_000_000_000L;
        assertTrue(accepted <= RATE + refillable, accepted + " accepted in " + elapsedNanos / 1_000_000
                + " ms, at most " + RATE + " plus " + refillable + " refilled: " + answers);
        return refusedInOrder.size() - accepted;
    }

    /**
     * Sends {@code message.apply(i)} for i = 0, 1, ..., each once the node answered the one before,
     * until the node closes the connection instead of answering (at most 1,000 messages). Returns
     * the answers, in order.
     */
    private static List<String> exchangeUntilClosed(JdkClient c, IntFunction<String> message) {
        List<String> answers = new ArrayList<>();
        for (int i = 0; c.closedBy() == null; i++) {
            assertTrue(i < 1_000, "not closed after " + i + " messages: " + answers);
            c.send(message.apply(i));
            String answer = answerOrClose(c);
            if (answer != null) {
                answers.add(answer);
            }
        }
        return answers;
    }

    /** The next message, or {@code null} once the node's close arrived with none before it; waits at most {@link JdkClient#WAIT}. */
    private static String answerOrClose(JdkClient c) {
        long deadline = System.nanoTime() + JdkClient.WAIT.toNanos();
        try {
            while (System.nanoTime() < deadline) {
                String m = c.poll(5);
                if (m != null) {
                    return m;
                }
                if (c.closedBy() != null) {
                    return c.poll(0); // what arrived before the close is queued before it completes
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
        throw new AssertionError("neither an answer nor a close within " + JdkClient.WAIT);
    }
}
