package io.switchboard.benchmarks.loadgen;

import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.SwitchboardServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * loadgen over wss:// (issue 19) against a node serving TLS: trusting the node's CA with
 * {@code --ca-file}, or anything with {@code --insecure}; a certificate it does not trust fails the run.
 */
@Timeout(120)
class LoadGenTlsIT {

    @TempDir
    Path dir;

    @Test
    void loadsANodeOverWss() throws Exception {
        Instant now = Instant.now();
        X509Bundle ca = new CertificateBuilder().subject("CN=loadgen test CA").setIsCertificateAuthority(true)
                .notBefore(now.minus(1, ChronoUnit.DAYS)).notAfter(now.plus(1, ChronoUnit.DAYS)).ecp256().buildSelfSigned();
        X509Bundle cert = new CertificateBuilder().subject("CN=node").addSanIpAddress("127.0.0.1")
                .addSanDnsName("localhost").notBefore(now.minus(1, ChronoUnit.DAYS))
                .notAfter(now.plus(1, ChronoUnit.DAYS)).ecp256().buildIssuedBy(ca);
        Path caFile = Files.writeString(dir.resolve("ca.pem"), ca.getCertificatePEM());
        Path certFile = Files.writeString(dir.resolve("node.crt"), cert.getCertificatePathPEM());
        Path keyFile = Files.writeString(dir.resolve("node.key"), cert.getPrivateKeyPEM());
        SwitchboardServer server = SwitchboardServer.create(SwitchboardConfig.builder().host("127.0.0.1").port(0)
                .maxMessagesPerSecond(0).tlsCertFile(certFile).tlsKeyFile(keyFile).build());
        server.start().join();
        try {
            String url = "wss://localhost:" + server.localAddress().getPort() + "/api/connect";
            String[] load = {"--subscribers", "20", "--channels", "2", "--publishers", "2", "--rate", "100",
                    "--duration", "2", "--warmup", "0", "--no-progress"};
            LoadGenIT.assertDeliveredAll(LoadGenIT.runOk(LoadGenIT.concat(load, "--url", url, "--ca-file",
                    caFile.toString(), "--channel-prefix", "tls-ca")));
            LoadGenIT.assertDeliveredAll(LoadGenIT.runOk(LoadGenIT.concat(load, "--url", url, "--insecure",
                    "--channel-prefix", "tls-insecure")));

            LoadGenIT.Run untrusted = LoadGenIT.run(LoadGenIT.concat(load, "--url", url, "--channel-prefix", "tls-no"));
            assertEquals(1, untrusted.exit, untrusted.all());
            assertTrue(untrusted.err.contains("SSLHandshakeException"), untrusted.err);

            LoadGenIT.Run both = LoadGenIT.run("--url", url, "--insecure", "--ca-file", caFile.toString());
            assertEquals(2, both.exit, both.all());
            assertTrue(both.err.contains("loadgen: --ca-file and --insecure: choose one"), both.err);
        } finally {
            server.stop().join();
        }
    }
}
