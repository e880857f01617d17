package io.switchboard.server.internal.transport;

import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import io.switchboard.server.testing.TestPki;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The certificate and key files of TLS_CERT_FILE / TLS_KEY_FILE, read with the JDK alone (issue 19). */
class PemFilesTest {

    @TempDir
    Path dir;

    @Test
    void readsAChainAndPkcs8AndPkcs1Keys() throws Exception {
        TestPki pki = new TestPki(dir);
        X509Bundle node = pki.issue("node", true);
        Path[] pkcs8 = pki.write(node, "pkcs8", false);
        Path[] pkcs1 = pki.write(node, "pkcs1", true);
        Path withRoot = Files.writeString(dir.resolve("chain.crt"), node.getCertificatePEM() + node.getRootCertificatePEM());
        assertEquals(2, PemFiles.certificates(withRoot).length, "the node's certificate, then the CA's");
        X509Certificate[] chain = PemFiles.certificates(pkcs8[0]);
        assertEquals("CN=node", chain[0].getSubjectX500Principal().getName());
        PrivateKey fromPkcs8 = PemFiles.privateKey(pkcs8[1]);
        PrivateKey fromPkcs1 = PemFiles.privateKey(pkcs1[1]);
        assertArrayEquals(node.getKeyPair().getPrivate().getEncoded(), fromPkcs8.getEncoded());
        assertArrayEquals(fromPkcs8.getEncoded(), fromPkcs1.getEncoded(), "PKCS#1 wrapped into the same PKCS#8");
        PemFiles.checkPair(fromPkcs1, chain[0], pkcs1[1], pkcs1[0]);
    }

    @Test
    void readsAnEcKey() throws Exception {
        X509Bundle ec = new CertificateBuilder().subject("CN=ec").setIsCertificateAuthority(true).ecp256().buildSelfSigned();
        Path key = Files.writeString(dir.resolve("ec.key"), ec.getPrivateKeyPEM());
        Path cert = Files.writeString(dir.resolve("ec.crt"), ec.getCertificatePEM());
        PrivateKey k = PemFiles.privateKey(key);
        assertEquals("EC", k.getAlgorithm());
        PemFiles.checkPair(k, PemFiles.certificates(cert)[0], key, cert);
    }

    @Test
    void refusesAKeyOfAnotherCertificate() throws Exception {
        X509Bundle a = new CertificateBuilder().subject("CN=a").setIsCertificateAuthority(true).rsa2048().buildSelfSigned();
        X509Bundle b = new CertificateBuilder().subject("CN=b").setIsCertificateAuthority(true).ecp256().buildSelfSigned();
        Path key = Files.writeString(dir.resolve("b.key"), b.getPrivateKeyPEM());
        Path cert = Files.writeString(dir.resolve("a.crt"), a.getCertificatePEM());
        IOException e = assertThrows(IOException.class,
                () -> PemFiles.checkPair(PemFiles.privateKey(key), PemFiles.certificates(cert)[0], key, cert));
        assertEquals("TLS_KEY_FILE " + key + " is not the key of the first certificate of TLS_CERT_FILE " + cert
                + " (CN=a)", e.getMessage());
    }

    @Test
    void saysWhatToDoWithKeysItDoesNotRead() throws Exception {
        Path encrypted = Files.writeString(dir.resolve("enc.key"),
                "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n");
        assertEquals("TLS_KEY_FILE " + encrypted + ": the key is encrypted; give the node an unencrypted copy readable "
                + "only by it: openssl pkey -in KEY -out KEY.plain",
                assertThrows(IOException.class, () -> PemFiles.privateKey(encrypted)).getMessage());
        Path sec1 = Files.writeString(dir.resolve("sec1.key"),
                "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n");
        assertEquals("TLS_KEY_FILE " + sec1 + ": an EC key in SEC1 form; convert it to PKCS#8: openssl pkcs8 -topk8 "
                + "-nocrypt -in KEY -out KEY.pkcs8", assertThrows(IOException.class, () -> PemFiles.privateKey(sec1))
                .getMessage());
        Path none = Files.writeString(dir.resolve("cert-only.key"), "not a key\n");
        assertEquals("TLS_KEY_FILE " + none + ": no private key in it (expected: PEM, -----BEGIN PRIVATE KEY----- or "
                + "-----BEGIN RSA PRIVATE KEY-----)", assertThrows(IOException.class, () -> PemFiles.privateKey(none))
                .getMessage());
        Path empty = Files.writeString(dir.resolve("empty.crt"), "");
        assertEquals("TLS_CERT_FILE " + empty + ": no certificate in it (expected: PEM, -----BEGIN CERTIFICATE-----, "
                + "the server's certificate first, then its chain)",
                assertThrows(IOException.class, () -> PemFiles.certificates(empty)).getMessage());
    }
}
