package io.switchboard.benchmarks.loadgen;

import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.SwitchboardServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code loadgen merge}: the results of a test split over processes with {@code --role} add up to
 * one result, exactly, and {@code loadgen report} draws it. The fixtures in
 * src/test/resources/loadgen/ were written by a real split run (6 subscribers over 2 channels in
 * one process, 2 publishers at 100 publishes/s in another) against a node.
 */
@Timeout(60)
class LoadGenMergeIT {

    @TempDir
    Path dir;

    @Test
    void theFixturesMergeIntoExactSums() throws Exception {
        Path sub = fixture("merge-subscribers.json");
        Path pub = fixture("merge-publishers.json");
        Path merged = dir.resolve("merged.json");
        Cli c = cli("merge", sub.toString(), pub.toString(), "-o", merged.toString());
        assertEquals(0, c.exit, c.err);
        Map<String, Object> m = HtmlReport.read(merged);
        Map<String, Object> s = HtmlReport.read(sub);
        Map<String, Object> p = HtmlReport.read(pub);

        assertEquals("merged", m.get("role"));
        assertEquals(6L, m.get("subscribers"));
        assertEquals(2L, m.get("publishers"));
        assertEquals(2L, m.get("channels"));
        assertEquals(List.of(s.get("command"), p.get("command")), m.get("commands"));
        assertEquals(s.get("command") + "\n" + p.get("command"), m.get("command"));
        // What the fixtures hold: 201 publishes (101 to channel 0, 100 to channel 1), 3 subscribers on
        // each channel, every one delivered once: 603 deliveries, nothing missing or twice.
        assertEquals(List.of(FIXTURE_PUBLISHED_0, FIXTURE_PUBLISHED_1), perChannel(m, "published"));
        assertEquals(List.of(3L, 3L), perChannel(m, "subscribers"));
        long deliveries = 3 * (FIXTURE_PUBLISHED_0 + FIXTURE_PUBLISHED_1);
        assertEquals(603L, deliveries);
        assertEquals(deliveries, ((Map<?, ?>) m.get("latency_us")).get("count"));
        assertEquals(0L, m.get("missing"));
        assertEquals(0L, m.get("duplicates"));
        assertEquals(0L, m.get("errors"));
        assertEquals(true, m.get("passed"));
        // Series added second by second: as many deliveries and publishes in all as in the runs.
        assertEquals(sum(s, "deliveries_per_s") + sum(p, "deliveries_per_s"), sum(m, "deliveries_per_s"));
        assertEquals(sum(s, "publishes_per_s") + sum(p, "publishes_per_s"), sum(m, "publishes_per_s"));
        assertEquals(sum(s, "connections") + sum(p, "connections"), sum(m, "connections"));
        assertEquals(Json.number(s.get("deliveries_per_s")) + Json.number(p.get("deliveries_per_s")),
                Json.number(m.get("deliveries_per_s")), 0.001);
        // The latency percentiles are the added histograms'.
        assertEquals(((Map<?, ?>) s.get("latency_us")).get("p99"), ((Map<?, ?>) m.get("latency_us")).get("p99"),
                "the publisher received nothing: the subscribers' histogram is the whole");

        Path html = dir.resolve("merged.html");
        Cli r = cli("report", merged.toString(), "-o", html.toString());
        assertEquals(0, r.exit, r.err);
        String page = Files.readString(html, StandardCharsets.UTF_8);
        assertTrue(page.contains("data-key=\"missing\" data-value=\"0\""), "missing in the report");
        assertTrue(page.contains("data-key=\"latency_us.count\" data-value=\"" + deliveries + "\""), "count in the report");
        assertTrue(page.contains(HtmlReport.esc(String.valueOf(s.get("command"))))
                && page.contains(HtmlReport.esc(String.valueOf(p.get("command")))), "both commands");
    }

    @Test
    void mergedMissingAndDuplicatesAreExact() throws Exception {
        Map<String, Object> s = HtmlReport.read(fixture("merge-subscribers.json"));
        Map<String, Object> p = HtmlReport.read(fixture("merge-publishers.json"));
        // Take 5 in-order deliveries from channel 0's subscribers and say 2 came twice.
        @SuppressWarnings("unchecked")
        List<Object> received = (List<Object>) ((Map<String, Object>) s.get("per_channel")).get("received");
        received.set(0, ((Number) received.get(0)).longValue() - 5);
        s.put("duplicates", 2L);
        Path sub = dir.resolve("sub.json");
        Files.writeString(sub, Json.write(s));
        Path pub = dir.resolve("pub.json");
        Files.writeString(pub, Json.write(p));
        Path merged = dir.resolve("merged.json");
        Cli c = cli("merge", sub.toString(), pub.toString(), "-o", merged.toString());
        assertEquals(1, c.exit, "a merged run with loss fails");
        assertTrue(c.err.contains("loadgen merge: the merged run failed"), c.err);
        Map<String, Object> m = HtmlReport.read(merged);
        assertEquals(5L, m.get("missing"));
        assertEquals(2L, m.get("duplicates"));
        assertEquals(false, m.get("passed"));
    }

    @Test
    void mergeRefusesRunsThatAreNotOneSplitTest() throws Exception {
        Path sub = fixture("merge-subscribers.json");
        Path out = dir.resolve("x.json");
        Cli none = cli("merge", sub.toString(), sub.toString(), "-o", out.toString());
        assertEquals(1, none.exit);
        assertTrue(none.err.contains("no run publishes"), none.err);
        Path pub = fixture("merge-publishers.json");
        Cli two = cli("merge", pub.toString(), pub.toString(), "-o", out.toString());
        assertEquals(1, two.exit);
        assertTrue(two.err.contains("more than one run publishes"), two.err);
        Cli usage = cli("merge", sub.toString());
        assertEquals(2, usage.exit);
        assertTrue(usage.err.startsWith("Usage: loadgen merge"), usage.err);
    }

    /** A real split run, as a user would do it: subscribers first, then the publisher, merged. */
    @Test
    void aSplitRunMergesWithNothingMissing() throws Exception {
        SwitchboardServer server = SwitchboardServer.create(
                SwitchboardConfig.builder().host("127.0.0.1").port(0).build());
        server.start().join();
        try {
            String url = "ws://127.0.0.1:" + server.localAddress().getPort() + "/api/connect";
            Path sub = dir.resolve("sub.json");
            Path pub = dir.resolve("pub.json");
            ByteArrayOutputStream subErr = new ByteArrayOutputStream();
            PrintStream subErrStream = new PrintStream(subErr, true, StandardCharsets.UTF_8);
            // The subscribers outlive the publisher by seconds, so that they see all it publishes.
            CompletableFuture<Integer> subscribers = CompletableFuture.supplyAsync(() -> LoadGen.run(new String[] {
                "--role", "subscribers", "--url", url, "--subscribers", "6", "--channels", "2", "--publishers", "2",
                "--rate", "100", "--warmup", "0", "--duration", "6", "--channel-prefix", "split",
                "--out", sub.toString()}, new PrintStream(new ByteArrayOutputStream()), subErrStream));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!subErr.toString(StandardCharsets.UTF_8).contains("s steady]") && System.nanoTime() < deadline
                    && !subscribers.isDone()) {
                Thread.sleep(20);
            }
            Cli publishers = cli("--role", "publishers", "--url", url, "--subscribers", "6", "--channels", "2",
                    "--publishers", "2", "--rate", "100", "--warmup", "0", "--duration", "2", "--channel-prefix", "split",
                    "--no-progress", "--out", pub.toString());
            assertEquals(0, publishers.exit, publishers.err);
            assertEquals(0, subscribers.get(40, TimeUnit.SECONDS), subErr.toString(StandardCharsets.UTF_8));

            Path merged = dir.resolve("merged.json");
            Cli c = cli("merge", sub.toString(), pub.toString(), "-o", merged.toString());
            assertEquals(0, c.exit, c.err + c.out);
            Map<String, Object> m = HtmlReport.read(merged);
            List<Long> published = perChannel(m, "published");
            assertTrue(published.get(0) > 0 && published.get(1) > 0, published.toString());
            assertEquals(3 * (published.get(0) + published.get(1)), ((Map<?, ?>) m.get("latency_us")).get("count"));
            assertEquals(0L, m.get("missing"));
            assertEquals(0L, m.get("duplicates"));
        } finally {
            server.stop().join();
        }
    }

    // What the publishing fixture published to channels 0 and 1.
    private static final long FIXTURE_PUBLISHED_0 = 101;
    private static final long FIXTURE_PUBLISHED_1 = 100;

    private Path fixture(String name) throws IOException {
        Path p = dir.resolve(name);
        try (InputStream in = LoadGenMergeIT.class.getResourceAsStream("/loadgen/" + name)) {
            Files.copy(in, p);
        }
        return p;
    }

    private static List<Long> perChannel(Map<String, Object> r, String key) {
        List<Long> l = new ArrayList<>();
        for (Object v : (List<?>) ((Map<?, ?>) r.get("per_channel")).get(key)) {
            l.add(((Number) v).longValue());
        }
        return l;
    }

    private static double sum(Map<String, Object> r, String key) {
        double s = 0;
        for (Object v : (List<?>) ((Map<?, ?>) r.get("series")).get(key)) {
            s += v instanceof Number ? ((Number) v).doubleValue() : 0;
        }
        return s;
    }

    record Cli(int exit, String out, String err) {
    }

    static Cli cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = LoadGen.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Cli(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
