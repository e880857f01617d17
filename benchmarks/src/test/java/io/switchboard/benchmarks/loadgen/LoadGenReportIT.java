package io.switchboard.benchmarks.loadgen;

import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.SwitchboardServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTML report of a real run, read back: its figures are the JSON's, its charts are all there
 * with as many points as the JSON's series, it loads nothing from anywhere, and {@code loadgen
 * report} puts two runs side by side.
 */
@Timeout(60)
class LoadGenReportIT {

    private static final Pattern CELL = Pattern.compile(
            "<td data-run=\"(\\d+)\" data-key=\"([a-z_.0-9]+)\" data-value=\"([^\"]*)\">");
    private static final Pattern LINE = Pattern.compile(
            "<g data-run=\"(\\d+)\" data-series=\"([a-z_0-9]+)\" data-points=\"(\\d+)\">");
    private static final Pattern CHART = Pattern.compile("<svg id=\"chart-([a-z]+)\"");

    private static SwitchboardServer server;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        server = SwitchboardServer.create(SwitchboardConfig.builder().host("127.0.0.1").port(0).build());
        server.start().join();
    }

    @AfterAll
    static void stop() {
        server.stop().join();
    }

    @Test
    void theReportShowsTheJsonsNumbersAndAllItsCharts() throws Exception {
        Path json = dir.resolve("run.json");
        Path html = dir.resolve("run.html");
        LoadGenIT.Run run = LoadGenIT.run("--url", "ws://127.0.0.1:" + server.localAddress().getPort() + "/api/connect",
                "--subscribers", "10", "--channels", "2", "--publishers", "2", "--rate", "100", "--duration", "2",
                "--warmup", "1", "--channel-prefix", "report", "--threshold", "missing=0,p99<60s",
                "--out", json.toString(), "--report", html.toString());
        assertEquals(0, run.exit, run.all());
        Map<String, Object> result = HtmlReport.read(json);
        assertEquals(run.result(), result, "--out writes what --json prints");
        String page = Files.readString(html, StandardCharsets.UTF_8);

        assertSelfContained(page);
        assertTrue(page.contains(HtmlReport.esc((String) result.get("command"))), "the exact command");
        assertTrue(((String) result.get("command")).contains("--threshold 'missing=0,p99<60s'"), (String) result.get("command"));
        assertFiguresEqual(page, List.of(result));
        assertEquals(List.of("throughput", "latency", "distribution", "connections", "errors", "cpu"), charts(page));
        assertLinesMatchSeries(page, List.of(result));
        assertTrue(page.contains("<table id=\"thresholds\">"), "thresholds");
    }

    @Test
    void reportPutsRunsSideBySide() throws Exception {
        Path a = dir.resolve("a.json");
        Path b = dir.resolve("b.txt");
        String url = "ws://127.0.0.1:" + server.localAddress().getPort();
        LoadGenIT.Run first = LoadGenIT.run("--url", url + "/api/connect", "--subscribers", "6", "--rate", "50",
                "--duration", "1", "--warmup", "0", "--channel-prefix", "cmp-a", "--out", a.toString());
        assertEquals(0, first.exit, first.all());
        LoadGenIT.Run second = LoadGenIT.run("--protocol", "chatroom", "--url", url + "/chatroom", "--subscribers", "6",
                "--rate", "50", "--duration", "1", "--warmup", "0", "--channel-prefix", "cmp-b");
        assertEquals(0, second.exit, second.all());
        Files.writeString(b, second.out); // saved --json output: its last line is the result

        Path html = dir.resolve("compare.html");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = LoadGen.run(new String[] {"report", a.toString(), b.toString(), "-o", html.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, exit, err.toString(StandardCharsets.UTF_8));
        String page = Files.readString(html, StandardCharsets.UTF_8);
        assertSelfContained(page);
        List<Map<String, Object>> runs = List.of(HtmlReport.read(a), second.result());
        assertFiguresEqual(page, runs);
        assertLinesMatchSeries(page, runs);
        assertTrue(page.contains(">a.json</th>") && page.contains(">b.txt</th>"), "a column per run");
    }

    @Test
    void serverPidSamplesThatProcesssCpuIntoTheSeriesAndTheReport() throws Exception {
        // The node runs in this JVM: its pid is the server's.
        long pid = ProcessHandle.current().pid();
        Path html = dir.resolve("server.html");
        LoadGenIT.Run run = LoadGenIT.run("--url", "ws://127.0.0.1:" + server.localAddress().getPort() + "/api/connect",
                "--subscribers", "4", "--rate", "50", "--duration", "2", "--warmup", "0", "--channel-prefix", "pid",
                "--server-pid", Long.toString(pid), "--report", html.toString());
        assertEquals(0, run.exit, run.all());
        Map<String, Object> r = run.result();
        Map<?, ?> series = (Map<?, ?>) r.get("series");
        List<?> cpu = (List<?>) series.get("server_cpu");
        assertEquals(((List<?>) series.get("t")).size(), cpu.size(), "a value per second");
        for (Object v : cpu) {
            assertTrue(v instanceof Number && ((Number) v).doubleValue() >= 0, "non-negative: " + cpu);
        }
        Map<?, ?> summary = (Map<?, ?>) r.get("server_cpu");
        assertEquals(pid, summary.get("pid"));
        assertTrue(Json.number(summary.get("mean")) >= 0, summary.toString());
        String page = Files.readString(html, StandardCharsets.UTF_8);
        assertTrue(page.contains("<g data-run=\"0\" data-series=\"server_cpu\""), "the server's line in the CPU chart");
        assertFiguresEqual(page, List.of(r));
        assertLinesMatchSeries(page, List.of(r));
    }

    @Test
    void serverPidOfNoProcessIsAUsageError() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = LoadGen.run(new String[] {"--server-pid", "2147483647", "--duration", "1"}, System.out,
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, exit);
        assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("loadgen: --server-pid 2147483647: no such process"),
                err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void reportRefusesWhatIsNotAResult() throws Exception {
        Path junk = dir.resolve("junk.json");
        Files.writeString(junk, "{\"hello\": 1}");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8);
        assertEquals(2, LoadGen.run(new String[] {"report", junk.toString()}, System.out, e));
        assertEquals(1, LoadGen.run(new String[] {"report", junk.toString(), "-o", dir.resolve("x.html").toString()},
                System.out, e));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains(
                "loadgen report: " + junk + ": not a loadgen result (no series or latency_us)"), err.toString());
    }

    private static void assertSelfContained(String page) {
        assertFalse(page.contains("<script"), "no script");
        assertFalse(page.contains("src="), "nothing loaded");
        assertFalse(page.contains("href="), "no links");
        assertFalse(page.contains("@import") || page.contains("url("), "no fetched styles");
    }

    private static void assertFiguresEqual(String page, List<Map<String, Object>> runs) {
        Matcher m = CELL.matcher(page);
        int cells = 0;
        while (m.find()) {
            cells++;
            Object expected = HtmlReport.path(runs.get(Integer.parseInt(m.group(1))), m.group(2));
            assertEquals(expected == null ? "" : String.valueOf(expected), m.group(3), m.group(2));
        }
        assertEquals(22 * runs.size(), cells, "every figure of every run");
        for (Map<String, Object> r : runs) {
            Map<?, ?> latency = (Map<?, ?>) r.get("latency_us");
            assertTrue(Json.number(latency.get("count")) > 0);
        }
    }

    private static void assertLinesMatchSeries(String page, List<Map<String, Object>> runs) {
        Matcher m = LINE.matcher(page);
        Map<String, Integer> seen = new HashMap<>();
        while (m.find()) {
            Map<?, ?> run = runs.get(Integer.parseInt(m.group(1)));
            String key = m.group(2);
            List<?> values = key.equals("distribution") ? (List<?>) run.get("distribution")
                    : (List<?>) ((Map<?, ?>) run.get("series")).get(key);
            long nonNull = values.stream().filter(v -> v != null).count();
            assertEquals(nonNull, Long.parseLong(m.group(3)), key);
            assertTrue(nonNull > 0, key + " has points");
            seen.merge(key, 1, Integer::sum);
        }
        assertTrue(seen.keySet().containsAll(List.of("deliveries_per_s", "publishes_per_s", "p50_us", "p99_us",
                "distribution", "connections", "errors", "cpu")), seen.toString());
    }

    private static List<String> charts(String page) {
        Matcher m = CHART.matcher(page);
        List<String> ids = new java.util.ArrayList<>();
        while (m.find()) {
            ids.add(m.group(1));
        }
        return ids;
    }
}
