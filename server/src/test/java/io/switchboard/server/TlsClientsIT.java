package io.switchboard.server;

import io.netty.pkitesting.X509Bundle;
import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.Requests;
import io.switchboard.server.testing.TestPki;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Real clients against a node serving TLS (issue 19): curl over https (ALPN http/1.1, and plain http
 * refused), Node's {@code ws} package trusting the test CA, and headless Chromium, which trusts the
 * node's key by its SPKI pin ({@code --ignore-certificate-errors-spki-list}, Chromium's way to trust
 * one certificate without a system CA store). A test whose tool is not installed is skipped, saying
 * which, so README's test command works on a machine without them; .ci/run installs curl, nodejs,
 * npm and chromium and fails when any test was skipped, so CI runs them all. {@code ws} is
 * installed with npm into {@code target/node-ws} on first use.
 */
@Timeout(180)
class TlsClientsIT {

    private static final Path NODE_WS = Path.of("target", "node-ws");

    @TempDir
    Path dir;

    private TestPki pki;
    private X509Bundle certificate;
    private SwitchboardServer server;
    private int port;

    @BeforeEach
    void start() throws Exception {
        pki = new TestPki(dir);
        certificate = pki.issue("node", true);
        Path[] files = pki.write(certificate, "node", false);
        server = Requests.startOnLoopback(SwitchboardConfig.builder().tlsCertFile(files[0]).tlsKeyFile(files[1]));
        port = server.localAddress().getPort();
    }

    @AfterEach
    void stop() {
        server.stop().join();
    }

    @Test
    void curlGetsHealthOverHttpsWithAlpnHttp11AndIsToldOffOverPlainHttp() throws Exception {
        Result https = run(60, "curl", "-sS", "-v", "--cacert", pki.caFile().toString(),
                "https://127.0.0.1:" + port + "/health");
        assertEquals(0, https.exit, https.err);
        assertEquals("ok", https.out.strip());
        assertTrue(https.err.matches("(?s).*ALPN[:,] server accepted (to use )?http/1\\.1.*"), https.err);

        Result plain = run(60, "curl", "-sS", "-i", "http://127.0.0.1:" + port + "/health");
        assertEquals(0, plain.exit, plain.err);
        assertTrue(plain.out.startsWith("HTTP/1.1 400 Bad Request\r\n"), plain.out);
        assertTrue(plain.out.endsWith("\r\n\r\nThis port speaks TLS only: use https:// or wss://.\n"), plain.out);
    }

    @Test
    void nodesWsClientTrustingTheTestCaPublishesOverWss() throws Exception {
        Path script = resource("ws-client.js");
        Path modules = installWs();
        try (JdkClient watcher = JdkClient.connect(URI.create("wss://localhost:" + port + "/api/connect?client_name=w"),
                pki.clientContext())) {
            watcher.next();
            watcher.request(subscribe("from-node"));
            ProcessBuilder pb = new ProcessBuilder("node", script.toString(),
                    "wss://localhost:" + port + "/api/connect?client_name=node", pki.caFile().toString(), "from-node");
            pb.environment().put("NODE_PATH", modules.toAbsolutePath().toString());
            Result r = run(pb, 60);
            assertEquals(0, r.exit, r.out + r.err);
            List<String> lines = r.out.lines().toList();
            assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"node\"}}", lines.get(0));
            assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"from-node\",\"total_subscribers\":2}}", lines.get(1));
            assertEquals("{\"status\":\"ok\"}", lines.get(2));
            assertTrue(lines.get(3).endsWith("\"content\":\"hello from node\"}"), r.out);
            String delivery = watcher.next();
            assertTrue(delivery.startsWith("{\"sender\":\"node\",\"channel_name\":\"from-node\""), delivery);
        }
    }

    @Test
    void headlessChromiumTrustingTheNodesKeyTalksOverWss() throws Exception {
        Path page = resource("browser-page.html");
        String spki = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256")
                .digest(certificate.getCertificate().getPublicKey().getEncoded()));
        try (JdkClient watcher = JdkClient.connect(URI.create("wss://localhost:" + port + "/api/connect?client_name=w"),
                pki.clientContext())) {
            watcher.next();
            watcher.request(subscribe("browser"));
            Path profile = Files.createDirectories(dir.resolve("chromium-profile"));
            Process chromium;
            try {
                chromium = new ProcessBuilder("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--disable-background-networking", "--disable-component-update", "--disable-sync",
                        "--ignore-certificate-errors-spki-list=" + spki, "--user-data-dir=" + profile,
                        "--remote-debugging-port=0",
                        page.toUri() + "#wss://127.0.0.1:" + port + "/api/connect?client_name=chromium")
                        .redirectErrorStream(true).redirectOutput(dir.resolve("chromium.log").toFile()).start();
            } catch (IOException e) {
                throw notInstalled("chromium");
            }
            try {
                // Chromium's own messages, which it only sends once it got its own copy back over wss://.
                String first = watcher.next();
                assertTrue(first.startsWith("{\"sender\":\"chromium\",\"channel_name\":\"browser\""), first);
                assertTrue(first.endsWith("\"content\":\"hello from chromium\"}"), first);
                String second = watcher.next();
                assertTrue(second.endsWith("\"content\":\"chromium got its copy\"}"), second);
            } finally {
                chromium.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    /** Installs Node's {@code ws} into target/node-ws unless it is there; returns its node_modules. */
    private static Path installWs() throws Exception {
        Path modules = NODE_WS.resolve("node_modules");
        if (!Files.exists(modules.resolve("ws").resolve("package.json"))) {
            Files.createDirectories(NODE_WS);
            Result r = run(150, "npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix",
                    NODE_WS.toString(), "ws@8");
            assertEquals(0, r.exit, "npm install ws: " + r.out + r.err);
        }
        return modules;
    }

    private Path resource(String name) throws IOException {
        Path file = dir.resolve(name);
        try (InputStream in = TlsClientsIT.class.getResourceAsStream("/tls/" + name)) {
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        return file;
    }

    private record Result(int exit, String out, String err) {
    }

    /** Skips the test whose tool is missing, saying so (.ci/run installs it and fails on a skip). */
    private static RuntimeException notInstalled(String tool) {
        System.out.println("TlsClientsIT skipped a test: '" + tool + "' is not installed (apt-get install curl nodejs npm chromium)");
        Assumptions.abort(tool + " is not installed");
        return new IllegalStateException("unreachable");
    }

    private static Result run(int seconds, String... command) throws Exception {
        return run(new ProcessBuilder(command), seconds);
    }

    /** Runs {@code pb} with its output in files, so a hung tool cannot block the test past {@code seconds}. */
    private static Result run(ProcessBuilder pb, int seconds) throws Exception {
        Path out = Files.createTempFile("tls-client", ".out");
        Path err = Files.createTempFile("tls-client", ".err");
        Process p;
        try {
            p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        } catch (IOException e) {
            throw notInstalled(pb.command().get(0));
        }
        try {
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail(pb.command() + " did not finish within " + seconds + " s: " + Files.readString(out)
                        + Files.readString(err));
            }
            return new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        } finally {
            Files.delete(out);
            Files.delete(err);
        }
    }
}
