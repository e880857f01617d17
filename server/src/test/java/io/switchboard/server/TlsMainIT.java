package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.TestPki;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.switchboard.server.testing.Requests.countOf;
import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The runnable jar serving TLS (issue 19): it carries netty-tcnative, so {@code auto} serves with
 * OpenSSL; SIGHUP reloads the certificate without stopping the node or dropping a connection; an
 * OpenSSL that cannot load, or files it cannot serve, stop the start with exit code 2.
 */
@Timeout(90)
class TlsMainIT {

    private static final Path JAR = Path.of("target", "switchboard.jar");
    private static final Pattern LISTENING = Pattern.compile(
            "listening on 127\\.0\\.0\\.1:(\\d+) \\(\\w+, \\d+ event loops, TLS only: https:// and wss://, TLS_PROVIDER (\\w+)\\)");

    @TempDir
    Path dir;

    @Test
    void servesWithOpenSslAndReloadsOnSighup() throws Exception {
        TestPki pki = new TestPki(dir);
        Path[] files = pki.write(pki.issue("first", true), "node", false);
        Process p = new ProcessBuilder("java", "-jar", JAR.toString(), "--app-host", "127.0.0.1", "--app-port", "0",
                "--line-port", "0", "--data-dir", dir.resolve("data").toString(),
                "--tls-cert-file", files[0].toString(), "--tls-key-file", files[1].toString())
                .redirectErrorStream(true).start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            Matcher m = awaitLine(out, LISTENING);
            assertEquals("openssl", m.group(2), "auto serves with OpenSSL from the runnable jar");
            int port = Integer.parseInt(m.group(1));
            assertEquals("CN=first", pki.servedSubject(port));
            try (JdkClient open = JdkClient.connect(URI.create("wss://localhost:" + port + "/api/connect?client_name=a"),
                    pki.clientContext())) {
                open.next();
                open.request(subscribe("stay"));
                pki.write(pki.issue("second", true), "node", false);
                Process hup = new ProcessBuilder("kill", "-HUP", Long.toString(p.pid())).start();
                assertEquals(0, hup.waitFor());
                awaitLine(out, Pattern.compile("TLS certificate reloaded from "));
                assertEquals("CN=second", pki.servedSubject(port));
                assertTrue(p.isAlive(), "SIGHUP does not stop the node");
                assertEquals(1, countOf(open, "stay"), "the open connection lives on");
            }
        } finally {
            p.destroy();
            p.waitFor(30, TimeUnit.SECONDS);
            p.destroyForcibly();
        }
    }

    @Test
    void refusesToStartWithExitCode2WhenOpenSslCannotLoadOrTheFilesCannotBeServed() throws Exception {
        TestPki pki = new TestPki(dir);
        Path[] files = pki.write(pki.issue("node", true), "node", false);
        Result r = run(List.of("-Dio.netty.handler.ssl.noOpenSsl=true"), "--tls-cert-file", files[0].toString(),
                "--tls-key-file", files[1].toString(), "--tls-provider", "openssl");
        assertEquals(2, r.exit, r.out);
        assertTrue(r.out.startsWith("switchboard: TLS_PROVIDER=openssl cannot load here: "), r.out);

        Path other = pki.write(pki.issue("other", true), "other", false)[1];
        r = run(List.of(), "--tls-cert-file", files[0].toString(), "--tls-key-file", other.toString());
        assertEquals(2, r.exit, r.out);
        assertEquals("switchboard: TLS_KEY_FILE " + other + " is not the key of the first certificate of TLS_CERT_FILE "
                + files[0] + " (CN=node)\n", r.out);

        r = run(List.of(), "--tls-cert-file", files[0].toString());
        assertEquals(2, r.exit, r.out);
        assertTrue(r.out.startsWith("switchboard: tlsCertFile (TLS_CERT_FILE): " + files[0]
                + " without tlsKeyFile (TLS_KEY_FILE); expected: both, or neither\n"), r.out);
    }

    private static Matcher awaitLine(BufferedReader out, Pattern pattern) throws Exception {
        List<String> seen = new ArrayList<>();
        String line;
        while ((line = out.readLine()) != null) {
            Matcher m = pattern.matcher(line);
            if (m.find()) {
                return m;
            }
            seen.add(line);
        }
        assertNotNull(line, "the process ended before a line matching " + pattern + ": " + seen);
        return null;
    }

    private record Result(int exit, String out) {
    }

    private Result run(List<String> jvmArgs, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("java"));
        command.addAll(jvmArgs);
        command.addAll(List.of("-jar", JAR.toString(), "--app-host", "127.0.0.1", "--app-port", "0", "--line-port", "0",
                "--data-dir", dir.resolve("data").toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(Duration.ofSeconds(60).toSeconds(), TimeUnit.SECONDS));
        return new Result(p.exitValue(), out);
    }
}
