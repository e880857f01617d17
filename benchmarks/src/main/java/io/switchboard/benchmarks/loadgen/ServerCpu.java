package io.switchboard.benchmarks.loadgen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Another process's CPU ({@code --server-pid}), Linux only: user plus system time from
 * {@code /proc/PID/stat} (fields 14 and 15, in clock ticks), as a share of all the machine's cores
 * between two samples, as loadgen's own CPU is.
 */
final class ServerCpu {

    private final long pid;
    private final Path stat;
    private final double ticksPerSecond;
    private final int cores;
    private long lastTicks = -1;
    private long lastNanos;

    private ServerCpu(long pid) {
        this.pid = pid;
        this.stat = Path.of("/proc", Long.toString(pid), "stat");
        this.ticksPerSecond = clockTicks();
        this.cores = cores();
    }

    /**
     * The sampler of process {@code pid}; IllegalArgumentException with a message for the user where
     * there is no /proc (not Linux) or no such process.
     */
    static ServerCpu of(long pid) {
        if (!Files.isReadable(Path.of("/proc/self/stat"))) {
            throw new IllegalArgumentException("--server-pid " + pid + ": reading another process's CPU needs Linux's "
                    + "/proc/PID/stat, which this system (" + System.getProperty("os.name") + ") does not have; leave "
                    + "--server-pid out (loadgen's own CPU is still measured)");
        }
        ServerCpu s = new ServerCpu(pid);
        if (s.ticks() < 0) {
            throw new IllegalArgumentException("--server-pid " + pid + ": no such process (cannot read " + s.stat + ")");
        }
        return s;
    }

    long pid() {
        return pid;
    }

    /** Starts the first interval. */
    void start() {
        lastTicks = ticks();
        lastNanos = System.nanoTime();
    }

    /** The share of all cores the process used since the last call; -1 when it is gone. */
    double sample() {
        long now = System.nanoTime();
        long t = ticks();
        if (t < 0 || lastTicks < 0) {
            lastTicks = t;
            lastNanos = now;
            return -1;
        }
        double seconds = (now - lastNanos) / 1e9;
        double share = seconds <= 0 ? 0 : Math.max(0, (t - lastTicks) / ticksPerSecond / seconds / cores);
        lastTicks = t;
        lastNanos = now;
        return share;
    }

    /** utime + stime of the process in clock ticks, or -1 when it cannot be read. */
    private long ticks() {
        try {
            String s = Files.readString(stat, StandardCharsets.US_ASCII);
            // The command name (field 2) is in parentheses and may hold spaces: count fields after it.
            String[] f = s.substring(s.lastIndexOf(')') + 2).trim().split(" +");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]); // fields 14 and 15
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** The kernel's clock ticks per second ({@code getconf CLK_TCK}); 100, Linux's usual, when unknown. */
    private static double clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            if (p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0) {
                return Double.parseDouble(out);
            }
        } catch (IOException | RuntimeException e) {
            // the usual value below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 100;
    }

    /** The machine's online cores (the cpuN lines of /proc/stat), not just those loadgen may use. */
    private static int cores() {
        try {
            long n = Files.readAllLines(Path.of("/proc/stat")).stream().filter(l -> l.matches("cpu[0-9]+ .*")).count();
            if (n > 0) {
                return (int) n;
            }
        } catch (IOException | RuntimeException e) {
            // below
        }
        return Runtime.getRuntime().availableProcessors();
    }
}
