package io.switchboard.server.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;

/**
 * A real Redis server for cluster tests, on 127.0.0.1 and a free port: a {@code redis-server} on
 * PATH when there is one, otherwise the Linux binary shipped in the
 * {@code com.github.codemonstur:embedded-redis} jar (a test dependency), so a fresh machine needs
 * nothing installed. Nothing is persisted. Can be stopped and started again on the same port.
 */
public final class RedisProcess implements AutoCloseable {

    private static final String SHIPPED_BINARY = "/redis-server-6.2.6-v5-linux-amd64";

    private final Path binary;
    private final int port;
    private final List<String> extraArgs;
    private Process process;

    private RedisProcess(Path binary, int port, List<String> extraArgs) {
        this.binary = binary;
        this.port = port;
        this.extraArgs = extraArgs;
    }

    /** Starts a Redis server on a free port, with {@code extraArgs} (e.g. {@code --requirepass pw}). */
    public static RedisProcess start(String... extraArgs) {
        RedisProcess redis = new RedisProcess(binary(), freePort(), List.of(extraArgs));
        redis.startAgain();
        return redis;
    }

    public int port() {
        return port;
    }

    /** {@code 127.0.0.1:port}, as {@code REDIS_ENDPOINT} takes it. */
    public String endpoint() {
        return "127.0.0.1:" + port;
    }

    /** Starts the server (again, after {@link #stop()}) and waits until it answers PING. */
    public synchronized void startAgain() {
        if (process != null && process.isAlive()) {
            return;
        }
        try {
            List<String> command = new java.util.ArrayList<>(List.of(binary.toString(), "--port", Integer.toString(port),
                    "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"));
            command.addAll(extraArgs);
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + binary, e);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!answersPing()) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("redis-server did not come up on port " + port);
            }
            sleep(20);
        }
    }

    /** Kills the server at once; clients see their connections drop. */
    public synchronized void stop() {
        if (process != null) {
            process.destroyForcibly();
            try {
                process.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void close() {
        stop();
    }

    /**
     * Sends one command (arguments without spaces) and returns Redis's raw reply, e.g.
     * {@code "*2\r\n$5\r\nroom\r\n:1\r\n"} for {@code PUBSUB NUMSUB room}.
     */
    public String command(String... args) {
        StringBuilder request = new StringBuilder().append('*').append(args.length).append("\r\n");
        for (String a : args) {
            request.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n").append(a).append("\r\n");
        }
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(200);
            s.getOutputStream().write(request.toString().getBytes(StandardCharsets.UTF_8));
            StringBuilder reply = new StringBuilder();
            byte[] buf = new byte[4096];
            try {
                for (int n; (n = s.getInputStream().read(buf)) > 0; ) {
                    reply.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                }
            } catch (java.net.SocketTimeoutException e) {
                // the whole reply is in: Redis answers at once
            }
            return reply.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The number of Redis connections subscribed to {@code channel} ({@code PUBSUB NUMSUB}). */
    public int subscribersOf(String channel) {
        String reply = command("PUBSUB", "NUMSUB", channel);
        return Integer.parseInt(reply.substring(reply.lastIndexOf(':') + 1).trim());
    }

    private boolean answersPing() {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(1000);
            s.getOutputStream().write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
            byte[] reply = s.getInputStream().readNBytes(7);
            String answer = new String(reply, StandardCharsets.US_ASCII);
            return answer.equals("+PONG\r\n") || answer.startsWith("-NOAUTH");
        } catch (IOException e) {
            return false;
        }
    }

    private static Path binary() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir, "redis-server");
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        try (InputStream in = RedisProcess.class.getResourceAsStream(SHIPPED_BINARY)) {
            if (in == null) {
                throw new IllegalStateException("no redis-server on PATH and no " + SHIPPED_BINARY
                        + " in the embedded-redis jar");
            }
            Path file = Files.createTempFile("redis-server", "");
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            if (!file.toFile().setExecutable(true)) {
                throw new IllegalStateException("cannot make " + file + " executable");
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
