package io.switchboard.server.internal.transport;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the PEM files of {@code TLS_CERT_FILE} and {@code TLS_KEY_FILE} with the JDK alone (no
 * BouncyCastle): a certificate followed by its chain, and a private key in PKCS#8 (RSA, EC, Ed25519)
 * or PKCS#1 (RSA, wrapped into PKCS#8 here). Every failure is an {@link IOException} whose message
 * names the file and says what to do.
 */
final class PemFiles {

    private static final Pattern BLOCK = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);
    /** The AlgorithmIdentifier of rsaEncryption (1.2.840.113549.1.1.1) with NULL parameters, DER. */
    private static final byte[] RSA_ALGORITHM = {0x30, 0x0d, 0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86,
            (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00};

    private PemFiles() {
    }

    /** The certificates of {@code file}, the server's own first. */
    static X509Certificate[] certificates(Path file) throws IOException {
        byte[] bytes = read(file, "TLS_CERT_FILE");
        try {
            List<? extends Certificate> all = List.copyOf(
                    CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(bytes)));
            if (all.isEmpty()) {
                throw new IOException("TLS_CERT_FILE " + file + ": no certificate in it (expected: PEM, "
                        + "-----BEGIN CERTIFICATE-----, the server's certificate first, then its chain)");
            }
            return all.toArray(new X509Certificate[0]);
        } catch (GeneralSecurityException e) {
            throw new IOException("TLS_CERT_FILE " + file + ": not a PEM certificate: " + e.getMessage(), e);
        }
    }

    /** The private key of {@code file}. */
    static PrivateKey privateKey(Path file) throws IOException {
        String text = new String(read(file, "TLS_KEY_FILE"), StandardCharsets.US_ASCII);
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            String type = m.group(1);
            String body = m.group(2);
            switch (type) {
                case "PRIVATE KEY":
                    return pkcs8(file, decode(file, body));
                case "RSA PRIVATE KEY":
                    if (body.contains("ENCRYPTED")) {
                        throw encrypted(file);
                    }
                    return pkcs8(file, rsaPkcs1ToPkcs8(decode(file, body)));
                case "ENCRYPTED PRIVATE KEY":
                    throw encrypted(file);
                case "EC PRIVATE KEY":
                    throw new IOException("TLS_KEY_FILE " + file + ": an EC key in SEC1 form; convert it to PKCS#8: "
                            + "openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pkcs8");
                default:
                    // EC PARAMETERS and the like come before the key: skip them
            }
        }
        throw new IOException("TLS_KEY_FILE " + file + ": no private key in it (expected: PEM, -----BEGIN PRIVATE "
                + "KEY----- or -----BEGIN RSA PRIVATE KEY-----)");
    }

    /**
     * Checks that {@code key} is the private key of {@code certificate}, by signing with one and
     * verifying with the other: a key file replaced before its certificate is refused, not served.
     */
    static void checkPair(PrivateKey key, X509Certificate certificate, Path keyFile, Path certFile)
            throws IOException {
        String algorithm;
        switch (key.getAlgorithm()) {
            case "RSA":
                algorithm = "SHA256withRSA";
                break;
            case "EC":
                algorithm = "SHA256withECDSA";
                break;
            case "Ed25519":
            case "EdDSA":
                algorithm = "Ed25519";
                break;
            default:
                return; // a key the JDK reads but we do not know how to sign with: the handshake will tell
        }
        try {
            byte[] probe = "switchboard".getBytes(StandardCharsets.US_ASCII);
            Signature sign = Signature.getInstance(algorithm);
            sign.initSign(key);
            sign.update(probe);
            byte[] signature = sign.sign();
            Signature verify = Signature.getInstance(algorithm);
            verify.initVerify(certificate.getPublicKey());
            verify.update(probe);
            if (verify.verify(signature)) {
                return;
            }
        } catch (GeneralSecurityException e) {
            // a key of another type than the certificate's: the message below
        }
        throw new IOException("TLS_KEY_FILE " + keyFile + " is not the key of the first certificate of TLS_CERT_FILE "
                + certFile + " (" + certificate.getSubjectX500Principal() + ")");
    }

    private static byte[] read(Path file, String setting) throws IOException {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IOException(setting + " " + file + ": cannot read it: " + e, e);
        }
    }

    private static IOException encrypted(Path file) {
        return new IOException("TLS_KEY_FILE " + file + ": the key is encrypted; give the node an unencrypted "
                + "copy readable only by it: openssl pkey -in KEY -out KEY.plain");
    }

    private static byte[] decode(Path file, String body) throws IOException {
        try {
            return Base64.getMimeDecoder().decode(body.strip());
        } catch (IllegalArgumentException e) {
            throw new IOException("TLS_KEY_FILE " + file + ": broken base64 in the key: " + e.getMessage(), e);
        }
    }

    private static PrivateKey pkcs8(Path file, byte[] der) throws IOException {
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519", "RSASSA-PSS"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (GeneralSecurityException e) {
                // try the next
            }
        }
        throw new IOException("TLS_KEY_FILE " + file + ": not an RSA, EC or Ed25519 key the JDK can read");
    }

    /** PKCS#8's PrivateKeyInfo around a PKCS#1 RSAPrivateKey: version 0, rsaEncryption, the key. */
    static byte[] rsaPkcs1ToPkcs8(byte[] pkcs1) {
        ByteArrayOutputStream body = new ByteArrayOutputStream(pkcs1.length + 32);
        body.writeBytes(new byte[] {0x02, 0x01, 0x00});
        body.writeBytes(RSA_ALGORITHM);
        body.write(0x04);
        writeLength(body, pkcs1.length);
        body.writeBytes(pkcs1);
        ByteArrayOutputStream out = new ByteArrayOutputStream(body.size() + 6);
        out.write(0x30);
        writeLength(out, body.size());
        out.writeBytes(body.toByteArray());
        return out.toByteArray();
    }

    private static void writeLength(ByteArrayOutputStream out, int length) {
        if (length < 0x80) {
            out.write(length);
        } else if (length < 0x100) {
            out.write(0x81);
            out.write(length);
        } else if (length < 0x10000) {
            out.write(0x82);
            out.write(length >>> 8);
            out.write(length);
        } else {
            out.write(0x83);
            out.write(length >>> 16);
            out.write(length >>> 8);
            out.write(length);
        }
    }
}
