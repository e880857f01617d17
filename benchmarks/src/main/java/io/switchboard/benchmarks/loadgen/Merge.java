package io.switchboard.benchmarks.loadgen;

import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code loadgen merge a.json b.json ... -o merged.json}: the results of one test split over
 * processes with {@code --role} (one publishing, the others subscribing) as one result, which
 * {@code loadgen report} draws like any other.
 *
 * <p>Second by second (aligned on each run's wall-clock {@code series_start_ms}): throughput,
 * connections, errors and loadgen's CPU are added, latency percentiles come from the added
 * per-second HdrHistograms. The measured figures: rates and counts added, latency from the added
 * histograms of the measured seconds. Missing is exact: per channel, every subscriber of every
 * process is owed what the publishing process published to its channel after it joined; missing is
 * what is owed minus the in-order deliveries received ({@code per_channel} of each result).
 */
final class Merge {

    private static final String USAGE = "Usage: loadgen merge RUN.json RUN.json... -o MERGED.json (the --out files "
            + "of one test split with --role: one publishing process, the others --role subscribers)";
    /** Series columns added second by second. */
    private static final List<String> ADDED = List.of("connections", "publishes_per_s", "deliveries_per_s", "errors",
            "cpu");

    private Merge() {
    }

    /** Returns the exit code: 0 merged and passed, 1 merged and failed or unreadable input, 2 usage. */
    static int command(String[] args, PrintStream out, PrintStream err) {
        int[] exit = new int[1];
        RunFiles files = RunFiles.parse("merge", args, 2, USAGE, err, exit);
        if (files == null) {
            return exit[0];
        }
        Path output = files.output();
        List<Map<String, Object>> runs = files.runs();
        List<String> labels = files.labels();
        Map<String, Object> merged;
        try {
            merged = merge(runs, labels);
        } catch (IllegalArgumentException e) {
            err.println("loadgen merge: " + e.getMessage());
            return 1;
        }
        try {
            Files.writeString(output, Json.write(merged) + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            err.println("loadgen merge: cannot write " + output + ": " + e.getMessage());
            return 1;
        }
        Map<?, ?> lat = (Map<?, ?>) merged.get("latency_us");
        out.printf(Locale.ROOT, "merged %d runs: deliveries/s %,.0f  publishes/s %,.0f  p99 %s  errors %d  missing %d  "
                        + "duplicates %d%n", runs.size(), Json.number(merged.get("deliveries_per_s")),
                Json.number(merged.get("publishes_per_s")),
                lat.get("p99") == null ? "-" : LoadGen.formatMicros(((Number) lat.get("p99")).longValue()),
                (long) merged.get("errors"), (long) merged.get("missing"), (long) merged.get("duplicates"));
        for (Object v : (List<?>) merged.get("thresholds")) {
            Map<?, ?> m = (Map<?, ?>) v;
            out.printf(Locale.ROOT, "threshold %s: %s%n", m.get("rule"),
                    Boolean.TRUE.equals(m.get("passed")) ? "passed" : "FAILED");
        }
        out.println("result: " + output);
        if (!Boolean.TRUE.equals(merged.get("passed"))) {
            err.println("loadgen merge: the merged run failed: errors, missing or duplicate deliveries, a crossed "
                    + "threshold, or a run that stopped early");
            return 1;
        }
        return 0;
    }

    /** The merged result of {@code runs} (labelled for warnings); IllegalArgumentException when they do not merge. */
    static Map<String, Object> merge(List<Map<String, Object>> runs, List<String> labels) {
        Map<String, Object> publisher = null;
        for (int i = 0; i < runs.size(); i++) {
            Map<String, Object> r = runs.get(i);
            if (!(r.get("histogram") instanceof String) || !(r.get("per_channel") instanceof Map)
                    || !(r.get("series_start_ms") instanceof Number)) {
                throw new IllegalArgumentException(labels.get(i) + ": written by a loadgen without merge support "
                        + "(no histogram, per_channel or series_start_ms): run it again with this version");
            }
            if (!"subscribers".equals(r.get("role"))) {
                if (publisher != null) {
                    throw new IllegalArgumentException("more than one run publishes (" + labels.get(runs.indexOf(publisher))
                            + " and " + labels.get(i) + "): merge one --role publishers run with --role subscribers runs");
                }
                publisher = r;
            }
            if (!r.get("protocol").equals(runs.get(0).get("protocol"))
                    || !r.get("channels").equals(runs.get(0).get("channels"))) {
                throw new IllegalArgumentException(labels.get(i) + ": " + r.get("protocol") + " on " + r.get("channels")
                        + " channel(s), but " + labels.get(0) + ": " + runs.get(0).get("protocol") + " on "
                        + runs.get(0).get("channels") + ": not one test");
            }
        }
        if (publisher == null) {
            throw new IllegalArgumentException("no run publishes: merge the --role publishers run with the --role "
                    + "subscribers runs (missing needs what was published)");
        }
        int channels = ((Number) publisher.get("channels")).intValue();

        Map<String, Object> r = new LinkedHashMap<>();
        long subscribers = 0;
        long publishers = 0;
        for (Map<String, Object> run : runs) {
            subscribers += ((Number) run.get("subscribers")).longValue();
            publishers += ((Number) run.get("publishers")).longValue();
        }
        Map<String, Object> firstSubscriber = runs.stream().filter(x -> "subscribers".equals(x.get("role"))).findFirst()
                .orElse(publisher);
        r.put("subscribers", subscribers);
        r.put("channels", channels);
        r.put("publishers", publishers);
        r.put("rate", publisher.get("rate"));
        r.put("window", publisher.get("window"));
        r.put("size", publisher.get("size"));
        long duration = 0;
        for (Map<String, Object> run : runs) {
            duration = Math.max(duration, ((Number) run.get("duration_s")).longValue());
        }
        r.put("duration_s", duration);
        r.put("protocol", publisher.get("protocol"));
        r.put("url", firstSubscriber.get("url"));
        Object publishUrl = publisher.containsKey("publish_url") ? publisher.get("publish_url") : publisher.get("url");
        if (!publishUrl.equals(r.get("url"))) {
            r.put("publish_url", publishUrl);
        }
        r.put("role", "merged");
        List<Object> commands = new ArrayList<>();
        Instant started = null;
        for (Map<String, Object> run : runs) {
            commands.add(run.get("command"));
            Instant at = Instant.parse(String.valueOf(run.get("started_at")));
            started = started == null || at.isBefore(started) ? at : started;
        }
        r.put("command", String.join("\n", commands.stream().map(String::valueOf).toList()));
        r.put("commands", commands);
        r.put("merged_from", new ArrayList<Object>(labels));
        r.put("started_at", started.toString());
        double deliveriesPerS = 0;
        double publishesPerS = 0;
        long errors = 0;
        long duplicates = 0;
        for (Map<String, Object> run : runs) {
            deliveriesPerS += Json.number(run.get("deliveries_per_s"));
            publishesPerS += Json.number(run.get("publishes_per_s"));
            errors += ((Number) run.get("errors")).longValue();
            duplicates += ((Number) run.get("duplicates")).longValue();
        }
        r.put("deliveries_per_s", deliveriesPerS);
        r.put("publishes_per_s", publishesPerS);
        Histogram total = new Histogram(3);
        for (Map<String, Object> run : runs) {
            total.add(Histograms.decode((String) run.get("histogram")));
        }
        r.put("latency_us", Histograms.summary(total));
        r.put("errors", errors);

        // Missing, exactly: every subscriber is owed what was published to its channel after it joined.
        long[] published = longs(publisher, "published", channels);
        long[] subs = new long[channels];
        long[] received = new long[channels];
        long[] before = new long[channels];
        for (Map<String, Object> run : runs) {
            add(subs, longs(run, "subscribers", channels));
            add(received, longs(run, "received", channels));
            add(before, longs(run, "published_before_join", channels));
        }
        long missing = 0;
        for (int c = 0; c < channels; c++) {
            missing += subs[c] * published[c] - before[c] - received[c];
        }
        r.put("missing", missing);
        r.put("duplicates", duplicates);

        Map<String, Object> series = mergeSeries(runs);
        double cpuSum = 0;
        double cpuMax = 0;
        int cpuN = 0;
        List<?> measured = (List<?>) series.get("measured");
        List<?> cpus = (List<?>) series.get("cpu");
        for (int i = 0; i < measured.size(); i++) {
            if (Boolean.TRUE.equals(measured.get(i)) && cpus.get(i) instanceof Number) {
                double v = ((Number) cpus.get(i)).doubleValue();
                cpuSum += v;
                cpuMax = Math.max(cpuMax, v);
                cpuN++;
            }
        }
        Map<String, Object> cpu = new LinkedHashMap<>();
        cpu.put("mean", cpuN == 0 ? null : cpuSum / cpuN);
        cpu.put("max", cpuN == 0 ? null : cpuMax);
        long cores = 0;
        for (Map<String, Object> run : runs) {
            cores = Math.max(cores, (long) Json.number(((Map<?, ?>) run.get("cpu")).get("cores")));
        }
        cpu.put("cores", cores);
        r.put("cpu", cpu);
        for (Map<String, Object> run : runs) {
            if (run.get("server_cpu") instanceof Map && series.get("server_cpu") instanceof List) {
                // One server sampled: the first run that sampled it, second by second.
                Map<String, Object> server = new LinkedHashMap<>();
                server.put("pid", ((Map<?, ?>) run.get("server_cpu")).get("pid"));
                double sum = 0;
                double max = 0;
                int n = 0;
                List<?> values = (List<?>) series.get("server_cpu");
                for (int i = 0; i < measured.size(); i++) {
                    if (Boolean.TRUE.equals(measured.get(i)) && values.get(i) instanceof Number) {
                        double v = ((Number) values.get(i)).doubleValue();
                        sum += v;
                        max = Math.max(max, v);
                        n++;
                    }
                }
                server.put("mean", n == 0 ? null : sum / n);
                server.put("max", n == 0 ? null : max);
                r.put("server_cpu", server);
                break;
            }
        }
        List<Object> warnings = new ArrayList<>();
        boolean stoppedEarly = false;
        for (int i = 0; i < runs.size(); i++) {
            for (Object w : (List<?>) runs.get(i).get("warnings")) {
                warnings.add(labels.get(i) + ": " + w);
                stoppedEarly |= String.valueOf(w).startsWith("stopped early");
            }
        }
        r.put("warnings", warnings);
        r.put("stages", stages(publisher, runs));
        List<Object> distribution = Histograms.distribution(total);
        r.put("distribution", distribution);
        r.put("histogram", Histograms.encode(total));
        Map<String, Object> perChannel = new LinkedHashMap<>();
        perChannel.put("published", list(published));
        perChannel.put("subscribers", list(subs));
        perChannel.put("received", list(received));
        perChannel.put("published_before_join", list(before));
        r.put("per_channel", perChannel);
        r.put("series_start_ms", runs.stream().mapToLong(x -> ((Number) x.get("series_start_ms")).longValue()).min()
                .getAsLong());
        r.put("series", series);

        // The rules of every run, judged again on the whole.
        Set<String> rules = new LinkedHashSet<>();
        for (Map<String, Object> run : runs) {
            for (Object v : (List<?>) run.get("thresholds")) {
                rules.add(String.valueOf(((Map<?, ?>) v).get("rule")));
            }
        }
        // Round-trip through JSON so that thresholds see the numbers as a written result holds them.
        Map<String, Object> written = Json.object(Json.parse(Json.write(r)), "merged");
        boolean passed = errors == 0 && missing == 0 && duplicates == 0 && !stoppedEarly;
        List<Threshold> thresholds = new ArrayList<>();
        for (String rule : rules) {
            thresholds.add(Threshold.parse(rule));
        }
        passed &= Threshold.judge(thresholds, written, r);
        r.put("passed", passed);
        return r;
    }

    /** The publishing run's stages, with the subscribers of every run at each stage. */
    private static List<Object> stages(Map<String, Object> publisher, List<Map<String, Object>> runs) {
        List<Object> stages = new ArrayList<>();
        List<?> own = (List<?>) publisher.get("stages");
        for (int k = 0; k < own.size(); k++) {
            Map<String, Object> s = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) own.get(k)).entrySet()) {
                s.put(String.valueOf(e.getKey()), e.getValue());
            }
            long n = 0;
            for (Map<String, Object> run : runs) {
                List<?> theirs = (List<?>) run.get("stages");
                if (k < theirs.size()) {
                    n += (long) Json.number(((Map<?, ?>) theirs.get(k)).get("subscribers"));
                }
            }
            s.put("subscribers", n);
            stages.add(s);
        }
        return stages;
    }

    /** The runs' series, second by second on the wall clock: the first second of the earliest run is 1. */
    private static Map<String, Object> mergeSeries(List<Map<String, Object>> runs) {
        long base = Long.MAX_VALUE;
        for (Map<String, Object> run : runs) {
            base = Math.min(base, ((Number) run.get("series_start_ms")).longValue());
        }
        TreeMap<Long, Map<String, Object>> seconds = new TreeMap<>();
        TreeMap<Long, Histogram> latency = new TreeMap<>();
        for (Map<String, Object> run : runs) {
            long offset = Math.round((((Number) run.get("series_start_ms")).longValue() - base) / 1000.0);
            boolean publishes = !"subscribers".equals(run.get("role"));
            Map<?, ?> s = (Map<?, ?>) run.get("series");
            List<?> t = (List<?>) s.get("t");
            for (int i = 0; i < t.size(); i++) {
                long at = ((Number) t.get(i)).longValue() + offset;
                Map<String, Object> m = seconds.computeIfAbsent(at, k -> new LinkedHashMap<>());
                if (publishes || !m.containsKey("stage")) {
                    m.put("stage", column(s, "stage", i));
                }
                m.put("measured", Boolean.TRUE.equals(m.get("measured")) || Boolean.TRUE.equals(column(s, "measured", i)));
                for (String k : ADDED) {
                    Object v = column(s, k, i);
                    if (v instanceof Number) {
                        m.put(k, Json.number(m.get(k)) >= 0 ? Json.number(m.get(k)) + ((Number) v).doubleValue()
                                : ((Number) v).doubleValue());
                    }
                }
                Object server = column(s, "server_cpu", i);
                if (server instanceof Number && !m.containsKey("server_cpu")) {
                    m.put("server_cpu", server);
                }
                Object h = column(s, "latency_histogram", i);
                if (h instanceof String) {
                    latency.computeIfAbsent(at, k -> new Histogram(3)).add(Histograms.decode((String) h));
                }
            }
        }
        Map<String, List<Object>> c = new LinkedHashMap<>();
        for (String k : List.of("t", "stage", "measured", "connections", "publishes_per_s", "deliveries_per_s",
                "errors", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "cpu", "server_cpu", "latency_histogram")) {
            c.put(k, new ArrayList<>());
        }
        for (Map.Entry<Long, Map<String, Object>> e : seconds.entrySet()) {
            Map<String, Object> m = e.getValue();
            Histogram h = latency.get(e.getKey());
            boolean any = h != null && h.getTotalCount() > 0;
            c.get("t").add(e.getKey());
            c.get("stage").add(m.get("stage"));
            c.get("measured").add(m.get("measured"));
            c.get("connections").add(m.containsKey("connections") ? Math.round((double) m.get("connections")) : null);
            c.get("publishes_per_s").add(m.get("publishes_per_s"));
            c.get("deliveries_per_s").add(m.get("deliveries_per_s"));
            c.get("errors").add(m.containsKey("errors") ? Math.round((double) m.get("errors")) : null);
            c.get("p50_us").add(any ? h.getValueAtPercentile(50) : null);
            c.get("p90_us").add(any ? h.getValueAtPercentile(90) : null);
            c.get("p99_us").add(any ? h.getValueAtPercentile(99) : null);
            c.get("p999_us").add(any ? h.getValueAtPercentile(99.9) : null);
            c.get("max_us").add(any ? h.getMaxValue() : null);
            c.get("cpu").add(m.containsKey("cpu") ? Math.round((double) m.get("cpu") * 1000) / 1000.0 : null);
            c.get("server_cpu").add(m.get("server_cpu"));
            c.get("latency_histogram").add(any ? Histograms.encode(h) : null);
        }
        if (c.get("server_cpu").stream().allMatch(v -> v == null)) {
            c.remove("server_cpu");
        }
        return new LinkedHashMap<>(c);
    }

    private static Object column(Map<?, ?> series, String key, int i) {
        Object col = series.get(key);
        return col instanceof List && i < ((List<?>) col).size() ? ((List<?>) col).get(i) : null;
    }

    private static long[] longs(Map<String, Object> run, String key, int channels) {
        Object v = ((Map<?, ?>) run.get("per_channel")).get(key);
        if (!(v instanceof List) || ((List<?>) v).size() != channels) {
            throw new IllegalArgumentException("per_channel." + key + " does not hold " + channels + " channels");
        }
        long[] a = new long[channels];
        for (int c = 0; c < channels; c++) {
            a[c] = ((Number) ((List<?>) v).get(c)).longValue();
        }
        return a;
    }

    private static void add(long[] into, long[] a) {
        for (int i = 0; i < a.length; i++) {
            into[i] += a[i];
        }
    }

    private static List<Object> list(long[] a) {
        List<Object> l = new ArrayList<>();
        for (long v : a) {
            l.add(v);
        }
        return l;
    }
}
