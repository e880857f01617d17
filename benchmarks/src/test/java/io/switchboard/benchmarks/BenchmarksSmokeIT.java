package io.switchboard.benchmarks;

import io.switchboard.benchmarks.broadcast.BroadcastBenchmark;
import io.switchboard.benchmarks.codec.CodecBenchmark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.util.Collection;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Proves the JMH benchmarks run: one short iteration each, in this JVM. The numbers mean nothing
 * here; docs/benchmarks.md has the real runs and their commands.
 */
@Timeout(180)
class BenchmarksSmokeIT {

    @Test
    void codecBenchmarkRuns() throws Exception {
        assertRuns(CodecBenchmark.class.getSimpleName(), "contentBytes", "16", 2);
    }

    @Test
    void broadcastBenchmarkRunsAgainstSwitchboardAndTheFloor() throws Exception {
        // The node, the node with history (issue 18) and the floor.
        assertRuns(BroadcastBenchmark.class.getSimpleName(), "subscribers", "10", 3);
    }

    private static void assertRuns(String benchmark, String param, String value, int expectedResults)
            throws Exception {
        Collection<RunResult> results = new Runner(new OptionsBuilder()
                .include(benchmark)
                .param(param, value)
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.milliseconds(300))
                .build()).run();
        assertEquals(expectedResults, results.size());
        for (RunResult r : results) {
            double score = r.getPrimaryResult().getScore();
            assertTrue(score > 0 && !Double.isNaN(score), r.getParams() + ": " + score);
        }
    }
}
