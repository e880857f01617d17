package io.switchboard.server;

import io.netty.channel.uring.IoUring;
import io.switchboard.server.testing.JdkClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The runnable jar as a user runs it: flags, exit codes, startup line, SIGTERM. */
@Timeout(60)
class MainIT {

    private static final Path JAR = Path.of("target", "switchboard.jar");
    private static final Pattern LISTENING = Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+) \\((epoll|io_uring|nio), ");

    @Test
    void printsHelpAndVersion() throws Exception {
        Result help = run("--help");
        assertEquals(0, help.exit);
        assertTrue(help.out.startsWith("Usage: java -jar switchboard.jar"), help.out);
        assertTrue(help.out.contains("--app-port PORT"), help.out);
        Result version = run("--version");
        assertEquals(0, version.exit);
        assertTrue(version.out.matches("switchboard \\S+\\n"), version.out);
    }

    @Test
    void refusesAnUnknownFlagWithExitCode2() throws Exception {
        Result r = run("--bogus");
        assertEquals(2, r.exit);
        assertEquals("switchboard: unknown option '--bogus'\nRun with --help to list the options.\n", r.out);
        r = run("--app-port", "x");
        assertEquals(2, r.exit);
        assertTrue(r.out.startsWith("switchboard: --app-port x: 'x' is not a whole number"), r.out);
    }

    @Test
    void refusesAnExplicitTransportThatCannotLoadWithExitCode2() throws Exception {
        // Netty's own switch makes every native transport unavailable, whatever this kernel allows.
        for (String transport : List.of("io_uring", "epoll")) {
            Result r = runWith(List.of("-Dio.netty.transport.noNative=true"), "--app-port", "0", "--line-port", "0",
                    "--transport", transport);
            assertEquals(2, r.exit, r.out);
            assertTrue(r.out.startsWith("switchboard: TRANSPORT=" + transport + " cannot load here: "), r.out);
            assertTrue(r.out.contains("(auto picks epoll where it loads, NIO otherwise)"), r.out);
        }
    }

    @Test
    void runsIoUringFromTheRunnableJar() throws Exception {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring does not load here: " + IoUring.unavailabilityCause());
        Process p = new ProcessBuilder("java", "-jar", JAR.toString(), "--app-host", "127.0.0.1", "--app-port", "0",
                "--line-port", "0", "--transport", "io_uring").redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line;
            List<String> seen = new ArrayList<>();
            while ((line = out.readLine()) != null && !LISTENING.matcher(line).find()) {
                seen.add(line);
            }
            assertNotNull(line, "the process ended before its startup line: " + seen);
            assertTrue(line.contains("(io_uring, "), line);
        } finally {
            p.destroyForcibly();
            p.waitFor(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void startsAndSaysGoodbyeWith1001OnSigterm() throws Exception {
        assertTrue(Files.exists(JAR), "the shaded jar is built in the package phase");
        Process p = new ProcessBuilder("java", "-jar", JAR.toString(), "--app-host", "127.0.0.1", "--app-port", "0",
                "--line-port", "0", "--app-environment", "test").redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String line;
            Matcher m = null;
            List<String> seen = new ArrayList<>();
            while ((line = out.readLine()) != null) {
                seen.add(line);
                m = LISTENING.matcher(line);
                if (m.find()) {
                    break;
                }
            }
            assertNotNull(line, "the process ended before its startup line: " + seen);
            assertTrue(line.contains("(test)"), line);
            InetSocketAddress address = new InetSocketAddress("127.0.0.1", Integer.parseInt(m.group(1)));
            try (JdkClient client = JdkClient.connectAs(address, "leaver")) {
                p.destroy(); // SIGTERM
                assertEquals(1001, client.awaitClose());
                assertEquals("Server shutting down", client.closeReason());
            }
            assertTrue(p.waitFor(20, TimeUnit.SECONDS), "exits within the shutdown timeout");
            assertEquals(143, p.exitValue(), "the JVM's exit code after SIGTERM");
        } finally {
            p.destroyForcibly();
        }
    }

    private record Result(int exit, String out) {
    }

    private static Result run(String... args) throws IOException, InterruptedException {
        return runWith(List.of(), args);
    }

    private static Result runWith(List<String> jvmArgs, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("java"));
        command.addAll(jvmArgs);
        command.addAll(List.of("-jar", JAR.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return new Result(p.exitValue(), out);
    }
}
