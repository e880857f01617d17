package io.switchboard.server.internal.auth;

import com.nimbusds.jose.Algorithm;
import com.nimbusds.jose.Header;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.OctetSequenceKey;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.LongAdder;

/**
 * Verifies compact signed JWTs (RFC 7519) with nimbus-jose-jwt: the algorithm must be one a
 * configured key verifies (so an HS256 token is never checked against an RSA public key used as a
 * secret, and {@code alg: none} never passes), the signature must verify, and {@code exp},
 * {@code nbf}, {@code aud} and {@code iss} must hold. The keys: an HMAC secret, a PEM public key,
 * and a JWK set file read again by {@link #reloadIfChanged()}. Thread-safe; verifying does not
 * block (the JWK set is read off the event loops).
 */
public final class JwtVerifier {

    private static final Logger logger = LoggerFactory.getLogger(JwtVerifier.class);
    /** The DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410 section 4), before the 32-byte key. */
    private static final byte[] ED25519_SPKI_PREFIX = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

    /** The outcome of one verification: the claims, or why not and a detail for the client. */
    public record Result(TokenClaims claims, TokenFailure failure, String detail) {
        static Result refused(TokenFailure failure, String detail) {
            return new Result(null, failure, detail);
        }
    }

    /** One trusted key: the algorithms it verifies and how. */
    private record Key(String kid, Set<JWSAlgorithm> algorithms, KeyCheck check) {
    }

    @FunctionalInterface
    private interface KeyCheck {
        boolean verify(SignedJWT jwt) throws JOSEException;
    }

    private final List<Key> fixedKeys;
    private final Path jwksFile;
    private final String audience;
    private final String issuer;
    private final Duration leeway;
    private final Map<TokenFailure, LongAdder> failures = new EnumMap<>(TokenFailure.class);
    private volatile List<Key> jwksKeys = List.of();
    private FileTime jwksModified;
    private long jwksSize = -1;

    /**
     * @param hmacSecret    secret of HS* tokens, or {@code null}
     * @param publicKeyFile PEM public key or certificate, or {@code null}
     * @param jwksFile      JWK set file, or {@code null}
     * @throws IllegalArgumentException when a key file cannot be read or holds no usable key
     */
    public JwtVerifier(byte[] hmacSecret, Path publicKeyFile, Path jwksFile, String audience, String issuer,
                       Duration leeway) {
        this.audience = audience;
        this.issuer = issuer;
        this.leeway = leeway;
        this.jwksFile = jwksFile;
        for (TokenFailure f : TokenFailure.values()) {
            failures.put(f, new LongAdder());
        }
        List<Key> keys = new ArrayList<>();
        if (hmacSecret != null) {
            keys.add(hmacKey(null, hmacSecret));
        }
        if (publicKeyFile != null) {
            keys.add(publicKey(null, readPem(publicKeyFile), null));
        }
        this.fixedKeys = List.copyOf(keys);
        if (jwksFile != null) {
            String problem = reloadIfChanged();
            if (problem != null) {
                throw new IllegalArgumentException("jwtJwksFile: " + problem);
            }
        }
        if (fixedKeys.isEmpty() && jwksFile == null) {
            throw new IllegalArgumentException("no JWT key (expected: an HMAC secret, a public key file or a JWK set file)");
        }
    }

    /** Refusals so far, by reason. */
    public Map<TokenFailure, LongAdder> failures() {
        return failures;
    }

    /** Counts a refusal found outside {@link #verify} (a missing token, another subject). */
    public void count(TokenFailure failure) {
        failures.get(failure).increment();
    }

    /** Verifies {@code token} at {@code now}; counts a refusal. */
    public Result verify(String token, Instant now) {
        Result r = check(token, now);
        if (r.failure() != null) {
            count(r.failure());
        }
        return r;
    }

    private Result check(String token, Instant now) {
        int dot = token.indexOf('.');
        if (dot <= 0) {
            return Result.refused(TokenFailure.MALFORMED, "The token is not a compact JWT (header.payload.signature)");
        }
        Algorithm alg;
        try {
            alg = Header.parse(new Base64URL(token.substring(0, dot))).getAlgorithm();
        } catch (ParseException | RuntimeException e) {
            return Result.refused(TokenFailure.MALFORMED, "The token's header is not a JOSE header");
        }
        if (Algorithm.NONE.equals(alg)) {
            return Result.refused(TokenFailure.ALG_NONE, "The token is unsigned (alg none): only signed tokens are accepted");
        }
        SignedJWT jwt;
        try {
            jwt = SignedJWT.parse(token);
        } catch (ParseException | RuntimeException e) {
            return Result.refused(TokenFailure.MALFORMED, "The token is not a well-formed signed JWT");
        }
        JWSAlgorithm jwsAlg = jwt.getHeader().getAlgorithm();
        String kid = jwt.getHeader().getKeyID();
        List<Key> forAlg = new ArrayList<>();
        boolean algKnown = false;
        for (List<Key> keys : List.of(fixedKeys, jwksKeys)) {
            for (Key k : keys) {
                if (k.algorithms().contains(jwsAlg)) {
                    algKnown = true;
                    // A kid selects among the JWK set's keys; the fixed keys have none and always apply.
                    if (kid == null || k.kid() == null || k.kid().equals(kid)) {
                        forAlg.add(k);
                    }
                }
            }
        }
        if (!algKnown) {
            return Result.refused(TokenFailure.ALG_NOT_CONFIGURED, "The token's algorithm " + jwsAlg.getName()
                    + " is not accepted here (accepted: " + String.join(", ", acceptedAlgorithms()) + ")");
        }
        if (forAlg.isEmpty()) {
            return Result.refused(TokenFailure.UNKNOWN_KEY, "No key with the token's kid verifies " + jwsAlg.getName());
        }
        boolean verified = false;
        for (Key k : forAlg) {
            try {
                if (k.check().verify(jwt)) {
                    verified = true;
                    break;
                }
            } catch (JOSEException | RuntimeException e) {
                // A key that cannot check this token (a too-short secret for HS512, say) does not verify it.
            }
        }
        if (!verified) {
            return Result.refused(TokenFailure.BAD_SIGNATURE, "The token's signature does not verify");
        }
        JWTClaimsSet claims;
        try {
            claims = jwt.getJWTClaimsSet();
        } catch (ParseException e) {
            return Result.refused(TokenFailure.MALFORMED, "The token's claims are not a JSON object of JWT claims");
        }
        return checkClaims(claims, now);
    }

    private Result checkClaims(JWTClaimsSet claims, Instant now) {
        Date exp = claims.getExpirationTime();
        if (exp != null && now.isAfter(exp.toInstant().plus(leeway))) {
            return Result.refused(TokenFailure.EXPIRED, "The token expired at " + exp.toInstant());
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && now.plus(leeway).isBefore(nbf.toInstant())) {
            return Result.refused(TokenFailure.NOT_YET_VALID, "The token is not valid before " + nbf.toInstant());
        }
        if (audience != null && (claims.getAudience() == null || !claims.getAudience().contains(audience))) {
            return Result.refused(TokenFailure.WRONG_AUDIENCE, "The token's audience (aud) does not include '"
                    + audience + "'");
        }
        if (issuer != null && !issuer.equals(claims.getIssuer())) {
            return Result.refused(TokenFailure.WRONG_ISSUER, "The token's issuer (iss) is not '" + issuer + "'");
        }
        String sub = claims.getSubject();
        if (sub == null || sub.isEmpty()) {
            return Result.refused(TokenFailure.INVALID_CLAIMS, "The token has no subject (sub)");
        }
        List<ChannelPattern> subscribe;
        List<ChannelPattern> publish;
        try {
            Map<String, Object> switchboard = claims.getJSONObjectClaim("switchboard");
            subscribe = switchboard == null ? null : patterns(switchboard.get("subscribe"));
            publish = switchboard == null ? null : patterns(switchboard.get("publish"));
        } catch (ParseException | IllegalArgumentException e) {
            return Result.refused(TokenFailure.INVALID_CLAIMS, "The token's switchboard claim is not "
                    + "{\"subscribe\": [patterns], \"publish\": [patterns]}");
        }
        return new Result(new TokenClaims(sub, exp == null ? null : exp.toInstant().plus(leeway), subscribe, publish),
                null, null);
    }

    private static List<ChannelPattern> patterns(Object list) {
        if (list == null) {
            return null;
        }
        if (!(list instanceof List<?> items)) {
            throw new IllegalArgumentException("not a list");
        }
        List<ChannelPattern> out = new ArrayList<>(items.size());
        for (Object item : items) {
            if (!(item instanceof String s)) {
                throw new IllegalArgumentException("not a string");
            }
            out.add(ChannelPattern.compile(s));
        }
        return List.copyOf(out);
    }

    /** The algorithms some key verifies, sorted. */
    public Set<String> acceptedAlgorithms() {
        Set<String> names = new TreeSet<>();
        for (List<Key> keys : List.of(fixedKeys, jwksKeys)) {
            for (Key k : keys) {
                for (JWSAlgorithm a : k.algorithms()) {
                    names.add(a.getName());
                }
            }
        }
        return names;
    }

    /**
     * Reads the JWK set file again if its time or size changed; keeps the keys it had when the new
     * file cannot be used. Returns {@code null}, or what is wrong with the file. Blocks on the file
     * system: call it off the event loops.
     */
    public synchronized String reloadIfChanged() {
        if (jwksFile == null) {
            return null;
        }
        try {
            FileTime modified = Files.getLastModifiedTime(jwksFile);
            long size = Files.size(jwksFile);
            if (modified.equals(jwksModified) && size == jwksSize) {
                return null;
            }
            JWKSet set = JWKSet.parse(Files.readString(jwksFile, StandardCharsets.UTF_8));
            List<Key> keys = new ArrayList<>();
            for (JWK jwk : set.getKeys()) {
                if (KeyUse.ENCRYPTION.equals(jwk.getKeyUse())) {
                    continue;
                }
                keys.add(jwkKey(jwk));
            }
            if (keys.isEmpty()) {
                return jwksFile + " holds no signature key";
            }
            boolean first = jwksModified == null;
            jwksKeys = List.copyOf(keys);
            jwksModified = modified;
            jwksSize = size;
            if (!first) {
                logger.info("JWK set {} read again: {} keys", jwksFile, keys.size());
            }
            return null;
        } catch (IOException | ParseException | JOSEException | GeneralSecurityException | RuntimeException e) {
            String problem = jwksFile + " cannot be used: " + e.getMessage();
            if (jwksModified != null) {
                logger.warn("JWK set {}: keeping the keys read before", problem);
            }
            return problem;
        }
    }

    private static Key jwkKey(JWK jwk) throws JOSEException, GeneralSecurityException {
        String kid = jwk.getKeyID();
        JWSAlgorithm only = jwk.getAlgorithm() == null ? null : JWSAlgorithm.parse(jwk.getAlgorithm().getName());
        if (jwk instanceof RSAKey rsa) {
            return publicKey(kid, rsa.toRSAPublicKey(), only);
        }
        if (jwk instanceof ECKey ec) {
            return publicKey(kid, ec.toECPublicKey(), only);
        }
        if (jwk instanceof OctetKeyPair okp && Curve.Ed25519.equals(okp.getCurve())) {
            return publicKey(kid, ed25519(okp.getX().decode()), only);
        }
        if (jwk instanceof OctetSequenceKey oct) {
            Key k = hmacKey(kid, oct.toByteArray());
            return only == null ? k : new Key(kid, restrict(k.algorithms(), only), k.check());
        }
        throw new JOSEException("unsupported key type " + jwk.getKeyType() + (kid == null ? "" : " (kid " + kid + ")"));
    }

    private static Key hmacKey(String kid, byte[] secret) {
        try {
            MACVerifier verifier = new MACVerifier(secret);
            return new Key(kid, Set.copyOf(verifier.supportedJWSAlgorithms()), jwt -> jwt.verify(verifier));
        } catch (JOSEException e) {
            throw new IllegalArgumentException("HMAC secret: " + e.getMessage(), e);
        }
    }

    private static Key publicKey(String kid, PublicKey key, JWSAlgorithm only) {
        JWSVerifier verifier;
        try {
            if (key instanceof RSAPublicKey rsa) {
                verifier = new RSASSAVerifier(rsa);
            } else if (key instanceof ECPublicKey ec) {
                verifier = new ECDSAVerifier(ec);
            } else if ("Ed25519".equals(key.getAlgorithm()) || "EdDSA".equals(key.getAlgorithm())) {
                // nimbus' own Ed25519Verifier needs Tink; the JDK (15+) verifies Ed25519 itself (RFC 8037).
                return new Key(kid, restrict(Set.of(JWSAlgorithm.EdDSA, JWSAlgorithm.Ed25519), only),
                        jwt -> verifyEd25519(key, jwt));
            } else {
                throw new IllegalArgumentException("unsupported public key type " + key.getAlgorithm());
            }
        } catch (JOSEException e) {
            throw new IllegalArgumentException("public key: " + e.getMessage(), e);
        }
        return new Key(kid, restrict(verifier.supportedJWSAlgorithms(), only), jwt -> jwt.verify(verifier));
    }

    private static Set<JWSAlgorithm> restrict(Set<JWSAlgorithm> supported, JWSAlgorithm only) {
        if (only == null) {
            return Set.copyOf(supported);
        }
        return supported.contains(only) ? Set.of(only) : Set.of();
    }

    private static boolean verifyEd25519(PublicKey key, SignedJWT jwt) throws JOSEException {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(key);
            s.update(jwt.getSigningInput());
            return s.verify(jwt.getSignature().decode());
        } catch (GeneralSecurityException e) {
            throw new JOSEException(e.getMessage(), e);
        }
    }

    private static PublicKey ed25519(byte[] x) throws GeneralSecurityException {
        byte[] der = new byte[ED25519_SPKI_PREFIX.length + x.length];
        System.arraycopy(ED25519_SPKI_PREFIX, 0, der, 0, ED25519_SPKI_PREFIX.length);
        System.arraycopy(x, 0, der, ED25519_SPKI_PREFIX.length, x.length);
        return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der));
    }

    /** Reads the public key of a PEM {@code PUBLIC KEY} (SubjectPublicKeyInfo) or {@code CERTIFICATE}. */
    static PublicKey readPem(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException("jwtPublicKeyFile: " + file + " cannot be read: " + e.getMessage(), e);
        }
        try {
            if (text.contains("-----BEGIN CERTIFICATE-----")) {
                return CertificateFactory.getInstance("X.509")
                        .generateCertificate(new ByteArrayInputStream(text.getBytes(StandardCharsets.US_ASCII)))
                        .getPublicKey();
            }
            int begin = text.indexOf("-----BEGIN PUBLIC KEY-----");
            int end = text.indexOf("-----END PUBLIC KEY-----");
            if (begin < 0 || end < begin) {
                throw new IllegalArgumentException("jwtPublicKeyFile: " + file
                        + " holds no '-----BEGIN PUBLIC KEY-----' block or certificate");
            }
            byte[] der = Base64.getMimeDecoder().decode(text.substring(begin + 26, end));
            X509EncodedKeySpec spec = new X509EncodedKeySpec(der);
            Set<String> tried = new LinkedHashSet<>(List.of("RSA", "EC", "Ed25519"));
            for (String type : tried) {
                try {
                    return KeyFactory.getInstance(type).generatePublic(spec);
                } catch (GeneralSecurityException e) {
                    // not this type: try the next
                }
            }
            throw new IllegalArgumentException("jwtPublicKeyFile: " + file + " holds no RSA, EC or Ed25519 public key");
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("jwtPublicKeyFile: " + file + ": " + e.getMessage(), e);
        }
    }
}
