package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static io.switchboard.server.testing.Requests.metric;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The per-connection message rate limit on a real server. */
@Timeout(30)
class RateLimitIT {

    @Test
    void answersRateLimitedThenClosesWith1008OnPersistentFlooding() {
        // 3 messages a second: a burst of 3 passes; the next ones (sent back to back, far faster
        // than one per 333 ms) are refused, and three refusals in a row close the connection.
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder().maxMessagesPerSecond(3))) {
            try (JdkClient c = JdkClient.connectAs(server.localAddress(), "flood")) {
                for (int i = 0; i < 6; i++) {
                    c.send("{\"action\":\"list\"}");
                }
                for (int i = 0; i < 3; i++) {
                    assertEquals("{\"status\":\"ok\",\"info\":{\"channels\":[]}}", c.next());
                }
                String limited = "{\"status\":\"error\",\"info\":{\"detail\":\"Too many messages: at most 3 per second\","
                        + "\"code\":\"rate_limited\"}}";
                assertEquals(limited, c.next());
                assertEquals(limited, c.next());
                assertEquals(1008, c.awaitClose());
                assertEquals("Rate limit exceeded", c.closeReason());
            }
            assertEquals(2.0, metric(server, "switchboard_errors_total{code=\"rate_limited\"}"), "the refusals counted");
            assertEquals(1.0, metric(server, "switchboard_closes_total{reason=\"rate_limit\"}"), "the close counted");
        }
    }

    @Test
    void subscribesHaveARateOfTheirOwn() {
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder().maxSubscribesPerSecond(3))) {
            try (JdkClient c = JdkClient.connectAs(server.localAddress(), "churner")) {
                for (int i = 0; i < 3; i++) {
                    c.send(Requests.subscribe("ch" + i));
                }
                c.send(Requests.subscribe("ch3"));
                c.send("{\"action\":\"list\"}"); // other requests are not subscribes
                for (int i = 0; i < 3; i++) {
                    assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"ch" + i + "\",\"total_subscribers\":1}}",
                            c.next());
                }
                assertEquals("{\"status\":\"error\",\"info\":{\"detail\":\"Too many subscribes and unsubscribes: at most 3 "
                        + "per second\",\"code\":\"rate_limited\"}}", c.next());
                assertEquals(true, c.next().startsWith("{\"status\":\"ok\",\"info\":{\"channels\":"));
                c.send(Requests.unsubscribe("ch0"));
                c.send(Requests.unsubscribe("ch1"));
                assertEquals(true, c.next().contains("\"code\":\"rate_limited\""), "the second refusal");
                assertEquals(1008, c.awaitClose(), "three refused in a row: abuse");
                assertEquals("Subscribe rate limit exceeded", c.closeReason());
            }
            assertEquals(2.0, metric(server, "switchboard_errors_total{code=\"rate_limited\"}"), "the refusals counted");
            assertEquals(1.0, metric(server, "switchboard_closes_total{reason=\"subscribe_rate_limit\"}"),
                    "the close counted");
            assertEquals(0.0, metric(server, "switchboard_closes_total{reason=\"rate_limit\"}"), "not the message rate");
        }
    }
}
