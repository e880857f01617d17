package io.switchboard.server;

import io.netty.pkitesting.X509Bundle;
import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.RawClient;
import io.switchboard.server.testing.Requests;
import io.switchboard.server.testing.TestPki;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import static io.switchboard.server.testing.Requests.awaitCount;
import static io.switchboard.server.testing.Requests.countOf;
import static io.switchboard.server.testing.Requests.publish;
import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TLS on the node's port (issue 19), with each provider: wss:// and https:// with the JDK's clients,
 * TLS 1.2 and 1.3 with ALPN http/1.1, both key formats, what a TLS port refuses (plain HTTP, an SSLv3
 * or TLS 1.0 hello, a handshake that never completes), a slow reader cut off as on a plain port, and
 * certificates replaced under a running node. Certificates are made per test ({@link TestPki}).
 */
@Timeout(120)
class TlsIT {

    @TempDir
    Path dir;

    private SwitchboardServer start(TestPki pki, TlsProvider provider, boolean pkcs1,
                                    SwitchboardConfig.Builder config) throws Exception {
        Path[] files = pki.write(pki.issue("node", true), "node", pkcs1);
        return Requests.startOnLoopback(config.tlsCertFile(files[0]).tlsKeyFile(files[1]).tlsProvider(provider));
    }

    private static URI wss(SwitchboardServer server, String target) {
        return URI.create("wss://localhost:" + server.localAddress().getPort() + target);
    }

    @ParameterizedTest
    @EnumSource(value = TlsProvider.class, names = {"JDK", "OPENSSL"})
    void servesWssAndHttpsOnItsPort(TlsProvider provider) throws Exception {
        TestPki pki = new TestPki(dir);
        try (SwitchboardServer server = start(pki, provider, false, SwitchboardConfig.builder())) {
            assertEquals(provider.name().toLowerCase(java.util.Locale.ROOT), server.tlsProviderName());
            SSLContext trust = pki.clientContext();
            try (JdkClient ann = JdkClient.connect(wss(server, "/api/connect?client_name=Ann"), trust);
                 JdkClient bob = JdkClient.connect(wss(server, "/api/connect?client_name=Bob"), trust)) {
                assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"Ann\"}}", ann.next());
                bob.next();
                ann.request(subscribe("news"));
                bob.request(subscribe("news"));
                assertEquals("{\"status\":\"ok\"}", ann.request(publish("news", "\"over tls\"")));
                assertTrue(ann.next().contains("\"content\":\"over tls\""));
                String delivery = bob.next();
                assertTrue(delivery.startsWith("{\"sender\":\"Ann\",\"channel_name\":\"news\""), delivery);
            }
            HttpResponse<String> health = HttpClient.newBuilder().sslContext(trust).build()
                    .send(HttpRequest.newBuilder(URI.create("https://localhost:" + server.localAddress().getPort()
                            + "/health")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            String metrics = metrics(server, trust);
            // Ann, Bob, GET /health and this GET /metrics itself
            assertTrue(metrics.contains("\nswitchboard_tls_handshakes_total 4.0\n"), metrics);
        }
    }

    @ParameterizedTest
    @EnumSource(value = TlsProvider.class, names = {"JDK", "OPENSSL"})
    void speaksTls12AndTls13WithAlpnHttp11AndReadsPkcs1Keys(TlsProvider provider) throws Exception {
        TestPki pki = new TestPki(dir);
        try (SwitchboardServer server = start(pki, provider, true, SwitchboardConfig.builder())) {
            int port = server.localAddress().getPort();
            for (String version : new String[] {"TLSv1.2", "TLSv1.3"}) {
                try (SSLSocket s = pki.connect(port, 0, version); RawClient ws = new RawClient(s)) {
                    assertEquals(version, s.getSession().getProtocol());
                    assertEquals("http/1.1", s.getApplicationProtocol());
                    assertTrue(ws.upgrade("/api/connect?client_name=v").startsWith("HTTP/1.1 101 "));
                    assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"v\"}}", ws.readText());
                }
            }
        }
    }

    @Test
    void servesAnEcKey() throws Exception {
        TestPki pki = new TestPki(dir);
        Path[] files = pki.write(pki.issue("ec-node", false), "ec", false);
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder()
                .tlsCertFile(files[0]).tlsKeyFile(files[1]))) {
            assertEquals("CN=ec-node", pki.servedSubject(server.localAddress().getPort()));
        }
    }

    @ParameterizedTest
    @EnumSource(value = TlsProvider.class, names = {"JDK", "OPENSSL"})
    void answersAPlainHttpRequestWith400AndCloses(TlsProvider provider) throws Exception {
        TestPki pki = new TestPki(dir);
        try (SwitchboardServer server = start(pki, provider, false, SwitchboardConfig.builder());
             RawClient plain = new RawClient(server.localAddress())) {
            plain.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            String head = plain.readHead();
            assertTrue(head.startsWith("HTTP/1.1 400 Bad Request\r\n"), head);
            assertEquals("This port speaks TLS only: use https:// or wss://.\n", plain.readToEnd());
            assertTrue(metrics(server, pki.clientContext())
                    .contains("\nswitchboard_tls_handshake_failures_total{reason=\"not_tls\"} 1.0\n"));
        }
    }

    /** An SSLv3 or TLS 1.0 ClientHello, as an old client sends it: answered with alert 70 (protocol_version). */
    @ParameterizedTest
    @EnumSource(value = TlsProvider.class, names = {"JDK", "OPENSSL"})
    void refusesSsl3AndTls10Hellos(TlsProvider provider) throws Exception {
        TestPki pki = new TestPki(dir);
        try (SwitchboardServer server = start(pki, provider, false, SwitchboardConfig.builder())) {
            for (int minor : new int[] {0, 1}) {
                try (Socket s = new Socket("127.0.0.1", server.localAddress().getPort())) {
                    s.setSoTimeout((int) JdkClient.WAIT.toMillis());
                    s.getOutputStream().write(clientHello(minor));
                    byte[] answer = s.getInputStream().readAllBytes();
                    assertTrue(answer.length >= 7, "an alert record, got " + answer.length + " bytes");
                    assertEquals(0x15, answer[0], "an alert record (SSL 3." + minor + ")");
                    assertEquals(2, answer[5], "a fatal alert");
                    assertEquals(70, answer[6], "protocol_version");
                }
            }
            assertTrue(metrics(server, pki.clientContext())
                    .contains("\nswitchboard_tls_handshake_failures_total{reason=\"protocol\"} 2.0\n"));
        }
    }

    @ParameterizedTest
    @EnumSource(value = TlsProvider.class, names = {"JDK", "OPENSSL"})
    void closesAHandshakeThatNeverCompletesAtTheHandshakeTimeout(TlsProvider provider) throws Exception {
        TestPki pki = new TestPki(dir);
        try (SwitchboardServer server = start(pki, provider, false, SwitchboardConfig.builder()
                .handshakeTimeout(Duration.ofMillis(300)));
             Socket s = new Socket("127.0.0.1", server.localAddress().getPort())) {
            s.setSoTimeout((int) JdkClient.WAIT.toMillis());
            byte[] hello = clientHello(3);
            OutputStream out = s.getOutputStream();
            out.write(hello, 0, hello.length / 2); // half a ClientHello, then nothing
            out.flush();
            InputStream in = s.getInputStream();
            assertEquals(-1, in.read(), "closed by the node, nothing sent");
            assertTrue(metrics(server, pki.clientContext())
                    .contains("\nswitchboard_tls_handshake_failures_total{reason=\"timeout\"} 1.0\n"));
        }
    }

    @Test
    void countsAClientThatRefusesTheCertificateAndOneThatLeavesMidHandshake() throws Exception {
        TestPki pki = new TestPki(dir);
        try (SwitchboardServer server = start(pki, TlsProvider.JDK, false, SwitchboardConfig.builder())) {
            int port = server.localAddress().getPort();
            // The JDK's own trust store does not know the test CA: the client says so with an alert.
            try (SSLSocket s = (SSLSocket) SSLContext.getDefault().getSocketFactory().createSocket("127.0.0.1", port)) {
                assertThrows(javax.net.ssl.SSLHandshakeException.class, s::startHandshake);
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                byte[] hello = clientHello(3);
                s.getOutputStream().write(hello, 0, hello.length / 2);
                s.getOutputStream().flush();
            }
            awaitMetric(server, pki.clientContext(), "switchboard_tls_handshake_failures_total{reason=\"handshake\"} 1.0");
            awaitMetric(server, pki.clientContext(), "switchboard_tls_handshake_failures_total{reason=\"closed\"} 1.0");
        }
    }

    /** Waits, at most {@link JdkClient#WAIT}, for {@code line} in the metrics: the node counts after the client is gone. */
    private static void awaitMetric(SwitchboardServer server, SSLContext trust, String line) throws Exception {
        String metrics = metrics(server, trust);
        for (long end = System.nanoTime() + JdkClient.WAIT.toNanos();
             !metrics.contains("\n" + line + "\n") && System.nanoTime() < end; metrics = metrics(server, trust)) {
            Thread.sleep(20);
        }
        assertTrue(metrics.contains("\n" + line + "\n"), metrics);
    }

    /**
     * SlowConsumerIT over TLS: the SslHandler sits nearer the socket than Backpressure, and what it
     * holds, plaintext or encrypted, counts against the limits, so a TLS subscriber that never reads
     * is closed at the hard limit while the others get everything.
     */
    @ParameterizedTest
    @EnumSource(value = TlsProvider.class, names = {"JDK", "OPENSSL"})
    void closesASlowTlsReaderAndTheOthersGetEverything(TlsProvider provider) throws Exception {
        TestPki pki = new TestPki(dir);
        try (SwitchboardServer server = start(pki, provider, false, SwitchboardConfig.builder()
                .maxMessagesPerSecond(0).outboundSoftLimitBytes(64 * 1024).outboundHardLimitBytes(2 * 1024 * 1024))) {
            SSLContext trust = pki.clientContext();
            try (RawClient slow = slowSubscriber(pki, server);
                 JdkClient fast = JdkClient.connect(wss(server, "/api/connect?client_name=fast"), trust);
                 JdkClient publisher = JdkClient.connect(wss(server, "/api/connect?client_name=pub"), trust)) {
                fast.next();
                publisher.next();
                fast.request(subscribe("flood"));
                publisher.request(subscribe("flood"));
                assertEquals(3, countOf(publisher, "flood"));
                SlowConsumerIT.flood(publisher, fast);
                awaitCount(publisher, "flood", 2);
                assertTrue(metrics(server, trust).contains("\nswitchboard_closes_total{reason=\"slow_consumer\"} 1.0\n"));
            }
        }
    }

    /** The drop policy over TLS: what waits for the reader that never reads stays near the soft limit. */
    @Test
    void boundsWhatASlowTlsReaderHoldsUnderTheDropPolicy() throws Exception {
        TestPki pki = new TestPki(dir);
        try (SwitchboardServer server = start(pki, TlsProvider.JDK, false, SwitchboardConfig.builder()
                .maxMessagesPerSecond(0).slowConsumerPolicy(SlowConsumerPolicy.DROP))) {
            SSLContext trust = pki.clientContext();
            try (RawClient slow = slowSubscriber(pki, server);
                 JdkClient publisher = JdkClient.connect(wss(server, "/api/connect?client_name=pub"), trust)) {
                publisher.next();
                publisher.request(subscribe("flood"));
                SlowConsumerIT.flood(publisher, null);
                awaitCount(publisher, "flood", 2);
                String metrics = metrics(server, trust);
                long pending = (long) Double.parseDouble(value(metrics, "switchboard_outbound_pending_bytes"));
                assertTrue(pending < 2 * 1024 * 1024, pending + " bytes pending");
                assertTrue(Double.parseDouble(value(metrics, "switchboard_drops_total")) > 1000, metrics);
            }
        }
    }

    /**
     * New files are picked up by the connections that come after them, by the node's check for changes
     * and by {@link SwitchboardServer#reloadTls()}; an open connection keeps its session; a key that is
     * not the certificate's is refused and the previous certificate stays.
     */
    @Test
    void newCertificatesReachNewConnectionsAndOpenOnesStay() throws Exception {
        TestPki pki = new TestPki(dir);
        try (SwitchboardServer server = start(pki, TlsProvider.JDK, false, SwitchboardConfig.builder())) {
            int port = server.localAddress().getPort();
            SSLContext trust = pki.clientContext();
            assertEquals("CN=node", pki.servedSubject(port));
            try (JdkClient open = JdkClient.connect(wss(server, "/api/connect?client_name=open"), trust)) {
                open.next();
                open.request(subscribe("stay"));

                pki.write(pki.issue("second", true), "node", false); // the files the node was started with
                String served = pki.servedSubject(port);
                for (long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                     served.equals("CN=node") && System.nanoTime() < end; served = pki.servedSubject(port)) {
                    Thread.sleep(100); // the node checks the files every 2 s
                }
                assertEquals("CN=second", served, "picked up by the check for changed files");

                X509Bundle third = pki.issue("third", true);
                pki.write(third, "node", true);
                assertTrue(server.reloadTls());
                assertEquals("CN=third", pki.servedSubject(port), "picked up at once by reloadTls()");

                // A certificate without its key (the key file not yet replaced): refused, "third" stays.
                X509Bundle fourth = pki.issue("fourth", true);
                pki.write(fourth, "fourth", false);
                java.nio.file.Files.copy(dir.resolve("fourth.crt"), dir.resolve("node.crt"),
                        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                assertFalse(server.reloadTls());
                assertEquals("CN=third", pki.servedSubject(port));

                assertEquals(1, countOf(open, "stay"), "the connection from before every reload still works");
                String metrics = metrics(server, trust);
                assertTrue(metrics.contains("\nswitchboard_tls_certificate_expiry_seconds "
                        + (double) third.getCertificate().getNotAfter().toInstant().getEpochSecond() + "\n"), metrics);
                assertTrue(metrics.contains("\nswitchboard_tls_reloads_total 2.0\n"), metrics);
                assertTrue(metrics.contains("\nswitchboard_tls_reload_failures_total 1.0\n"), metrics);
            }
        }
    }

    @Test
    void refusesToStartWithFilesItCannotServe() throws Exception {
        TestPki pki = new TestPki(dir);
        Path[] node = pki.write(pki.issue("node", true), "node", false);
        Path[] other = pki.write(pki.issue("other", true), "other", false);
        TlsUnavailableException e = assertThrows(TlsUnavailableException.class, () -> SwitchboardServer.create(
                SwitchboardConfig.builder().host("127.0.0.1").port(0).tlsCertFile(node[0]).tlsKeyFile(other[1]).build())
                .start());
        assertEquals("TLS_KEY_FILE " + other[1] + " is not the key of the first certificate of TLS_CERT_FILE "
                + node[0] + " (CN=node)", e.getMessage());
        Path missing = dir.resolve("missing.crt");
        e = assertThrows(TlsUnavailableException.class, () -> SwitchboardServer.create(
                SwitchboardConfig.builder().host("127.0.0.1").port(0).tlsCertFile(missing).tlsKeyFile(node[1]).build())
                .start());
        assertTrue(e.getMessage().startsWith("TLS_CERT_FILE " + missing + ": cannot read it: "), e.getMessage());
        IllegalArgumentException half = assertThrows(IllegalArgumentException.class,
                () -> SwitchboardConfig.builder().tlsCertFile(node[0]).build());
        assertTrue(half.getMessage().startsWith("tlsCertFile (TLS_CERT_FILE): "), half.getMessage());
    }

    /** An embedder's own context, through the server builder: Switchboard places it and counts its handshakes. */
    @Test
    void servesAnEmbeddersOwnSslContext() throws Exception {
        TestPki pki = new TestPki(dir);
        X509Bundle cert = pki.issue("embedded", true);
        io.netty.handler.ssl.SslContext context = io.netty.handler.ssl.SslContextBuilder
                .forServer(cert.getKeyPair().getPrivate(), cert.getCertificatePath()).build();
        Switchboard switchboard = Switchboard.create(SwitchboardConfig.builder().host("127.0.0.1").port(0).build());
        try (SwitchboardServer server = SwitchboardServer.builder(switchboard).sslContext(() -> context).build()) {
            server.start().join();
            assertEquals("supplied", server.tlsProviderName());
            try (JdkClient c = JdkClient.connect(wss(server, "/api/connect?client_name=e"), pki.clientContext())) {
                assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"e\"}}", c.next());
            }
            assertTrue(metrics(server, pki.clientContext()).contains("\nswitchboard_tls_handshakes_total 2.0\n"));
        } finally {
            switchboard.close();
        }
    }

    /** Subscribes over TLS with a 4 KB receive buffer and from then on never reads. */
    private static RawClient slowSubscriber(TestPki pki, SwitchboardServer server) throws Exception {
        RawClient raw = new RawClient(pki.connect(server.localAddress().getPort(), 4096));
        assertTrue(raw.upgrade("/api/connect?client_name=slow").startsWith("HTTP/1.1 101 "));
        raw.readText();
        raw.sendText(subscribe("flood"));
        assertTrue(raw.readText().contains("\"total_subscribers\""));
        return raw;
    }

    static String metrics(SwitchboardServer server, SSLContext trust) throws Exception {
        return HttpClient.newBuilder().sslContext(trust).build().send(HttpRequest.newBuilder(URI.create(
                "https://localhost:" + server.localAddress().getPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private static String value(String metrics, String name) {
        int at = metrics.indexOf("\n" + name + " ") + name.length() + 2;
        return metrics.substring(at, metrics.indexOf('\n', at));
    }

    /**
     * A ClientHello record offering only SSL 3.{@code minor} (0: SSLv3, 1: TLS 1.0, 3: TLS 1.2) and
     * two cipher suites, without extensions: what a client that knows nothing newer sends.
     */
    static byte[] clientHello(int minor) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(3);
        body.write(minor);
        byte[] random = new byte[32];
        ThreadLocalRandom.current().nextBytes(random);
        body.writeBytes(random);
        body.write(0); // no session id
        body.writeBytes(new byte[] {0, 4, 0x00, 0x2f, 0x00, 0x35}); // TLS_RSA_WITH_AES_128_CBC_SHA, _256_
        body.writeBytes(new byte[] {1, 0}); // null compression
        byte[] b = body.toByteArray();
        ByteArrayOutputStream record = new ByteArrayOutputStream();
        record.writeBytes(new byte[] {0x16, 3, (byte) Math.min(minor, 1)});
        int handshakeLength = b.length + 4;
        record.write(handshakeLength >>> 8);
        record.write(handshakeLength);
        record.writeBytes(new byte[] {1, 0, (byte) (b.length >>> 8), (byte) b.length});
        record.writeBytes(b);
        return record.toByteArray();
    }
}
