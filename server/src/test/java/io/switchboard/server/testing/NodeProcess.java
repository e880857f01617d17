package io.switchboard.server.testing;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The runnable jar ({@code target/switchboard.jar}) as a process of its own, on 127.0.0.1 and an
 * ephemeral port: a node a test can kill with SIGKILL ({@link #kill}), which an in-process node
 * cannot show. Its output is drained so it never blocks on a full pipe.
 */
public final class NodeProcess implements AutoCloseable {

    private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+) ");

    private final Process process;
    private final int port;

    private NodeProcess(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts the jar with {@code args} (options as {@code --help} lists them) and waits until it listens. */
    public static NodeProcess start(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("java", "-jar", Path.of("target", "switchboard.jar").toString(),
                "--app-host", "127.0.0.1", "--app-port", "0", "--line-port", "0"));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            return new NodeProcess(p, portOf(p));
        } catch (Exception | AssertionError e) {
            p.destroyForcibly();
            throw e;
        }
    }

    /** The port the node's application listens on, read from its log; the rest of the log is drained. */
    public static int portOf(Process p) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        for (String line; (line = out.readLine()) != null; ) {
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
                Thread drain = new Thread(() -> {
                    try {
                        while (out.readLine() != null) {
                            // keep the pipe from filling
                        }
                    } catch (Exception ignored) {
                        // the process is gone
                    }
                });
                drain.setDaemon(true);
                drain.start();
                return Integer.parseInt(m.group(1));
            }
        }
        throw new AssertionError("the node exited before listening");
    }

    public int port() {
        return port;
    }

    /**
     * Waits until the node's {@code /health} answers 200: in a cluster, until it has joined (a
     * subscribe before that is answered at once and misses what other nodes publish meanwhile).
     */
    public NodeProcess awaitHealthy() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest health = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (http.send(health, HttpResponse.BodyHandlers.discarding()).statusCode() != 200) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the node on port " + port + " is not healthy within 20 s");
            }
            Thread.sleep(20);
        }
        return this;
    }

    /** SIGKILL: no goodbye, no cleanup; returns once the process is gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly().waitFor();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
