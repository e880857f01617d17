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
    private Path log;

    private RedisProcess(Path binary, int port, List<String> extraArgs) {
        this.binary = binary;
        this.port = port;
        this.extraArgs = extraArgs;
    }

    /**
     * Starts a Redis server on a free port, with {@code extraArgs} (e.g. {@code --requirepass pw}).
     * Redis cannot bind port 0 (there it means "no TCP"), so the port is one that was free a moment
     * before; when another process took it in between, redis-server exits saying so, and the next
     * free port is tried: the cause is known and checked, not guessed from a timeout.
     */
    public static RedisProcess start(String... extraArgs) {
        Path binary = binary();
        for (int attempt = 1; ; attempt++) {
            RedisProcess redis = new RedisProcess(binary, freePort(), List.of(extraArgs));
            try {
                redis.startAgain();
                return redis;
            } catch (PortTakenException e) {
                if (attempt == 5) {
                    throw e;
                }
            }
        }
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
            log = Files.createTempFile("redis-" + port + "-", ".log");
            log.toFile().deleteOnExit();
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("could not start " + binary, e);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!answersPing()) {
            if (!process.isAlive() || System.nanoTime() > deadline) {
                String output = output();
                process.destroyForcibly();
                if (output.contains("Address already in use")) {
                    throw new PortTakenException("port " + port + " was taken: " + output);
                }
                throw new IllegalStateException("redis-server did not come up on port " + port + ": " + output);
            }
            sleep(20); // polls the process's state; the outcome is decided by PING or its exit
        }
    }

    private String output() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    /** redis-server exited because another process holds its port. */
    private static final class PortTakenException extends IllegalStateException {
        PortTakenException(String message) {
            super(message);
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
            s.setSoTimeout(10_000); // a bound on a broken server, not the end of the reply
            s.getOutputStream().write(request.toString().getBytes(StandardCharsets.UTF_8));
            java.io.ByteArrayOutputStream reply = new java.io.ByteArrayOutputStream();
            readValue(new java.io.BufferedInputStream(s.getInputStream()), reply);
            return reply.toString(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Copies one whole RESP2 value from {@code in} to {@code out}: its type and length say where it
     * ends, so the reply is complete however the server's packets arrive.
     */
    private static void readValue(InputStream in, java.io.ByteArrayOutputStream out) throws IOException {
        String line = readLine(in, out);
        char type = line.charAt(0);
        if (type == '$') {
            int length = Integer.parseInt(line.substring(1));
            if (length >= 0) {
                out.write(in.readNBytes(length + 2)); // the bytes and their CRLF
            }
        } else if (type == '*') {
            int count = Integer.parseInt(line.substring(1));
            for (int i = 0; i < count; i++) {
                readValue(in, out);
            }
        } else if (type != '+' && type != '-' && type != ':') {
            throw new IOException("not a RESP2 reply: " + line);
        }
    }

    /** Reads up to and including CRLF into {@code out}; returns the line without it. */
    private static String readLine(InputStream in, java.io.ByteArrayOutputStream out) throws IOException {
        StringBuilder line = new StringBuilder();
        for (int b; (b = in.read()) != '\n'; ) {
            if (b < 0) {
                throw new IOException("Redis closed the connection mid-reply: " + out.toString(StandardCharsets.UTF_8));
            }
            out.write(b);
            if (b != '\r') {
                line.append((char) b);
            }
        }
        out.write('\n');
        return line.toString();
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
