package io.switchboard.benchmarks.loadgen;

import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.SwitchboardServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A few seconds of loadgen in each dialect against a real node: the tool works, the node loses
 * nothing, and bad input ends with a message and the right exit code. Nothing here depends on
 * timing: only counts of missing and duplicate deliveries, exit codes and messages are checked.
 */
@Timeout(60)
class LoadGenIT {

    private static SwitchboardServer server;
    private static String base;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        server = SwitchboardServer.create(SwitchboardConfig.builder().host("127.0.0.1").port(0).build());
        server.start().join();
        base = "ws://127.0.0.1:" + server.localAddress().getPort();
    }

    @AfterAll
    static void stop() {
        server.stop().join();
    }

    @Test
    void minichatsDeliversEveryPublishAtAFixedRate() {
        Map<String, Object> r = runOk("--url", base + "/api/connect", "--subscribers", "40", "--channels", "4",
                "--publishers", "2", "--rate", "400", "--duration", "2", "--warmup", "1", "--channel-prefix", "fixed");
        assertEquals(40L, r.get("subscribers"));
        assertEquals("minichats", r.get("protocol"));
        assertDeliveredAll(r);
        assertTrue(Json.number(r.get("publishes_per_s")) > 0, "publishes/s");
    }

    @Test
    void minichatsDeliversEveryPublishAtMaxRate() {
        Map<String, Object> r = runOk("--url", base + "/api/connect", "--subscribers", "20", "--publishers", "1",
                "--window", "8", "--duration", "1", "--warmup", "1", "--size", "256", "--channel-prefix", "max");
        assertDeliveredAll(r);
    }

    @Test
    void disposableRoomsDeliverEveryChat() {
        // A room per publisher: --publishers follows --channels.
        Map<String, Object> r = runOk("--protocol", "disposable", "--url", base + "/ws", "--subscribers", "12",
                "--channels", "3", "--rate", "150", "--duration", "2", "--warmup", "1", "--size", "100",
                "--channel-prefix", "rooms");
        assertEquals(3L, r.get("publishers"));
        assertDeliveredAll(r);
    }

    @Test
    void chatroomTopicUpdatesReachEverySubscriber() {
        Map<String, Object> r = runOk("--protocol", "chatroom", "--url", base + "/chatroom", "--subscribers", "12",
                "--channels", "2", "--publishers", "2", "--rate", "100", "--duration", "2", "--warmup", "1",
                "--channel-prefix", "topics");
        assertDeliveredAll(r);
    }

    @Test
    void chatroomAtMaxRateTakesItsOwnUpdatesAsAnswers() {
        Map<String, Object> r = runOk("--protocol", "chatroom", "--url", base + "/chatroom", "--subscribers", "5",
                "--window", "4", "--duration", "1", "--warmup", "0", "--channel-prefix", "topics-max");
        assertDeliveredAll(r);
    }

    @Test
    void scenarioStagesRampConnectionsAndNothingIsMissed() throws IOException {
        Path scenario = dir.resolve("ramp.json");
        Files.writeString(scenario, "{\"protocol\":\"minichats\",\"url\":\"" + base + "/api/connect\","
                + "\"subscribers\":0,\"channels\":2,\"publishers\":1,\"rate\":100,\"channel_prefix\":\"ramp\","
                + "\"threshold\":[\"missing=0\",\"duplicates=0\"],\"stages\":["
                + "{\"name\":\"ramp\",\"duration\":\"2s\",\"subscribers\":10,\"measure\":false},"
                + "{\"name\":\"steady\",\"duration\":2},"
                + "{\"name\":\"spike\",\"duration\":1,\"rate\":300},"
                + "{\"name\":\"down\",\"duration\":1,\"rate\":100,\"subscribers\":4}]}");
        Map<String, Object> r = runOk("--scenario", scenario.toString());
        assertDeliveredAll(r);
        Map<?, ?> series = (Map<?, ?>) r.get("series");
        assertEquals(List.of("ramp", "ramp", "steady", "steady", "spike", "down"), series.get("stage"));
        assertEquals(List.of(false, false, true, true, true, true), series.get("measured"));
        assertEquals(4L, r.get("duration_s"));
        // After the ramp every subscriber and the publisher are connected.
        assertEquals(11L, ((List<?>) series.get("connections")).get(3));
    }

    @Test
    void thresholdsThatHoldPassAndOneCrossedFailsTheRun() {
        String[] common = {"--url", base + "/api/connect", "--subscribers", "4", "--rate", "50", "--duration", "1",
                "--warmup", "0", "--channel-prefix", "thresholds"};
        Run pass = run(concat(common, "--threshold", "missing=0,duplicates=0,errors=0,deliveries_per_s>0,p99<60s"));
        assertEquals(0, pass.exit, pass.all());
        Run fail = run(concat(common, "--threshold", "missing=0,deliveries_per_s>1000000000,p50<0us"));
        assertEquals(1, fail.exit, fail.all());
        assertTrue(fail.err.contains("loadgen: threshold crossed: deliveries_per_s>1000000000 (deliveries_per_s was "),
                fail.err);
        assertTrue(fail.err.contains("loadgen: threshold crossed: p50<0us (p50 was "), fail.err);
        assertFalse(fail.err.contains("threshold crossed: missing=0"), fail.err);
        List<?> verdicts = (List<?>) fail.result().get("thresholds");
        assertEquals(3, verdicts.size());
        assertEquals(true, ((Map<?, ?>) verdicts.get(0)).get("passed"));
        assertEquals(false, ((Map<?, ?>) verdicts.get(1)).get("passed"));
        assertEquals(false, fail.result().get("passed"));
    }

    @Test
    void theBundledScenarioFilesAreValid() throws IOException {
        try (var files = Files.list(Path.of("scenarios"))) {
            List<Path> all = files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
            assertEquals(5, all.size(), all.toString());
            for (Path p : all) {
                Options o = Options.parse(new String[] {"--scenario", p.toString()});
                assertFalse(o.stages.isEmpty(), p.toString());
                assertFalse(o.thresholds.isEmpty(), p.toString());
            }
        }
    }

    @Test
    void usageErrorsExitWith2AndAMessage() throws IOException {
        assertUsage("--publishers 3 is more than --channels 2", "--publishers", "3", "--channels", "2");
        assertUsage("unknown option '--bogus'", "--bogus", "1");
        assertUsage("--threshold 'p99<<5ms': expected METRIC OP VALUE", "--threshold", "p99<<5ms");
        assertUsage("--threshold 'latency<5ms': unknown metric 'latency'", "--threshold", "latency<5ms");
        assertUsage("--protocol mqtt: expected one of minichats, disposable, chatroom, nats", "--protocol", "mqtt");
        assertUsage("--url http://x/: expected ws://host[:port]/path", "--url", "http://x/");
        assertUsage("--size 400: disposable carries at most 302 bytes", "--protocol", "disposable", "--size", "400");
        assertUsage("--publishers 1 with --channels 2: a disposable connection is in one room", "--protocol", "disposable", "--channels", "2",
                "--publishers", "1");
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"subscribers\": 10, \"stages\": [{\"name\": \"x\"}]}");
        assertUsage("--scenario " + bad + ": stage 'x': needs a \"duration\"", "--scenario", bad.toString());
        Files.writeString(bad, "{\"subscribers\": ");
        assertUsage("--scenario " + bad + ": ", "--scenario", bad.toString());
        assertUsage("--scenario nope.json: no such file", "--scenario", "nope.json");
        assertUsage("--url http://b/: expected ws://host[:port]/path", "--url", "ws://a/,http://b/");
        assertUsage("--drop-every: recovery after a reconnect is a minichats extension, not nats's", "--protocol",
                "nats", "--drop-every", "1s");
        assertUsage("--recover with --role subscribers: the reconnect check needs the publishers in the same process",
                "--recover", "--role", "subscribers");
        assertUsage("--drop-all-every soon: expected a duration such as 500ms, 2s or 1m", "--drop-all-every", "soon");
        assertUsage("--reconnect-to sideways: expected same, next or random", "--reconnect-to", "sideways");
    }

    @Test
    void recoverAgainstANodeWithoutHistoryStopsSayingSo() {
        Run r = run("--url", base + "/api/connect", "--recover", "--subscribers", "2", "--duration", "1", "--warmup",
                "0", "--channel-prefix", "no-history");
        assertEquals(1, r.exit, r.all());
        assertTrue(r.err.contains("HISTORY_SIZE > 0"), r.err);
        assertFalse(r.err.contains("\tat "), r.err);
    }

    @Test
    void aServerThatIsNotThereOrRefusesFailsTheRunWith1() throws IOException {
        int closed;
        try (ServerSocket s = new ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        Run absent = run("--url", "ws://127.0.0.1:" + closed + "/api/connect", "--subscribers", "2", "--duration", "1",
                "--warmup", "0");
        assertEquals(1, absent.exit, absent.all());
        assertTrue(absent.err.contains("loadgen: cannot connect to 127.0.0.1:" + closed), absent.err);
        assertFalse(absent.err.contains("\tat "), absent.err);

        Run refused = run("--url", base + "/nowhere", "--subscribers", "2", "--duration", "1", "--warmup", "0");
        assertEquals(1, refused.exit, refused.all());
        assertTrue(refused.err.contains("upgrade refused: HTTP/1.1 404"), refused.err);
        assertFalse(refused.err.contains("\tat "), refused.err);
    }

    private static void assertUsage(String message, String... args) {
        Run r = run(args);
        assertEquals(2, r.exit, r.all());
        assertTrue(r.err.contains("loadgen: " + message), r.err);
        assertFalse(r.err.contains("\tat "), r.err);
    }

    static void assertDeliveredAll(Map<String, Object> r) {
        Map<?, ?> latency = (Map<?, ?>) r.get("latency_us");
        assertTrue(Json.number(latency.get("count")) > 0, "deliveries: " + r);
        assertEquals(0L, r.get("errors"), "errors");
        assertEquals(0L, r.get("missing"), "missing");
        assertEquals(0L, r.get("duplicates"), "duplicates");
        assertEquals(true, r.get("passed"));
    }

    static Map<String, Object> runOk(String... args) {
        Run r = run(args);
        assertEquals(0, r.exit, r.all());
        return r.result();
    }

    static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        List<String> all = new ArrayList<>(Arrays.asList(args));
        all.add("--json");
        int exit = LoadGen.run(all.toArray(new String[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static String[] concat(String[] a, String... b) {
        String[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** A finished run: its exit code and what it printed. */
    static final class Run {
        final int exit;
        final String out;
        final String err;

        Run(int exit, String out, String err) {
            this.exit = exit;
            this.out = out;
            this.err = err;
        }

        /** The JSON line of --json: the last line of standard output. */
        Map<String, Object> result() {
            String[] lines = out.strip().split("\n");
            String last = lines[lines.length - 1];
            assertTrue(last.startsWith("{"), all());
            Map<String, Object> r = Json.object(Json.parse(last), "result");
            assertNotNull(r.get("series"));
            return r;
        }

        String all() {
            return "exit " + exit + "\n--- out\n" + out + "--- err\n" + err;
        }
    }
}
