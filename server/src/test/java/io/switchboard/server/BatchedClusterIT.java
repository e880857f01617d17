package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.RedisProcess;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;

import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A batched frame of requests in a cluster (issue 17): a subscribe that makes the node a channel's
 * first subscriber waits for Redis before its ok, and the rest of its frame waits with it, served in
 * order after the ok. A real Redis ({@link RedisProcess}) and two nodes.
 */
@Timeout(60)
class BatchedClusterIT {

    private static RedisProcess redis;

    @BeforeAll
    static void startRedis() {
        redis = RedisProcess.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    private static SwitchboardServer node() throws InterruptedException {
        SwitchboardServer node = Requests.startOnLoopback(SwitchboardConfig.builder().redisEndpoint(redis.endpoint())
                .redisKeyPrefix("batched:").clusterNodeTimeout(Duration.ofSeconds(30)));
        long deadline = System.nanoTime() + JdkClient.WAIT.toNanos();
        while (node.switchboard().problem() != null) {
            assertTrue(System.nanoTime() < deadline, "the node joins the cluster");
            Thread.sleep(20);
        }
        return node;
    }

    @Test
    void theRestOfAFrameWaitsForASubscribeThatWaitsForRedis() throws Exception {
        try (SwitchboardServer a = node(); SwitchboardServer b = node();
             JdkClient other = JdkClient.connectAs(b.localAddress(), "other");
             BatchedFramesIT.Batched batched = new BatchedFramesIT.Batched(a.localAddress(), "batched")) {
            assertTrue(other.request(subscribe("fresh")).startsWith("{\"status\":\"ok\""));
            batched.client.send("{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"fresh\"},\"request_id\":\"s\"}\n"
                    + "{\"action\":\"publish\",\"params\":{\"channel_name\":\"fresh\",\"content\":1},\"request_id\":\"p\"}\n"
                    + "{\"action\":\"list\",\"request_id\":\"l\"}");
            String ok = batched.next();
            assertTrue(ok.contains("\"request_id\":\"s\"") && ok.contains("\"total_subscribers\":2"), ok);
            assertEquals("{\"status\":\"ok\",\"request_id\":\"p\"}", batched.next());
            assertTrue(batched.next().endsWith("\"content\":1}"), "its own copy after its ok");
            String list = batched.next();
            assertTrue(list.contains("\"request_id\":\"l\"") && list.contains("[\"fresh\"]"), list);
            assertTrue(other.next().endsWith("\"content\":1}"), "the other node's subscriber gets it");
        }
    }
}
