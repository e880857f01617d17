package io.switchboard.server.testing;

import org.junit.jupiter.api.Assumptions;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A Node.js {@code ws} client (the npm package, installed once per build under
 * {@code target/node-ws}), driven through {@code src/test/resources/compression/ws-client.cjs}:
 * commands go in as JSON lines, events come out as JSON lines. It offers permessage-deflate and
 * compresses everything it sends. Waits are bounded ({@link JdkClient#WAIT}).
 */
public final class NodeWsClient implements AutoCloseable {

    /** The ws release the tests run against. */
    private static final String WS = "ws@8.18.3";
    private static final Path PREFIX = Path.of("target", "node-ws").toAbsolutePath();
    private static final Path SCRIPT = Path.of("src", "test", "resources", "compression", "ws-client.cjs").toAbsolutePath();

    private final Process process;
    private final Writer in;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

    private NodeWsClient(String url) throws IOException {
        ProcessBuilder pb = new ProcessBuilder("node", SCRIPT.toString(), url).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put("NODE_PATH", PREFIX.resolve("node_modules").toString());
        process = pb.start();
        in = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("{\"event\":\"error\",\"message\":\"" + e.getMessage() + "\"}");
            }
        }, "node-ws-reader");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts a client of {@code url}; installs {@code ws} with npm the first time. Aborts the test (a
     * skip, with the reason printed) where {@code node} or {@code npm} is not installed; fails when
     * npm cannot install the package.
     */
    public static NodeWsClient connect(String url) throws IOException, InterruptedException {
        install();
        return new NodeWsClient(url);
    }

    private static synchronized void install() throws IOException, InterruptedException {
        if (Files.isDirectory(PREFIX.resolve("node_modules").resolve("ws"))) {
            return;
        }
        for (String tool : List.of("node", "npm")) {
            if (!runs(tool)) {
                System.out.println("Node ws tests skipped: '" + tool + "' is not installed (apt-get install nodejs npm)");
                Assumptions.abort(tool + " is not installed");
            }
        }
        Files.createDirectories(PREFIX);
        Process npm = new ProcessBuilder(List.of("npm", "install", "--no-audit", "--no-fund", "--prefix", PREFIX.toString(), WS))
                .redirectErrorStream(true).start();
        String output = new String(npm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!npm.waitFor(5, TimeUnit.MINUTES) || npm.exitValue() != 0) {
            throw new IOException("npm install " + WS + " failed: " + output);
        }
    }

    private static boolean runs(String tool) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(tool, "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    /** Sends one JSON command line (see the script). */
    public void command(String json) {
        try {
            in.write(json + "\n");
            in.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The next event line; fails after {@link JdkClient#WAIT}. */
    public String next() throws InterruptedException {
        String line = lines.poll(JdkClient.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        if (line == null) {
            throw new AssertionError("no event from the node ws client within " + JdkClient.WAIT);
        }
        return line;
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
