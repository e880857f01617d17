package io.switchboard.benchmarks.loadgen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A scenario file: a JSON object whose keys are loadgen's options by name ({@code "protocol"},
 * {@code "subscribers"}, {@code "rate"}, {@code "threshold"}, ...) plus {@code "stages"}, a list of
 * {@code {"name", "duration", "rate", "subscribers", "measure"}}. Each stage publishes at its rate
 * (the previous stage's when absent) while the subscriber connections go linearly to its
 * {@code subscribers} (unchanged when absent); {@code "measure": false} leaves it out of the result
 * (a warm-up). docs/loadgen.md has examples.
 */
final class Scenario {

    private static final Set<String> STAGE_KEYS = Set.of("name", "duration", "rate", "subscribers", "measure");

    private Scenario() {
    }

    /** Applies the scenario in {@code file} to {@code o}; IllegalArgumentException naming the file and the fault. */
    static void load(Path file, Options o) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--scenario " + file + ": no such file");
        } catch (IOException e) {
            throw new IllegalArgumentException("--scenario " + file + ": " + e.getMessage());
        }
        try {
            apply(Json.object(Json.parse(text), "the file"), o);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--scenario " + file + ": " + e.getMessage(), e);
        }
    }

    static void apply(Map<String, Object> scenario, Options o) {
        for (Map.Entry<String, Object> e : scenario.entrySet()) {
            String key = e.getKey();
            Object v = e.getValue();
            if (key.equals("stages")) {
                continue;
            }
            if (key.equals("threshold") || key.equals("thresholds")) {
                if (v instanceof List) {
                    for (Object rule : (List<?>) v) {
                        o.set("threshold", String.valueOf(rule));
                    }
                } else {
                    o.set("threshold", String.valueOf(v));
                }
            } else if (key.equals("scenario")) {
                throw new IllegalArgumentException("a scenario cannot name another");
            } else if (v instanceof Map || v instanceof List || v == null) {
                throw new IllegalArgumentException("\"" + key + "\": expected a string, number or boolean");
            } else {
                o.set(key.replace('_', '-'), String.valueOf(v));
            }
        }
        Object stages = scenario.get("stages");
        if (stages == null) {
            return;
        }
        if (!(stages instanceof List) || ((List<?>) stages).isEmpty()) {
            throw new IllegalArgumentException("\"stages\": expected a list of stages");
        }
        int rate = o.rate;
        int subscribers = o.subscribers;
        int n = 0;
        for (Object s : (List<?>) stages) {
            n++;
            Map<String, Object> stage = Json.object(s, "stage " + n);
            for (String key : stage.keySet()) {
                if (!STAGE_KEYS.contains(key)) {
                    throw new IllegalArgumentException("stage " + n + ": unknown key \"" + key + "\" (expected: "
                            + String.join(", ", STAGE_KEYS) + ")");
                }
            }
            String name = stage.containsKey("name") ? String.valueOf(stage.get("name")) : "stage " + n;
            if (!stage.containsKey("duration")) {
                throw new IllegalArgumentException("stage '" + name + "': needs a \"duration\"");
            }
            int seconds = Options.parseSeconds("stage '" + name + "' duration", String.valueOf(stage.get("duration")), 1);
            if (stage.containsKey("rate")) {
                rate = Options.parse("stage '" + name + "' rate", String.valueOf(stage.get("rate")), 0);
            }
            if (stage.containsKey("subscribers")) {
                subscribers = Options.parse("stage '" + name + "' subscribers", String.valueOf(stage.get("subscribers")), 0);
            }
            boolean measured = !Boolean.FALSE.equals(stage.get("measure"));
            o.stages.add(new Options.Stage(name, seconds, rate, subscribers, measured));
        }
    }
}
