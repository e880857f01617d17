package io.switchboard.benchmarks.loadgen;

import io.switchboard.benchmarks.broadcast.BareWebSocketServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Map;

import static io.switchboard.benchmarks.loadgen.LoadGenIT.assertDeliveredAll;
import static io.switchboard.benchmarks.loadgen.LoadGenIT.runOk;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The end-to-end floor (BareWebSocketServer, batch-suite.sh's {@code floor} mode) speaks enough
 * minichats for loadgen: a fan-out at max rate and a fan-in, with two event loops so a publish
 * crosses loops, every delivery counted exactly once.
 */
@Timeout(120)
class LoadGenFloorIT {

    @Test
    void loadgenCountsEveryDeliveryOfTheFloor() throws InterruptedException {
        try (BareWebSocketServer floor = new BareWebSocketServer(0, 2)) {
            String url = "ws://127.0.0.1:" + floor.port() + "/api/connect";
            Map<String, Object> r = runOk("--url", url, "--subscribers", "50", "--publishers", "1", "--window", "32",
                    "--duration", "1", "--warmup", "1", "--channel-prefix", "floor-out");
            assertDeliveredAll(r);
            r = runOk("--url", url, "--subscribers", "10", "--channels", "1", "--publishers", "5", "--window", "8",
                    "--duration", "1", "--warmup", "1", "--channel-prefix", "floor-in");
            assertEquals(5L, r.get("publishers"));
            assertDeliveredAll(r);
        }
    }
}
