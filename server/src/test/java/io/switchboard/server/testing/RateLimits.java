package io.switchboard.server.testing;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Checks of a per-connection rate limit on a real node that assume nothing of how fast messages
 * go (issue 23): the answers a client got, in order, are held to the rules of the node's
 * {@code RateLimiter} with a rate of {@code R}: a bucket of {@code R} tokens, full at the start
 * (it holds no more, so the time before the first message does not count), refilled at {@code R}
 * a second; {@code R} refused in a row close the connection. So the first {@code R} messages pass,
 * then any mix passes without {@code R} refusals in a row, and no more pass than {@code R} plus
 * what can have refilled in the time the client measured around the exchange: none when it took
 * under {@code 1/R} s. That bound only loosens on a slow machine, never fails there. A burst one
 * under the rate, or an abuse count one over or under it, fails these checks on any machine; a
 * burst one over, whenever the exchange took under {@code 1/R} s.
 * {@code RateLimiterTest} checks the refill itself with a clock of its own.
 */
public final class RateLimits {

    private RateLimits() {
    }

    /**
     * Checks the answers a limiter of {@code rate} gave to a connection that it did not close,
     * in order ({@code true}: refused), all of them given within {@code elapsedNanos} as the
     * client measured from before its first message; returns how many were refused.
     */
    public static int assertTheLimitersRules(int rate, List<Boolean> refusedInOrder, long elapsedNanos) {
        String answers = refusedInOrder.toString();
        assertTrue(refusedInOrder.size() >= rate, "at least a full bucket: " + answers);
        for (int i = 0; i < rate; i++) {
            assertFalse(refusedInOrder.get(i), "the bucket starts full: the first " + rate + " pass: " + answers);
        }
        int run = 0;
        for (boolean refused : refusedInOrder) {
            run = refused ? run + 1 : 0;
            assertTrue(run < rate, rate + " refused in a row close the connection: " + answers);
        }
        int accepted = (int) refusedInOrder.stream().filter(r -> !r).count();
        // What the bucket can have refilled at `rate` a second, over at most the time measured.
        long refillable = elapsedNanos * rate / 1_000_000_000L;
        assertTrue(accepted <= rate + refillable, accepted + " accepted in " + elapsedNanos / 1_000_000
                + " ms, at most " + rate + " plus " + refillable + " refilled: " + answers);
        return refusedInOrder.size() - accepted;
    }

    /**
     * As {@link #assertTheLimitersRules}, for the answers up to the refusal that closed the
     * connection (not among them): they must end with the {@code rate - 1} refusals before it.
     * Returns how many were refused.
     */
    public static int assertTheLimitersRulesUpToTheClose(int rate, List<Boolean> refusedInOrder, long elapsedNanos) {
        String answers = refusedInOrder.toString();
        assertTrue(refusedInOrder.size() >= 2 * rate - 1,
                "a full bucket, then " + (rate - 1) + " refusals: " + answers);
        int refused = assertTheLimitersRules(rate, refusedInOrder, elapsedNanos);
        int run = 0;
        for (int i = refusedInOrder.size() - 1; i >= 0 && refusedInOrder.get(i); i--) {
            run++;
        }
        assertEquals(rate - 1, run, "the answers end with the refusals before the one that closed: " + answers);
        return refused;
    }

    /**
     * Sends {@code message.apply(i)} for i = 0, 1, ..., each once the node answered the one
     * before (so nothing sent is unread when the node closes, which would make it reset the
     * connection and lose its close frame), until the node closes the connection instead of
     * answering (at most 1,000 messages). Returns the answers, in order.
     */
    public static List<String> exchangeUntilClosed(JdkClient c, IntFunction<String> message) {
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

    /**
     * The next message, or {@code null} once the node's close arrived with none before it; waits
     * at most {@link JdkClient#WAIT}.
     */
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
