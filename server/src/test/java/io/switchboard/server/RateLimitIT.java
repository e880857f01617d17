package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static io.switchboard.server.testing.RateLimits.assertTheLimitersRulesUpToTheClose;
import static io.switchboard.server.testing.RateLimits.exchangeUntilClosed;
import static io.switchboard.server.testing.Requests.metric;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-connection rate limits on a real server, checked against the limiter's rules without
 * assuming how fast the messages go ({@link io.switchboard.server.testing.RateLimits}): a client
 * sends one message at a time, each once the previous one is answered, until it is closed.
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
            int refused = assertTheLimitersRulesUpToTheClose(RATE, replies.stream().map(LIMITED::equals).toList(),
                    elapsed);
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
            int refused = assertTheLimitersRulesUpToTheClose(RATE, limiter, elapsed);
            assertEquals(refused, metric(server, "switchboard_errors_total{code=\"rate_limited\"}"), "the refusals counted");
            assertEquals(1.0, metric(server, "switchboard_closes_total{reason=\"subscribe_rate_limit\"}"),
                    "the close counted");
            assertEquals(0.0, metric(server, "switchboard_closes_total{reason=\"rate_limit\"}"), "not the message rate");
        }
    }
}
