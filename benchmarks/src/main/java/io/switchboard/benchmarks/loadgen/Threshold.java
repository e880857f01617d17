package io.switchboard.benchmarks.loadgen;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A pass/fail rule on a run's result, such as {@code p99<5ms} or {@code missing=0}: a metric, an
 * operator and a value. Latencies compare in microseconds (the unit of the JSON result). The
 * metrics of --recover ({@code recovery_p99}, {@code gaps}, ...) are read from the result's
 * {@code reconnect} section; a run without one has no value for them, which fails.
 */
final class Threshold {

    private static final Pattern RULE = Pattern.compile("\\s*([a-z_0-9]+)\\s*(<=|>=|!=|==|<|>|=)\\s*([0-9]+(?:\\.[0-9]+)?)\\s*([a-z%]*)\\s*");
    private static final List<String> LATENCIES = List.of("p50", "p90", "p99", "p999", "max", "mean");
    /** Reconnect start to the ok that said recovered:true: {@code reconnect.recovery_us}'s p50, ... */
    private static final List<String> RECOVERY_LATENCIES = List.of("recovery_p50", "recovery_p90", "recovery_p99",
            "recovery_max");
    private static final List<String> COUNTS = List.of("deliveries_per_s", "publishes_per_s", "errors", "missing",
            "duplicates", "cpu");
    /** Counts of the {@code reconnect} section. */
    private static final List<String> RECONNECT_COUNTS = List.of("gaps", "out_of_order", "lost", "recovered",
            "unrecovered", "drops");

    final String text;
    final String metric;
    final String op;
    /** The bound, in the metric's unit in the JSON result (microseconds for latencies). */
    final double bound;

    private Threshold(String text, String metric, String op, double bound) {
        this.text = text;
        this.metric = metric;
        this.op = op;
        this.bound = bound;
    }

    /** Parses a comma-separated list; IllegalArgumentException naming the rule that is wrong. */
    static List<Threshold> parseList(String list) {
        List<Threshold> out = new ArrayList<>();
        for (String part : list.split(",")) {
            if (!part.isBlank()) {
                out.add(parse(part.trim()));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("--threshold '" + list + "': no rule in it");
        }
        return out;
    }

    static Threshold parse(String text) {
        Matcher m = RULE.matcher(text.toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("--threshold '" + text + "': expected METRIC OP VALUE, such as p99<5ms "
                    + "or missing=0");
        }
        String metric = m.group(1);
        double value = Double.parseDouble(m.group(3));
        String unit = m.group(4);
        if (isLatency(metric)) {
            switch (unit) {
                case "us":
                    break;
                case "":
                case "ms":
                    value *= 1000;
                    break;
                case "s":
                    value *= 1_000_000;
                    break;
                default:
                    throw new IllegalArgumentException("--threshold '" + text + "': unit '" + unit
                            + "' (expected: us, ms or s)");
            }
        } else if (!COUNTS.contains(metric) && !RECONNECT_COUNTS.contains(metric)) {
            throw new IllegalArgumentException("--threshold '" + text + "': unknown metric '" + metric + "' (expected: "
                    + String.join(", ", LATENCIES) + ", " + String.join(", ", COUNTS) + ", with --recover "
                    + String.join(", ", RECOVERY_LATENCIES) + ", " + String.join(", ", RECONNECT_COUNTS) + ")");
        } else if (!unit.isEmpty() && !(metric.equals("cpu") && unit.equals("%"))) {
            throw new IllegalArgumentException("--threshold '" + text + "': " + metric + " takes no unit");
        }
        String op = m.group(2).equals("==") ? "=" : m.group(2);
        return new Threshold(text, metric, op, value);
    }

    private static boolean isLatency(String metric) {
        return LATENCIES.contains(metric) || RECOVERY_LATENCIES.contains(metric);
    }

    /**
     * The metric's value in a result: latencies from its {@code latency_us}, recovery latencies and
     * reconnect counts from its {@code reconnect}, cpu in percent.
     */
    double actual(Map<String, Object> result) {
        if (LATENCIES.contains(metric)) {
            Object latency = result.get("latency_us");
            return latency instanceof Map ? Json.number(((Map<?, ?>) latency).get(metric)) : Double.NaN;
        }
        if (RECOVERY_LATENCIES.contains(metric) || RECONNECT_COUNTS.contains(metric)) {
            Object reconnect = result.get("reconnect");
            if (!(reconnect instanceof Map)) {
                return Double.NaN;
            }
            if (RECONNECT_COUNTS.contains(metric)) {
                return Json.number(((Map<?, ?>) reconnect).get(metric));
            }
            Object latency = ((Map<?, ?>) reconnect).get("recovery_us");
            String key = metric.substring("recovery_".length());
            return latency instanceof Map ? Json.number(((Map<?, ?>) latency).get(key)) : Double.NaN;
        }
        if (metric.equals("cpu")) {
            Object cpu = result.get("cpu");
            return cpu instanceof Map ? 100 * Json.number(((Map<?, ?>) cpu).get("mean")) : Double.NaN;
        }
        return Json.number(result.get(metric));
    }

    /** Whether {@code actual} passes; NaN (no such figure: no deliveries for a latency, no --recover) fails. */
    boolean passes(double actual) {
        if (Double.isNaN(actual)) {
            return false;
        }
        switch (op) {
            case "<":
                return actual < bound;
            case "<=":
                return actual <= bound;
            case ">":
                return actual > bound;
            case ">=":
                return actual >= bound;
            case "!=":
                return actual != bound;
            default:
                return actual == bound;
        }
    }

    /** {@code actual} in the unit the user wrote, for messages. */
    String describe(double actual) {
        if (Double.isNaN(actual)) {
            return "no value";
        }
        if (isLatency(metric)) {
            return LoadGen.formatMicros((long) actual);
        }
        if (metric.equals("cpu")) {
            return String.format(Locale.ROOT, "%.0f%%", actual);
        }
        return actual == Math.rint(actual) ? String.format(Locale.ROOT, "%,.0f", actual)
                : String.format(Locale.ROOT, "%,.2f", actual);
    }

    /**
     * Judges {@code thresholds} on {@code result} (a result as written: latencies in microseconds):
     * stores their verdicts under {@code "thresholds"} and returns whether all passed.
     */
    static boolean judge(List<Threshold> thresholds, Map<String, Object> result, Map<String, Object> into) {
        boolean passed = true;
        List<Object> verdicts = new ArrayList<>();
        for (Threshold t : thresholds) {
            double actual = t.actual(result);
            boolean ok = t.passes(actual);
            passed &= ok;
            Map<String, Object> v = new LinkedHashMap<>();
            v.put("rule", t.text);
            v.put("passed", ok);
            v.put("actual", Double.isNaN(actual) ? null : actual);
            verdicts.add(v);
        }
        into.put("thresholds", verdicts);
        return passed;
    }
}
