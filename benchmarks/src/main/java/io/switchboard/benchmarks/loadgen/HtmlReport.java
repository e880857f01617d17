package io.switchboard.benchmarks.loadgen;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Placeholder until the report lands. */
final class HtmlReport {
    private HtmlReport() {
    }

    static int command(String[] args, PrintStream out, PrintStream err) {
        err.println("loadgen: report: not yet");
        return 2;
    }

    static void write(List<Map<String, Object>> runs, Path file) throws IOException {
    }
}
