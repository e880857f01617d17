package io.switchboard.benchmarks.loadgen;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The arguments of the subcommands that read results and write one file ({@code loadgen report},
 * {@code loadgen merge}): {@code RUN.json... -o OUT}, and the results they name.
 */
record RunFiles(Path output, List<Map<String, Object>> runs, List<String> labels) {

    /**
     * Parses {@code args} (from index 1: index 0 is the subcommand) and reads every input. Returns
     * {@code null} after printing why to {@code err}; {@code exit[0]} is then 2 (usage) or 1 (an input
     * that cannot be read).
     */
    static RunFiles parse(String command, String[] args, int minInputs, String usage, PrintStream err, int[] exit) {
        List<Path> inputs = new ArrayList<>();
        Path output = null;
        for (int i = 1; i < args.length; i++) {
            if (args[i].equals("-o") || args[i].equals("--output")) {
                if (i + 1 >= args.length) {
                    err.println("loadgen " + command + ": " + args[i] + " needs a file name");
                    exit[0] = 2;
                    return null;
                }
                output = Path.of(args[++i]);
            } else if (args[i].startsWith("-")) {
                err.println("loadgen " + command + ": unknown option '" + args[i] + "'\n" + usage);
                exit[0] = 2;
                return null;
            } else {
                inputs.add(Path.of(args[i]));
            }
        }
        if (inputs.size() < minInputs || output == null) {
            err.println(usage);
            exit[0] = 2;
            return null;
        }
        List<Map<String, Object>> runs = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (Path p : inputs) {
            try {
                runs.add(HtmlReport.read(p));
                labels.add(p.getFileName().toString());
            } catch (IllegalArgumentException | IOException e) {
                err.println("loadgen " + command + ": " + p + ": " + (e instanceof NoSuchFileException ? "no such file"
                        : e.getMessage()));
                exit[0] = 1;
                return null;
            }
        }
        return new RunFiles(output, runs, labels);
    }
}
