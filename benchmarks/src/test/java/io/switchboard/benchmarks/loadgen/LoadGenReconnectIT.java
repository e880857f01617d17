package io.switchboard.benchmarks.loadgen;

import io.switchboard.server.SwitchboardServer;
import io.switchboard.server.internal.Settings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.switchboard.benchmarks.loadgen.LoadGenIT.runOk;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reconnect storms (issue 18) against real nodes with channel history: subscribers drop their
 * connections at random or all at once and recover, and loadgen's checker finds every publisher's
 * messages once and in order across the reconnects; a history too short to recover from gives
 * {@code recovered:false}, whose losses are counted and allowed. The nodes are configured by the
 * settings' names (HISTORY_SIZE), as an operator does. Nothing here depends on timing: only counts,
 * and relations between counts, are checked.
 */
@Timeout(120)
class LoadGenReconnectIT {

    private static SwitchboardServer node;
    private static SwitchboardServer shortHistory;
    private static String url;
    private static String shortHistoryUrl;

    @TempDir
    static Path data;

    @BeforeAll
    static void start() {
        node = start("100000", data.resolve("node"));
        url = "ws://127.0.0.1:" + node.localAddress().getPort() + "/api/connect";
        shortHistory = start("1", data.resolve("short"));
        shortHistoryUrl = "ws://127.0.0.1:" + shortHistory.localAddress().getPort() + "/api/connect";
    }

    private static SwitchboardServer start(String historySize, Path dataDir) {
        SwitchboardServer s = SwitchboardServer.create(Settings.load(Map.of(), new String[] {"--app-host", "127.0.0.1",
            "--app-port", "0", "--line-port", "0", "--data-dir", dataDir.toString(), "--max-message-rate", "0",
            "--history-size", historySize}));
        s.start().join();
        return s;
    }

    @AfterAll
    static void stop() {
        for (SwitchboardServer s : new SwitchboardServer[] {node, shortHistory}) {
            if (s != null) {
                s.stop().join();
            }
        }
    }

    @Test
    void subscribersDroppingAtRandomRecoverEveryMessageOnceAndInOrder() {
        // Two URLs of one node: reconnects go to either at random.
        Map<String, Object> r = runOk("--url", url + "," + url, "--reconnect-to", "random", "--subscribers", "30",
                "--channels", "3", "--publishers", "3", "--rate", "600", "--duration", "3", "--warmup", "1",
                "--drop-every", "300ms", "--channel-prefix", "storm-random");
        Map<?, ?> rc = reconnect(r);
        assertEquals(List.of(url, url), rc.get("urls"));
        assertEquals("random", rc.get("reconnect_to"));
        assertEquals(300L, rc.get("drop_every_ms"));
        assertTrue((long) rc.get("drops") > 0, "drops: " + rc);
        assertRecoveredEveryDrop(r);
    }

    @Test
    void allSubscribersDroppingAtOnceRecoverWithFanInAndBatchedFrames() {
        Map<String, Object> r = runOk("--url", url, "--subscribers", "40", "--channels", "2", "--publishers", "4",
                "--rate", "800", "--duration", "3", "--warmup", "0", "--drop-all-every", "1s", "--batch",
                "--channel-prefix", "storm-all", "--threshold",
                "gaps=0,duplicates=0,out_of_order=0,unrecovered=0,recovery_max<60s");
        Map<?, ?> rc = reconnect(r);
        assertEquals(1000L, rc.get("drop_all_every_ms"));
        // The first storm finds all 40 subscribed: nothing dropped them before.
        assertTrue((long) rc.get("drops") >= 40, "drops: " + rc);
        assertRecoveredEveryDrop(r);
        for (Object v : (List<?>) r.get("thresholds")) {
            assertEquals(true, ((Map<?, ?>) v).get("passed"), v.toString());
        }
        Map<?, ?> series = (Map<?, ?>) r.get("series");
        long drops = 0;
        for (Object d : (List<?>) series.get("drops")) {
            drops += (long) d;
        }
        assertEquals(rc.get("drops"), drops, "the per-second drops add up");
    }

    @Test
    void aHistoryTooShortToRecoverFromCountsTheLossAsLostNotAsAGap() {
        // One message kept: a reconnect that missed two or more is answered recovered:false.
        Map<String, Object> r = runOk("--url", shortHistoryUrl, "--subscribers", "20", "--channels", "1",
                "--publishers", "1", "--rate", "1000", "--duration", "3", "--warmup", "0", "--drop-every", "200ms",
                "--channel-prefix", "storm-short");
        Map<?, ?> rc = reconnect(r);
        long drops = (long) rc.get("drops");
        assertTrue(drops > 0, "drops: " + rc);
        assertEquals(drops + (long) rc.get("closed_by_server"), (long) rc.get("recovered") + (long) rc.get("unrecovered"),
                "each lost connection recovered once, true or false: " + rc);
        assertEquals(0L, rc.get("not_reconnected"));
        assertEquals(0L, rc.get("gaps"));
        assertEquals(0L, rc.get("duplicates"));
        assertEquals(0L, rc.get("out_of_order"));
        assertEquals(0L, r.get("missing"));
        // A recovered:false means the message after the last one received was no longer kept, so
        // at least one of loadgen's was lost.
        assertEquals((long) rc.get("unrecovered") > 0, (long) rc.get("lost") > 0, rc.toString());
        assertEquals(true, r.get("passed"));
    }

    private static Map<?, ?> reconnect(Map<String, Object> r) {
        Object rc = r.get("reconnect");
        assertTrue(rc instanceof Map, "a reconnect section: " + r);
        return (Map<?, ?>) rc;
    }

    /** Every drop recovered (same node, long history): no gap, duplicate, loss or disorder. */
    private static void assertRecoveredEveryDrop(Map<String, Object> r) {
        LoadGenIT.assertDeliveredAll(r);
        Map<?, ?> rc = reconnect(r);
        assertEquals(0L, rc.get("closed_by_server"), rc.toString());
        assertEquals(0L, rc.get("not_reconnected"), rc.toString());
        assertEquals(rc.get("drops"), rc.get("recovered"), rc.toString());
        assertEquals(0L, rc.get("unrecovered"), rc.toString());
        assertEquals(0L, rc.get("lost"), rc.toString());
        assertEquals(0L, rc.get("gaps"), rc.toString());
        assertEquals(0L, rc.get("missing_while_connected"), rc.toString());
        assertEquals(0L, rc.get("duplicates"), rc.toString());
        assertEquals(0L, rc.get("out_of_order"), rc.toString());
        assertEquals(rc.get("recovered"), ((Map<?, ?>) rc.get("recovery_us")).get("count"), rc.toString());
    }
}
