package io.switchboard.benchmarks.loadgen;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleFunction;

/**
 * The HTML report of one run ({@code --report run.html}) or several side by side
 * ({@code loadgen report a.json b.json -o compare.html}): one self-contained file, charts drawn as
 * inline SVG here, no script and nothing fetched. Everything in it comes from the runs' JSON
 * results, so the report and the JSON always agree: each figure of the summary carries its JSON
 * value in {@code data-value}, each chart line its number of points in {@code data-points}.
 */
final class HtmlReport {

    private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
        "#e377c2", "#17becf"};
    private static final int W = 760;
    private static final int H = 280;
    private static final int LEFT = 78;
    private static final int RIGHT = 150;
    private static final int TOP = 16;
    private static final int BOTTOM = 36;

    private static final String USAGE = "Usage: loadgen report RUN.json [RUN.json]... -o REPORT.html (the files of "
            + "--out, or saved output of --json)";

    private HtmlReport() {
    }

    /** {@code loadgen report RUN.json... -o OUT.html}: returns the exit code. */
    static int command(String[] args, PrintStream out, PrintStream err) {
        int[] exit = new int[1];
        RunFiles files = RunFiles.parse("report", args, 1, USAGE, err, exit);
        if (files == null) {
            return exit[0];
        }
        Path output = files.output();
        List<Map<String, Object>> runs = files.runs();
        List<String> labels = files.labels();
        try {
            Files.writeString(output, html(runs, labels), StandardCharsets.UTF_8);
        } catch (IOException e) {
            err.println("loadgen report: cannot write " + output + ": " + e.getMessage());
            return 1;
        }
        out.println("report: " + output);
        return 0;
    }

    /** A run's JSON result from a file: the whole file, or its last line that is a JSON object (saved --json output). */
    static Map<String, Object> read(Path p) throws IOException {
        String text = Files.readString(p, StandardCharsets.UTF_8).strip();
        String json = text;
        int nl = text.lastIndexOf('\n');
        if (!text.startsWith("{") || nl >= 0 && text.substring(nl + 1).startsWith("{")) {
            json = nl < 0 ? text : text.substring(nl + 1);
        }
        Map<String, Object> run = Json.object(Json.parse(json), "not a loadgen result");
        if (!(run.get("series") instanceof Map) || !run.containsKey("latency_us")) {
            throw new IllegalArgumentException("not a loadgen result (no series or latency_us)");
        }
        return run;
    }

    /** Writes the report of {@code runs} to {@code file}. */
    static void write(List<Map<String, Object>> runs, Path file) throws IOException {
        List<String> labels = new ArrayList<>();
        for (Map<String, Object> r : runs) {
            labels.add(r.get("protocol") + " " + r.get("url"));
        }
        Files.writeString(file, html(runs, labels), StandardCharsets.UTF_8);
    }

    static String html(List<Map<String, Object>> runs, List<String> labels) {
        StringBuilder h = new StringBuilder(64 * 1024);
        boolean one = runs.size() == 1;
        h.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>loadgen report</title>\n")
                .append("<style>body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}")
                .append("table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;")
                .append("text-align:right}th:first-child,td:first-child{text-align:left}pre{background:#f4f4f4;")
                .append("padding:8px;white-space:pre-wrap;word-break:break-all}.warn{color:#b00}.ok{color:#070}")
                .append("svg{display:block;margin:4px 0 18px}svg text{font:11px sans-serif}h2{margin-top:28px}")
                .append("</style></head><body>\n");
        h.append("<h1>loadgen report</h1>\n");
        for (int i = 0; i < runs.size(); i++) {
            Map<String, Object> r = runs.get(i);
            h.append("<h3 style=\"color:").append(color(i)).append("\">").append(esc(labels.get(i))).append("</h3>\n");
            h.append("<p>").append(esc(String.valueOf(r.get("protocol")))).append(" against ")
                    .append(esc(String.valueOf(r.get("url")))).append(", started ")
                    .append(esc(String.valueOf(r.get("started_at")))).append(": ")
                    .append(Boolean.TRUE.equals(r.get("passed")) ? "<b class=\"ok\">passed</b>" : "<b class=\"warn\">failed</b>")
                    .append("</p>\n<pre data-run=\"").append(i).append("\" class=\"command\">")
                    .append(esc(String.valueOf(r.get("command")))).append("</pre>\n");
            for (Object w : list(r.get("warnings"))) {
                h.append("<p class=\"warn\">warning: ").append(esc(String.valueOf(w))).append("</p>\n");
            }
        }
        summary(h, runs, labels);
        thresholds(h, runs, labels);

        h.append("<h2>Throughput over time</h2>\n");
        List<Line> lines = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            Map<String, Object> s = series(runs.get(i));
            lines.add(line(one ? "deliveries/s" : labels.get(i) + " deliveries/s", i, color(i), false, s, "deliveries_per_s", 1));
            lines.add(line(one ? "publishes/s" : labels.get(i) + " publishes/s", i, one ? color(1) : color(i), true, s,
                    "publishes_per_s", 1));
        }
        h.append(chart("throughput", lines, false, false, "seconds", x -> fmt(x), HtmlReport::compact,
                one ? stages(runs.get(0)) : List.of()));

        h.append("<h2>Latency percentiles over time</h2>\n<p>Publish to receipt, from the intended send time, per "
                + "second of receipt (log scale).</p>\n");
        lines = new ArrayList<>();
        String[][] percentiles = {{"p50_us", "p50"}, {"p90_us", "p90"}, {"p99_us", "p99"}, {"p999_us", "p99.9"},
            {"max_us", "max"}};
        for (int i = 0; i < runs.size(); i++) {
            Map<String, Object> s = series(runs.get(i));
            for (int k = 0; k < percentiles.length; k++) {
                if (one) {
                    lines.add(line(percentiles[k][1], i, color(k), false, s, percentiles[k][0], 1));
                } else if (k == 0 || k == 2) {
                    lines.add(line(labels.get(i) + " " + percentiles[k][1], i, color(i), k == 0, s, percentiles[k][0], 1));
                }
            }
        }
        h.append(chart("latency", lines, false, true, "seconds", x -> fmt(x), HtmlReport::timeLabel,
                one ? stages(runs.get(0)) : List.of()));

        h.append("<h2>Latency distribution</h2>\n<p>The measured seconds' HdrHistogram: latency at each percentile "
                + "(both axes log scale; the x axis is 1/(1-percentile), so 90%, 99%, 99.9% are evenly spaced).</p>\n");
        lines = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            List<Object> d = list(runs.get(i).get("distribution"));
            double[] x = new double[d.size()];
            Double[] y = new Double[d.size()];
            for (int k = 0; k < d.size(); k++) {
                List<Object> point = list(d.get(k));
                double p = Math.min(Json.number(point.get(0)), 99.9999);
                x[k] = 1 / (1 - p / 100);
                y[k] = Json.number(point.get(1));
            }
            lines.add(new Line(one ? "latency" : labels.get(i), i, "distribution", color(i), false, x, y));
        }
        h.append(chart("distribution", lines, true, true, "percentile", x -> percentileLabel(x),
                HtmlReport::timeLabel, List.of()));

        h.append("<h2>Connections and errors over time</h2>\n");
        lines = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            lines.add(line(one ? "connections" : labels.get(i) + " connections", i, color(i), false,
                    series(runs.get(i)), "connections", 1));
        }
        h.append(chart("connections", lines, false, false, "seconds", x -> fmt(x), HtmlReport::compact,
                one ? stages(runs.get(0)) : List.of()));
        lines = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            lines.add(line(one ? "errors" : labels.get(i) + " errors", i, one ? color(1) : color(i), false,
                    series(runs.get(i)), "errors", 1));
        }
        h.append(chart("errors", lines, false, false, "seconds", x -> fmt(x), HtmlReport::compact,
                one ? stages(runs.get(0)) : List.of()));

        if (runs.stream().anyMatch(r -> r.get("reconnect") instanceof Map)) {
            h.append("<h2>Reconnects over time</h2>\n<p>--recover: connections loadgen dropped, and recovers that "
                    + "said recovered:true and recovered:false, per second.</p>\n");
            lines = new ArrayList<>();
            String[][] keys = {{"drops", "drops"}, {"recovered", "recovered"}, {"unrecovered", "unrecovered"}};
            for (int i = 0; i < runs.size(); i++) {
                if (!(runs.get(i).get("reconnect") instanceof Map)) {
                    continue;
                }
                for (int k = 0; k < keys.length; k++) {
                    lines.add(line(one ? keys[k][1] : labels.get(i) + " " + keys[k][1], i, one ? color(k) : color(i),
                            !one && k > 0, series(runs.get(i)), keys[k][0], 1));
                }
            }
            h.append(chart("reconnects", lines, false, false, "seconds", x -> fmt(x), HtmlReport::compact,
                    one ? stages(runs.get(0)) : List.of()));
        }

        boolean server = runs.stream().anyMatch(r -> series(r).get("server_cpu") instanceof List);
        h.append(server ? "<h2>CPU: loadgen's own and the server's</h2>\n" : "<h2>loadgen's own CPU</h2>\n")
                .append("<p>Share of all of loadgen's cores; at or above 90% the run measures loadgen rather than the "
                        + "server.").append(server ? " The server's (--server-pid, from /proc/PID/stat) is a share of "
                        + "all the machine's cores." : "").append("</p>\n");
        lines = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            lines.add(line(one ? "loadgen CPU" : labels.get(i) + " CPU", i, color(i), false, series(runs.get(i)), "cpu", 100));
            if (series(runs.get(i)).get("server_cpu") instanceof List) {
                lines.add(line(one ? "server CPU" : labels.get(i) + " server CPU", i, one ? color(1) : color(i), true,
                        series(runs.get(i)), "server_cpu", 100));
            }
        }
        h.append(chart("cpu", lines, false, false, "seconds", x -> fmt(x), y -> fmt(y) + "%",
                one ? stages(runs.get(0)) : List.of()));

        h.append("<h2>Reading this report</h2>\n<p><b>Saturation</b>: while the server keeps up, deliveries/s is "
                + "publishes/s times the subscribers per channel and latency stays flat. Past its capacity, "
                + "deliveries/s stops growing with the rate and latency climbs second after second (a queue "
                + "building up); at max rate (no --rate), latency is the queue behind the window, and throughput is "
                + "the figure. <b>Coordinated omission</b>: loadgen measures from each publish's intended send time "
                + "on a fixed schedule, so a stall of the server shows as latency of everything scheduled during it, "
                + "not as a few slow samples. docs/loadgen.md says more.</p>\n");
        h.append("</body></html>\n");
        return h.toString();
    }

    private static void summary(StringBuilder h, List<Map<String, Object>> runs, List<String> labels) {
        h.append("<h2>Summary</h2>\n<table id=\"summary\"><tr><th>measured seconds</th>");
        for (int i = 0; i < runs.size(); i++) {
            h.append("<th style=\"color:").append(color(i)).append("\">").append(esc(labels.get(i))).append("</th>");
        }
        h.append("</tr>\n");
        Object[][] rows = {
            {"deliveries/s", "deliveries_per_s", null},
            {"publishes/s", "publishes_per_s", null},
            {"latency p50", "latency_us.p50", "us"},
            {"latency p90", "latency_us.p90", "us"},
            {"latency p99", "latency_us.p99", "us"},
            {"latency p99.9", "latency_us.p999", "us"},
            {"latency max", "latency_us.max", "us"},
            {"latency mean", "latency_us.mean", "us"},
            {"deliveries measured", "latency_us.count", null},
            {"errors", "errors", null},
            {"missing", "missing", null},
            {"duplicates", "duplicates", null},
            {"loadgen CPU mean", "cpu.mean", "%"},
            {"loadgen CPU max", "cpu.max", "%"},
            {"server CPU mean", "server_cpu.mean", "%"},
            {"server CPU max", "server_cpu.max", "%"},
            {"measured seconds", "duration_s", null},
            {"subscribers", "subscribers", null},
            {"channels", "channels", null},
            {"publishers", "publishers", null},
            {"rate (publishes/s, 0 = max)", "rate", null},
            {"content bytes", "size", null},
        };
        if (runs.stream().anyMatch(r -> r.get("reconnect") instanceof Map)) {
            Object[][] reconnect = {
                {"drops", "reconnect.drops", null},
                {"closed by the server", "reconnect.closed_by_server", null},
                {"failed reconnect attempts", "reconnect.failed_attempts", null},
                {"recovered", "reconnect.recovered", null},
                {"unrecovered", "reconnect.unrecovered", null},
                {"lost after unrecovered", "reconnect.lost", null},
                {"replayed", "reconnect.replayed", null},
                {"gaps after recovered", "reconnect.gaps", null},
                {"missing while connected", "reconnect.missing_while_connected", null},
                {"out of order", "reconnect.out_of_order", null},
                {"recovery p50", "reconnect.recovery_us.p50", "us"},
                {"recovery p99", "reconnect.recovery_us.p99", "us"},
                {"recovery max", "reconnect.recovery_us.max", "us"},
            };
            Object[][] all = java.util.Arrays.copyOf(rows, rows.length + reconnect.length);
            System.arraycopy(reconnect, 0, all, rows.length, reconnect.length);
            rows = all;
        }
        for (Object[] row : rows) {
            h.append("<tr><td>").append(row[0]).append("</td>");
            for (int i = 0; i < runs.size(); i++) {
                Object v = path(runs.get(i), (String) row[1]);
                h.append("<td data-run=\"").append(i).append("\" data-key=\"").append(row[1]).append("\" data-value=\"")
                        .append(v == null ? "" : esc(String.valueOf(v))).append("\">");
                if (v == null) {
                    h.append("-");
                } else if ("us".equals(row[2])) {
                    h.append(LoadGen.formatMicros(Math.round(Json.number(v))));
                } else if ("%".equals(row[2])) {
                    h.append(fmt(Json.number(v) * 100)).append('%');
                } else {
                    h.append(String.format(Locale.ROOT, "%,.0f", Json.number(v)));
                }
                h.append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }

    private static void thresholds(StringBuilder h, List<Map<String, Object>> runs, List<String> labels) {
        boolean any = runs.stream().anyMatch(r -> !list(r.get("thresholds")).isEmpty());
        if (!any) {
            return;
        }
        h.append("<h2>Thresholds</h2>\n<table id=\"thresholds\"><tr><th>run</th><th>rule</th><th>value</th><th>result</th></tr>\n");
        for (int i = 0; i < runs.size(); i++) {
            for (Object o : list(runs.get(i).get("thresholds"))) {
                Map<?, ?> t = (Map<?, ?>) o;
                boolean ok = Boolean.TRUE.equals(t.get("passed"));
                Threshold rule = Threshold.parse(String.valueOf(t.get("rule")));
                h.append("<tr><td>").append(esc(labels.get(i))).append("</td><td>").append(esc(rule.text))
                        .append("</td><td>").append(esc(rule.describe(Json.number(t.get("actual"))))).append("</td><td class=\"")
                        .append(ok ? "ok\">passed" : "warn\">FAILED").append("</td></tr>\n");
            }
        }
        h.append("</table>\n");
    }

    /** A line of a chart: {@code y[i]} null where there is no value (a gap). */
    record Line(String name, int run, String key, String color, boolean dashed, double[] x, Double[] y) {
        int points() {
            int n = 0;
            for (Double v : y) {
                n += v == null ? 0 : 1;
            }
            return n;
        }
    }

    private static Line line(String name, int run, String color, boolean dashed, Map<String, Object> series, String key,
                             double scale) {
        List<Object> t = list(series.get("t"));
        List<Object> v = list(series.get(key));
        double[] x = new double[t.size()];
        Double[] y = new Double[t.size()];
        for (int i = 0; i < t.size(); i++) {
            x[i] = Json.number(t.get(i));
            Object value = i < v.size() ? v.get(i) : null;
            y[i] = value instanceof Number ? ((Number) value).doubleValue() * scale : null;
        }
        return new Line(name, run, key, color, dashed, x, y);
    }

    /** Stage boundaries (seconds from the start) and names, for a single run's time charts. */
    private static List<Object[]> stages(Map<String, Object> run) {
        List<Object[]> marks = new ArrayList<>();
        double t = 0;
        for (Object o : list(run.get("stages"))) {
            Map<?, ?> s = (Map<?, ?>) o;
            marks.add(new Object[] {t, String.valueOf(s.get("name")) + (Boolean.FALSE.equals(s.get("measured"))
                    ? " (not measured)" : "")});
            t += Json.number(s.get("seconds"));
        }
        return marks;
    }

    private static String chart(String id, List<Line> lines, boolean logX, boolean logY, String xTitle,
                                DoubleFunction<String> xLabel, DoubleFunction<String> yLabel, List<Object[]> marks) {
        double x0 = Double.MAX_VALUE;
        double x1 = -Double.MAX_VALUE;
        double y0 = logY ? Double.MAX_VALUE : 0;
        double y1 = -Double.MAX_VALUE;
        for (Line l : lines) {
            for (int i = 0; i < l.x.length; i++) {
                if (l.y[i] == null || logY && l.y[i] <= 0) {
                    continue;
                }
                x0 = Math.min(x0, l.x[i]);
                x1 = Math.max(x1, l.x[i]);
                y0 = Math.min(y0, l.y[i]);
                y1 = Math.max(y1, l.y[i]);
            }
        }
        StringBuilder s = new StringBuilder();
        s.append("<svg id=\"chart-").append(id).append("\" data-chart=\"").append(id).append("\" width=\"").append(W)
                .append("\" height=\"").append(H).append("\" viewBox=\"0 0 ").append(W).append(' ').append(H)
                .append("\" xmlns=\"http://www.w3.org/2000/svg\">\n");
        int pw = W - LEFT - RIGHT;
        int ph = H - TOP - BOTTOM;
        s.append("<rect x=\"").append(LEFT).append("\" y=\"").append(TOP).append("\" width=\"").append(pw)
                .append("\" height=\"").append(ph).append("\" fill=\"none\" stroke=\"#999\"/>\n");
        if (x1 < x0) {
            s.append("<text x=\"").append(LEFT + 10).append("\" y=\"").append(TOP + 20).append("\">no data</text>\n");
            return s.append("</svg>\n").toString();
        }
        if (logX) {
            x0 = Math.max(1, x0);
        } else {
            x0 = Math.min(0, x0); // time from the start of the run
        }
        if (logY) {
            y0 = Math.pow(10, Math.floor(Math.log10(Math.max(1, y0))));
            y1 = Math.pow(10, Math.ceil(Math.log10(Math.max(y1, y0 * 10))));
        } else {
            y1 = niceCeil(Math.max(y1, 1));
        }
        if (x1 == x0) {
            x1 = x0 + 1;
        }
        Scale sx = new Scale(x0, x1, LEFT, LEFT + pw, logX);
        Scale sy = new Scale(y0, y1, TOP + ph, TOP, logY);
        // y ticks
        List<Double> yTicks = new ArrayList<>();
        if (logY) {
            for (double v = y0; v <= y1 * 1.0001; v *= 10) {
                yTicks.add(v);
            }
        } else {
            for (int k = 0; k <= 4; k++) {
                yTicks.add(y1 * k / 4);
            }
        }
        for (double v : yTicks) {
            double py = sy.at(v);
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eee\"/>"
                    + "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", LEFT, LEFT + pw, py, py, LEFT - 4,
                    py + 4, esc(yLabel.apply(v))));
        }
        // x ticks
        List<Double> xTicks = new ArrayList<>();
        if (logX) {
            for (double v = 1; v <= x1 * 1.0001; v *= 10) {
                xTicks.add(v);
            }
        } else {
            double step = Math.max(1, niceCeil((x1 - x0) / 8));
            for (double v = Math.ceil(x0 / step) * step; v <= x1; v += step) {
                xTicks.add(v);
            }
        }
        for (double v : xTicks) {
            double px = sx.at(v);
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", px,
                    TOP + ph + 14, esc(xLabel.apply(v))));
        }
        s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", LEFT + pw / 2,
                H - 4, esc(xTitle)));
        int mark = 0;
        for (Object[] m : marks) {
            double t = (double) m[0];
            if (t > x1) {
                continue;
            }
            double px = sx.at(Math.max(x0, t));
            // Labels alternate between two rows, so that short stages do not print over each other.
            s.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#aaa\" "
                    + "stroke-dasharray=\"2,3\"/><text x=\"%.1f\" y=\"%d\" fill=\"#666\">%s</text>\n", px, px, TOP,
                    TOP + ph, px + 3, TOP + 11 + 12 * (mark++ % 2), esc((String) m[1])));
        }
        int legend = 0;
        for (Line l : lines) {
            s.append("<g data-run=\"").append(l.run).append("\" data-series=\"").append(esc(l.key))
                    .append("\" data-points=\"").append(l.points()).append("\"><title>").append(esc(l.name)).append("</title>\n");
            StringBuilder pts = new StringBuilder();
            for (int i = 0; i <= l.x.length; i++) {
                boolean gap = i == l.x.length || l.y[i] == null || logY && l.y[i] <= 0;
                if (gap) {
                    if (pts.length() > 0) {
                        s.append("<polyline fill=\"none\" stroke=\"").append(l.color).append("\" stroke-width=\"1.5\"")
                                .append(l.dashed ? " stroke-dasharray=\"5,3\"" : "").append(" points=\"")
                                .append(pts).append("\"/>\n");
                        pts.setLength(0);
                    }
                    continue;
                }
                pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", sx.at(l.x[i]), sy.at(l.y[i])));
            }
            s.append("</g>\n");
            int ly = TOP + 8 + 16 * legend++;
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"%s\" "
                    + "stroke-width=\"2\"%s/><text x=\"%d\" y=\"%d\">%s</text>\n", W - RIGHT + 8, W - RIGHT + 28, ly, ly,
                    l.color, l.dashed ? " stroke-dasharray=\"5,3\"" : "", W - RIGHT + 32, ly + 4,
                    esc(shorten(l.name))));
        }
        return s.append("</svg>\n").toString();
    }

    private record Scale(double from, double to, double pixelFrom, double pixelTo, boolean log) {
        double at(double v) {
            double f = log ? (Math.log10(Math.max(v, from)) - Math.log10(from)) / (Math.log10(to) - Math.log10(from))
                    : (v - from) / (to - from);
            return pixelFrom + f * (pixelTo - pixelFrom);
        }
    }

    private static double niceCeil(double v) {
        if (v <= 0) {
            return 1;
        }
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }

    private static String percentileLabel(double x) {
        double p = 100 * (1 - 1 / x);
        return p == 0 ? "0%" : (p == Math.rint(p) ? fmt(p) : String.format(Locale.ROOT, "%s", trim(p))) + "%";
    }

    private static String trim(double p) {
        String s = String.format(Locale.ROOT, "%.4f", p);
        return s.replaceAll("0+$", "").replaceAll("\\.$", "");
    }

    /** A tick of a latency axis, microseconds as {@code 100 us}, {@code 10 ms}, {@code 1 s}. */
    private static String timeLabel(double micros) {
        if (micros >= 1e6) {
            return trim(micros / 1e6) + " s";
        }
        if (micros >= 1e3) {
            return trim(micros / 1e3) + " ms";
        }
        return trim(micros) + " us";
    }

    private static String compact(double v) {
        double a = Math.abs(v);
        if (a >= 1e6) {
            return trim(v / 1e6) + "M";
        }
        if (a >= 1e3) {
            return trim(v / 1e3) + "k";
        }
        return trim(v);
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.0f", v);
    }

    private static String shorten(String s) {
        return s.length() <= 22 ? s : "…" + s.substring(s.length() - 21);
    }

    private static String color(int i) {
        return COLORS[i % COLORS.length];
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> series(Map<String, Object> run) {
        return (Map<String, Object>) run.get("series");
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        return o instanceof List ? (List<Object>) o : List.of();
    }

    /** The value at a dotted path such as {@code latency_us.p99}. */
    static Object path(Map<String, Object> run, String path) {
        Object v = run;
        for (String k : path.split("\\.")) {
            v = v instanceof Map ? ((Map<?, ?>) v).get(k) : null;
        }
        return v;
    }

    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
