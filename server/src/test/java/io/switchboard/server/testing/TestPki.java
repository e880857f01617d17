package io.switchboard.server.testing;

import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;

import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * A throwaway certificate authority for one test (Netty's {@code netty-pkitesting}), the server
 * certificates it issues for {@code 127.0.0.1} and {@code localhost}, written as the PEM files a node
 * reads, and clients that trust it.
 */
public final class TestPki {

    private final X509Bundle ca;
    private final Path dir;

    public TestPki(Path dir) throws Exception {
        this.dir = dir;
        Instant now = Instant.now();
        this.ca = new CertificateBuilder().subject("CN=Switchboard test CA").setIsCertificateAuthority(true)
                .notBefore(now.minus(1, ChronoUnit.DAYS)).notAfter(now.plus(1, ChronoUnit.DAYS))
                .rsa2048().buildSelfSigned();
        Files.writeString(caFile(), ca.getCertificatePEM());
    }

    /** The CA's certificate, PEM: what Node, curl and the JDK clients are told to trust. */
    public Path caFile() {
        return dir.resolve("ca.pem");
    }

    /** A server certificate issued by the CA for 127.0.0.1 and localhost, with subject {@code CN=<cn>}. */
    public X509Bundle issue(String cn, boolean rsa) throws Exception {
        Instant now = Instant.now();
        CertificateBuilder b = new CertificateBuilder().subject("CN=" + cn).addSanIpAddress("127.0.0.1")
                .addSanDnsName("localhost").addExtendedKeyUsageServerAuth()
                .notBefore(now.minus(1, ChronoUnit.DAYS)).notAfter(now.plus(1, ChronoUnit.DAYS));
        return (rsa ? b.rsa2048() : b.ecp256()).buildIssuedBy(ca);
    }

    /**
     * Writes {@code bundle}'s certificate and chain to {@code name}.crt and its key to {@code name}.key
     * (PKCS#8, or PKCS#1 for an RSA key when {@code pkcs1}), each through a rename, as a deployment
     * replaces them. Returns the two files.
     */
    public Path[] write(X509Bundle bundle, String name, boolean pkcs1) throws IOException {
        Path cert = dir.resolve(name + ".crt");
        Path key = dir.resolve(name + ".key");
        replace(cert, bundle.getCertificatePathPEM());
        String keyPem;
        if (pkcs1) {
            byte[] der = PrivateKeyInfo.getInstance(bundle.getKeyPair().getPrivate().getEncoded()).parsePrivateKey()
                    .toASN1Primitive().getEncoded();
            keyPem = "-----BEGIN RSA PRIVATE KEY-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                    .encodeToString(der) + "\n-----END RSA PRIVATE KEY-----\n";
        } else {
            keyPem = bundle.getPrivateKeyPEM();
        }
        replace(key, keyPem);
        return new Path[] {cert, key};
    }

    private static void replace(Path file, String text) throws IOException {
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, text);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** An SSLContext that trusts the CA and nothing else. */
    public SSLContext clientContext() throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, ca.toTrustManagerFactory().getTrustManagers(), null);
        return context;
    }

    /**
     * A TLS socket to {@code port} on loopback, handshaken, offering {@code protocols} and ALPN
     * {@code http/1.1}, with the given receive buffer (0: the system's).
     */
    public SSLSocket connect(int port, int receiveBufferBytes, String... protocols) throws Exception {
        Socket plain = new Socket();
        if (receiveBufferBytes > 0) {
            plain.setReceiveBufferSize(receiveBufferBytes);
        }
        plain.connect(new java.net.InetSocketAddress("127.0.0.1", port));
        SSLSocket s = (SSLSocket) clientContext().getSocketFactory().createSocket(plain, "localhost", port, true);
        SSLParameters p = s.getSSLParameters();
        p.setEndpointIdentificationAlgorithm("HTTPS");
        p.setApplicationProtocols(new String[] {"http/1.1"});
        if (protocols.length > 0) {
            p.setProtocols(protocols);
        }
        s.setSSLParameters(p);
        s.setSoTimeout((int) JdkClient.WAIT.toMillis());
        s.startHandshake();
        return s;
    }

    /** The subject of the certificate a new connection to {@code port} is served. */
    public String servedSubject(int port) throws Exception {
        try (SSLSocket s = connect(port, 0)) {
            return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSubjectX500Principal().getName();
        }
    }
}
