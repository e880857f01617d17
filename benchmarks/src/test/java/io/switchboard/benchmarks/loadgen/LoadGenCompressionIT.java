package io.switchboard.benchmarks.loadgen;

import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.SwitchboardServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --compression} (issue 19): loadgen offers permessage-deflate, inflates the compressed
 * deliveries and counts every one of them; against a node without compression the run fails and
 * says why. Each test has a node of its own.
 */
@Timeout(60)
class LoadGenCompressionIT {

    private SwitchboardServer server;

    @AfterEach
    void stop() {
        server.stop().join();
    }

    private String start(boolean compression) {
        server = SwitchboardServer.create(SwitchboardConfig.builder().host("127.0.0.1").port(0)
                .compression(compression).build());
        server.start().join();
        return "ws://127.0.0.1:" + server.localAddress().getPort() + "/api/connect";
    }

    @Test
    void inflatesCompressedDeliveriesAndMissesNone() {
        String url = start(true);
        Map<String, Object> r = LoadGenIT.runOk("--url", url, "--subscribers", "20", "--publishers", "1", "--window", "8",
                "--duration", "1", "--warmup", "1", "--size", "1024", "--compression", "--channel-prefix", "deflate");
        assertEquals(true, r.get("compression"));
        assertEquals(0L, r.get("missing"));
        assertEquals(0L, r.get("errors"));
        assertTrue(Json.number(r.get("deliveries_per_s")) > 0, "deliveries/s");
        // Every delivery came compressed (1,024-byte contents, over COMPRESSION_MIN_BYTES): warm-up included.
        Map<?, ?> latency = (Map<?, ?>) r.get("latency_us");
        assertTrue(Json.number(r.get("compressed_messages")) >= Json.number(latency.get("count")), r.toString());
    }

    @Test
    void failsWhenTheNodeDoesNotAcceptTheOffer() {
        String url = start(false);
        LoadGenIT.Run r = LoadGenIT.run("--url", url, "--subscribers", "2", "--publishers", "1", "--duration", "1",
                "--warmup", "0", "--compression", "--channel-prefix", "plain");
        assertEquals(1, r.exit, r.all());
        assertTrue(r.all().contains("the server did not accept permessage-deflate"), r.all());
    }
}
