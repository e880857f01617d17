package io.switchboard.benchmarks.loadgen;

import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.SwitchboardServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The report as a browser shows it: a real run's report opened in headless Chromium
 * ({@code --dump-dom}, the DOM after parsing and layout) has its six charts, a line per series, and
 * the summary's numbers equal to the run's JSON. Skipped, with the reason printed, when
 * /usr/bin/chromium is not installed (.ci/run installs it).
 */
@Timeout(120)
class LoadGenChromiumIT {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Pattern CHART = Pattern.compile("<svg id=\"chart-([a-z]+)\"[^>]*>");
    private static final Pattern CELL = Pattern.compile(
            "<td data-run=\"0\" data-key=\"([a-z_.0-9]+)\" data-value=\"([^\"]*)\">([^<]*)</td>");

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
    void theReportRendersInChromiumWithItsChartsAndTheJsonsNumbers() throws Exception {
        if (!Files.isExecutable(CHROMIUM)) {
            System.out.println("LoadGenChromiumIT skipped: " + CHROMIUM + " is not installed (apt-get install chromium)");
            Assumptions.abort(CHROMIUM + " is not installed");
        }
        Path json = dir.resolve("run.json");
        Path html = dir.resolve("run.html");
        LoadGenIT.Run run = LoadGenIT.run("--url", "ws://127.0.0.1:" + server.localAddress().getPort() + "/api/connect",
                "--subscribers", "6", "--channels", "2", "--publishers", "2", "--rate", "60", "--duration", "2",
                "--warmup", "0", "--channel-prefix", "chromium", "--server-pid", Long.toString(ProcessHandle.current().pid()),
                "--out", json.toString(), "--report", html.toString());
        assertEquals(0, run.exit, run.all());
        Map<String, Object> result = HtmlReport.read(json);

        String dom = dumpDom(html);
        assertTrue(dom.contains("<h1>loadgen report</h1>"), "rendered: " + dom.substring(0, Math.min(500, dom.length())));
        List<String> charts = new ArrayList<>();
        Matcher c = CHART.matcher(dom);
        while (c.find()) {
            charts.add(c.group(1));
        }
        assertEquals(List.of("throughput", "latency", "distribution", "connections", "errors", "cpu"), charts);
        for (String series : List.of("deliveries_per_s", "publishes_per_s", "p50_us", "p99_us", "distribution",
                "connections", "errors", "cpu", "server_cpu")) {
            assertTrue(dom.contains("data-series=\"" + series + "\""), "a line of " + series);
        }
        assertTrue(dom.contains("<polyline"), "lines drawn");

        Matcher m = CELL.matcher(dom);
        int cells = 0;
        while (m.find()) {
            cells++;
            Object expected = HtmlReport.path(result, m.group(1));
            assertEquals(expected == null ? "" : String.valueOf(expected), m.group(2), m.group(1));
            boolean count = !m.group(1).startsWith("latency_us.") && !m.group(1).contains("cpu")
                    || m.group(1).equals("latency_us.count");
            if (expected != null && count) {
                // The text shown is the JSON's number.
                assertEquals(String.format(Locale.ROOT, "%,.0f", Json.number(expected)), m.group(3), m.group(1));
            }
        }
        assertEquals(22, cells, "every figure of the summary");
        Map<?, ?> latency = (Map<?, ?>) result.get("latency_us");
        assertTrue(dom.contains("data-key=\"latency_us.p99\" data-value=\"" + latency.get("p99") + "\">"
                + HtmlReport.esc(LoadGen.formatMicros(((Number) latency.get("p99")).longValue())) + "</td>"), "p99 shown");
    }

    /** The DOM of {@code page} as headless Chromium renders it. */
    private String dumpDom(Path page) throws Exception {
        Path profile = Files.createDirectories(dir.resolve("chromium-profile"));
        Path out = dir.resolve("dom.html");
        Path log = dir.resolve("chromium.log");
        Process p = new ProcessBuilder(CHROMIUM.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--user-data-dir=" + profile, "--dump-dom", page.toUri().toString())
                .redirectOutput(out.toFile()).redirectError(log.toFile()).start();
        try {
            boolean done = p.waitFor(90, TimeUnit.SECONDS);
            assertTrue(done, "chromium did not finish: " + Files.readString(log));
            assertEquals(0, p.exitValue(), Files.readString(log));
        } finally {
            p.destroyForcibly();
        }
        return Files.readString(out, StandardCharsets.UTF_8);
    }
}
