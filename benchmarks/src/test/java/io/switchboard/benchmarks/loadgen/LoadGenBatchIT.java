package io.switchboard.benchmarks.loadgen;

import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.SwitchboardServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Map;

import static io.switchboard.benchmarks.loadgen.LoadGenIT.assertDeliveredAll;
import static io.switchboard.benchmarks.loadgen.LoadGenIT.run;
import static io.switchboard.benchmarks.loadgen.LoadGenIT.runOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * loadgen's {@code --batch} (minichats batched frames, issue 17) and fan-in (more publishers than
 * channels) against a real node on loopback: every publish counted exactly once, per publisher.
 */
@Timeout(120)
class LoadGenBatchIT {

    private static SwitchboardServer server;
    private static String url;

    @BeforeAll
    static void start() {
        server = SwitchboardServer.create(SwitchboardConfig.builder().host("127.0.0.1").port(0)
                .maxMessagesPerSecond(0).build());
        server.start().join();
        url = "ws://127.0.0.1:" + server.localAddress().getPort() + "/api/connect";
    }

    @AfterAll
    static void stop() {
        server.stop().join();
    }

    @Test
    void batchedSubscribersGetEveryPublishAtMaxRate() {
        Map<String, Object> r = runOk("--url", url, "--batch", "--subscribers", "20", "--publishers", "1",
                "--window", "32", "--duration", "1", "--warmup", "1", "--channel-prefix", "batch-max");
        assertEquals(true, r.get("batch"));
        assertDeliveredAll(r);
    }

    @Test
    void fanInChecksOrderAndGapsPerPublisher() {
        // Three publishers into each of two channels, at a fixed rate, then at max rate batched.
        Map<String, Object> r = runOk("--url", url, "--subscribers", "10", "--channels", "2", "--publishers", "6",
                "--rate", "300", "--duration", "2", "--warmup", "1", "--channel-prefix", "fan-in");
        assertEquals(6L, r.get("publishers"));
        assertDeliveredAll(r);
        r = runOk("--url", url, "--batch", "--subscribers", "10", "--channels", "1", "--publishers", "5",
                "--window", "8", "--duration", "1", "--warmup", "1", "--channel-prefix", "fan-in-max");
        assertDeliveredAll(r);
    }

    @Test
    void refusesBatchForAnotherProtocolAndPublishersThatDoNotDivide() {
        LoadGenIT.Run r = run("--protocol", "nats", "--batch");
        assertEquals(2, r.exit, r.all());
        assertTrue(r.err.contains("loadgen: --batch: batched frames are a minichats extension"), r.err);
        r = run("--publishers", "3", "--channels", "2");
        assertEquals(2, r.exit, r.all());
        assertTrue(r.err.contains("not a multiple of it"), r.err);
    }
}
