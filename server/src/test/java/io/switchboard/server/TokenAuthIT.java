package io.switchboard.server;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.RawClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Token auth (PROTOCOL.md section 1a, issue 19) on a real node over loopback: the JDK's WebSocket
 * client for accepted connections, raw sockets to read refusals whole. Tokens are made with
 * nimbus-jose-jwt's signers. Each test has a node of its own.
 */
@Timeout(60)
class TokenAuthIT {

    private static final String SECRET = "a-secret-of-at-least-thirty-two-bytes!";
    private static final String OTHER_SECRET = "another-secret-of-thirty-two-bytes-or-more";
    private static final String AUDIENCE = "chat";
    private static final String ISSUER = "https://issuer.example";

    private SwitchboardServer server;
    private InetSocketAddress address;

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop().join();
        }
    }

    private void start(UnaryOperator<SwitchboardConfig.Builder> config) {
        server = Requests.startOnLoopback(config.apply(SwitchboardConfig.builder()));
        address = server.localAddress();
    }

    /** A node taking HS256 tokens for {@link #AUDIENCE} from {@link #ISSUER}, without leeway. */
    private void startHmac() {
        start(b -> b.jwtHmacSecret(SECRET).jwtAudience(AUDIENCE).jwtIssuer(ISSUER).jwtCookie("sb_token")
                .jwtLeeway(Duration.ZERO));
    }

    private static JWTClaimsSet.Builder claims(String sub) {
        return new JWTClaimsSet.Builder().subject(sub).audience(AUDIENCE).issuer(ISSUER)
                .expirationTime(Date.from(Instant.now().plus(Duration.ofHours(1))));
    }

    private static String sign(JWSSigner signer, JWSHeader header, JWTClaimsSet claims) {
        try {
            SignedJWT jwt = new SignedJWT(header, claims);
            jwt.sign(signer);
            return jwt.serialize();
        } catch (JOSEException e) {
            throw new AssertionError(e);
        }
    }

    private static String hs256(String secret, JWTClaimsSet claims) {
        try {
            return sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)), new JWSHeader(JWSAlgorithm.HS256), claims);
        } catch (JOSEException e) {
            throw new AssertionError(e);
        }
    }

    private static String hs256(JWTClaimsSet claims) {
        return hs256(SECRET, claims);
    }

    private URI ws(String pathAndQuery) {
        return URI.create("ws://127.0.0.1:" + address.getPort() + pathAndQuery);
    }

    /** The whole HTTP response to an upgrade of {@code target} with {@code headers} (each ending in CRLF). */
    private String upgradeResponse(String target, String headers) throws IOException {
        try (RawClient raw = new RawClient(address)) {
            raw.write("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" + headers + "\r\n");
            String head = raw.readHead();
            return head.startsWith("HTTP/1.1 101 ") ? head : head + raw.readToEnd();
        }
    }

    private String get(String path) throws Exception {
        return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + address.getPort() + path)).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }

    /** Checks that {@code token} in the query is refused with 401, {@code detail}, and no echo of the token. */
    private void assertRefused(String token, String detail) throws IOException {
        String response = upgradeResponse("/api/connect?token=" + token, "");
        assertUnauthorized(response, detail);
        assertFalse(response.contains(token), response);
    }

    private static void assertUnauthorized(String response, String detail) {
        assertTrue(response.startsWith("HTTP/1.1 401 Unauthorized\r\n"), response);
        assertTrue(response.contains("\r\nwww-authenticate: Bearer\r\n"), response);
        assertTrue(response.endsWith("\r\n\r\n{\"status\":\"error\",\"info\":{\"detail\":\"" + detail
                + "\",\"code\":\"unauthorized\"}}"), response);
    }

    @Test
    void refusesEachBadTokenWith401ItsReasonAndNoEcho() throws Exception {
        startHmac();
        Instant now = Instant.now();
        assertUnauthorized(upgradeResponse("/api/connect?client_name=Ann", ""),
                "No token: send one as ?token=, an Authorization: Bearer header or the cookie 'sb_token'");
        assertRefused("not-a-jwt", "The token is not a compact JWT (header.payload.signature)");
        assertRefused("eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24", "The token is not a well-formed signed JWT");
        assertRefused("bm90IGpzb24.bm90IGpzb24.c2ln", "The token's header is not a JOSE header");
        assertRefused(hs256(OTHER_SECRET, claims("Ann").build()), "The token's signature does not verify");
        String unsigned = new Base64URL(Base64.getUrlEncoder().withoutPadding().encodeToString(
                "{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8))) + "."
                + claims("Ann").build().toPayload().toBase64URL() + ".";
        assertRefused(unsigned, "The token is unsigned (alg none): only signed tokens are accepted");
        Instant past = now.minusSeconds(60).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        assertRefused(hs256(claims("Ann").expirationTime(Date.from(past)).build()), "The token expired at " + past);
        Instant future = now.plusSeconds(3600).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        assertRefused(hs256(claims("Ann").notBeforeTime(Date.from(future)).build()),
                "The token is not valid before " + future);
        assertRefused(hs256(claims("Ann").audience("other").build()),
                "The token's audience (aud) does not include 'chat'");
        assertRefused(hs256(claims("Ann").issuer("https://evil.example").build()),
                "The token's issuer (iss) is not 'https://issuer.example'");
        assertRefused(hs256(claims(null).build()), "The token has no subject (sub)");
        String bearer = hs256(OTHER_SECRET, claims("Ann").build());
        String viaHeader = upgradeResponse("/api/connect", "Authorization: Bearer " + bearer + "\r\n");
        assertUnauthorized(viaHeader, "The token's signature does not verify");
        assertFalse(viaHeader.contains(bearer), viaHeader);
    }

    @Test
    void acceptsATokenFromTheQueryTheHeaderOrTheCookieAndNamesTheClientBySub() {
        startHmac();
        String token = hs256(claims("Ann").build());
        // The token's sub wins over a client_name of the query.
        try (JdkClient query = JdkClient.connect(ws("/api/connect?client_name=Mallory&token=" + token));
             JdkClient header = JdkClient.connect(ws("/api/connect"), Map.of("Authorization", "Bearer " + token));
             JdkClient cookie = JdkClient.connect(ws("/api/connect"), Map.of("Cookie", "theme=dark; sb_token=" + token))) {
            for (JdkClient c : List.of(query, header, cookie)) {
                assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"Ann\"}}", c.next());
            }
            query.request(Requests.subscribe("room"));
            header.request(Requests.subscribe("room"));
            assertEquals("{\"status\":\"ok\"}", query.request(Requests.publish("room", "\"hi\"")));
            for (JdkClient c : List.of(query, header)) {
                String delivery = c.next();
                assertTrue(delivery.startsWith("{\"sender\":\"Ann\",\"channel_name\":\"room\","), delivery);
            }
        }
    }

    @Test
    void channelClaimsLimitSubscribeAndPublishAndTheConnectionLivesOn() {
        startHmac();
        String token = hs256(claims("Bob").claim("switchboard", Map.of(
                "subscribe", List.of("news/*", "chat"), "publish", List.of("chat"))).build());
        try (JdkClient bob = JdkClient.connect(ws("/api/connect?token=" + token))) {
            bob.next();
            assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"news/eu\",\"total_subscribers\":1}}",
                    bob.request(Requests.subscribe("news/eu")));
            assertEquals("{\"status\":\"error\",\"info\":{\"detail\":\"The token does not allow subscribing to "
                    + "'sports'\",\"code\":\"forbidden\"}}", bob.request(Requests.subscribe("sports")));
            assertEquals("{\"status\":\"error\",\"info\":{\"detail\":\"The token does not allow publishing on "
                    + "'news/eu'\",\"code\":\"forbidden\"}}", bob.request(Requests.publish("news/eu", "\"x\"")));
            bob.request(Requests.subscribe("chat"));
            assertEquals("{\"status\":\"ok\"}", bob.request(Requests.publish("chat", "\"allowed\"")));
            assertTrue(bob.next().contains("\"content\":\"allowed\""));
            assertNull(bob.closedBy());
        }
        // Without the claim, every channel is allowed.
        try (JdkClient ann = JdkClient.connect(ws("/api/connect?token=" + hs256(claims("Ann").build())))) {
            ann.next();
            assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"sports\",\"total_subscribers\":1}}",
                    ann.request(Requests.subscribe("sports")));
        }
    }

    @Test
    void anExpiredTokenClosesTheConnectionWith1008() {
        startHmac();
        String token = hs256(claims("Ann").expirationTime(Date.from(Instant.now().plusSeconds(2))).build());
        try (JdkClient ann = JdkClient.connect(ws("/api/connect?token=" + token))) {
            ann.next();
            assertEquals(1008, ann.awaitClose());
            assertEquals("token expired", ann.closeReason());
        }
    }

    @Test
    void refreshReplacesTheExpiry() {
        startHmac();
        String longLived = hs256(claims("Ann").build());
        String shortLived = hs256(claims("Ann").expirationTime(Date.from(Instant.now().plusSeconds(2))).build());
        try (JdkClient ann = JdkClient.connect(ws("/api/connect?token=" + longLived))) {
            ann.next();
            // A refresh's expiry replaces the handshake's, later or sooner: this one ends the connection.
            assertEquals("{\"status\":\"ok\",\"request_id\":1}", ann.request(
                    "{\"action\":\"refresh\",\"request_id\":1,\"params\":{\"token\":\"" + shortLived + "\"}}"));
            assertEquals(1008, ann.awaitClose());
            assertEquals("token expired", ann.closeReason());
        }
    }

    @Test
    void refreshExtendsAConnectionPastItsFirstToken() throws Exception {
        startHmac();
        Instant firstExpiry = Instant.now().plusSeconds(2);
        String first = hs256(claims("Ann").expirationTime(Date.from(firstExpiry)).build());
        try (JdkClient ann = JdkClient.connect(ws("/api/connect?token=" + first))) {
            ann.next();
            assertEquals("{\"status\":\"ok\"}", ann.request("{\"action\":\"refresh\",\"params\":{\"token\":\""
                    + hs256(claims("Ann").build()) + "\"}}"));
            // Let the first token's expiry pass (a wait for time to pass, not for the server), then the
            // connection must still serve.
            while (Instant.now().isBefore(firstExpiry.plusSeconds(1))) {
                Thread.sleep(100);
            }
            assertEquals("{\"status\":\"ok\",\"info\":{\"channels\":[]}}", ann.request("{\"action\":\"list\"}"));
            assertNull(ann.closedBy());
        }
    }

    @Test
    void refusedRefreshesChangeNothing() {
        startHmac();
        String first = hs256(claims("Ann").expirationTime(Date.from(Instant.now().plusSeconds(3))).build());
        try (JdkClient ann = JdkClient.connect(ws("/api/connect?token=" + first))) {
            ann.next();
            String bobs = hs256(claims("Bob").build());
            assertEquals("{\"status\":\"error\",\"info\":{\"detail\":\"The new token's subject (sub) is not this "
                            + "connection's\",\"code\":\"unauthorized\"}}",
                    ann.request("{\"action\":\"refresh\",\"params\":{\"token\":\"" + bobs + "\"}}"));
            assertEquals("{\"status\":\"error\",\"info\":{\"detail\":\"The token's signature does not verify\","
                            + "\"code\":\"unauthorized\"}}",
                    ann.request("{\"action\":\"refresh\",\"params\":{\"token\":\""
                            + hs256(OTHER_SECRET, claims("Ann").build()) + "\"}}"));
            String expired = hs256(claims("Ann").expirationTime(Date.from(Instant.now().minusSeconds(60))).build());
            assertTrue(ann.request("{\"action\":\"refresh\",\"params\":{\"token\":\"" + expired + "\"}}")
                    .startsWith("{\"status\":\"error\",\"info\":{\"detail\":\"The token expired at "));
            assertEquals("{\"status\":\"error\",\"info\":{\"detail\":\"Missing parameter 'token'\",\"code\":"
                    + "\"missing_param\"}}", ann.request("{\"action\":\"refresh\",\"params\":{}}"));
            // The connection kept its first token's expiry.
            assertEquals(1008, ann.awaitClose());
            assertEquals("token expired", ann.closeReason());
        }
    }

    @Test
    void rs256ViaAPublicKeyFileAndNoAlgorithmConfusion(@TempDir Path dir) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair rsa = generator.generateKeyPair();
        String pem = "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(rsa.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
        Path file = dir.resolve("public.pem");
        Files.writeString(file, pem);
        start(b -> b.jwtPublicKeyFile(file));
        JWTClaimsSet claims = new JWTClaimsSet.Builder().subject("Ann").build();
        String token = sign(new RSASSASigner(rsa.getPrivate()), new JWSHeader(JWSAlgorithm.RS256), claims);
        try (JdkClient ann = JdkClient.connect(ws("/api/connect?token=" + token))) {
            assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"Ann\"}}", ann.next());
        }
        // The classic confusion: HS256 "signed" with the public key's PEM text as the secret.
        assertRefused(hs256(pem, claims), "The token's algorithm HS256 is not accepted here (accepted: PS256, PS384, "
                + "PS512, RS256, RS384, RS512)");
    }

    /** EdDSA (RFC 8037) with an Ed25519 PEM key; signed here with the JDK's Ed25519, as nimbus' signer needs Tink. */
    @Test
    void edDsaViaAnEd25519PublicKeyFile(@TempDir Path dir) throws Exception {
        KeyPair ed = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Path file = dir.resolve("ed25519.pem");
        Files.writeString(file, "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(ed.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
        start(b -> b.jwtPublicKeyFile(file));
        String signingInput = Base64URL.encode("{\"alg\":\"EdDSA\"}") + "."
                + new JWTClaimsSet.Builder().subject("Fay").build().toPayload().toBase64URL();
        java.security.Signature signer = java.security.Signature.getInstance("Ed25519");
        signer.initSign(ed.getPrivate());
        signer.update(signingInput.getBytes(StandardCharsets.US_ASCII));
        String token = signingInput + "." + Base64URL.encode(signer.sign());
        try (JdkClient fay = JdkClient.connect(ws("/api/connect?token=" + token))) {
            assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"Fay\"}}", fay.next());
        }
        String tampered = token.substring(0, token.lastIndexOf('.') + 1) + Base64URL.encode(new byte[64]);
        assertRefused(tampered, "The token's signature does not verify");
        assertRefused(hs256(SECRET, new JWTClaimsSet.Builder().subject("Fay").build()),
                "The token's algorithm HS256 is not accepted here (accepted: Ed25519, EdDSA)");
    }

    @Test
    void es256ViaAJwkSetWhoseKidPicksTheKeyAndWhichIsReadAgainWhenItChanges(@TempDir Path dir) throws Exception {
        KeyPair first = ecKeyPair();
        KeyPair second = ecKeyPair();
        Path jwks = dir.resolve("jwks.json");
        Files.writeString(jwks, new JWKSet(List.of(ecJwk("k1", first))).toString());
        start(b -> b.jwtJwksFile(jwks));
        JWTClaimsSet claims = new JWTClaimsSet.Builder().subject("Ann").build();
        String byFirst = es256("k1", first, claims);
        String bySecond = es256("k2", second, claims);
        try (JdkClient ann = JdkClient.connect(ws("/api/connect?token=" + byFirst))) {
            assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"Ann\"}}", ann.next());
        }
        assertRefused(bySecond, "No key with the token's kid verifies ES256");
        assertRefused(es256("k1", second, claims), "The token's signature does not verify");

        Files.writeString(jwks, new JWKSet(List.of(ecJwk("k1", first), ecJwk("k2", second))).toString());
        // Whatever the file system's time resolution, the file's time moves on.
        Files.setLastModifiedTime(jwks, FileTime.from(Instant.now().plusSeconds(10)));
        long deadline = System.nanoTime() + JdkClient.WAIT.toNanos();
        while (true) {
            String response = upgradeResponse("/api/connect?token=" + bySecond, "");
            if (response.startsWith("HTTP/1.1 101 ")) {
                break;
            }
            assertTrue(response.contains("No key with the token's kid verifies ES256"), response);
            if (System.nanoTime() > deadline) {
                fail("the changed JWK set was not read within " + JdkClient.WAIT);
            }
            Thread.sleep(100);
        }
    }

    private static KeyPair ecKeyPair() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private static ECKey ecJwk(String kid, KeyPair pair) {
        return new ECKey.Builder(Curve.P_256, (ECPublicKey) pair.getPublic()).keyID(kid).build();
    }

    private static String es256(String kid, KeyPair pair, JWTClaimsSet claims) throws JOSEException {
        return sign(new ECDSASigner((ECPrivateKey) pair.getPrivate()),
                new JWSHeader.Builder(JWSAlgorithm.ES256).keyID(kid).build(), claims);
    }

    @Test
    void disposableTakesItsNameFromSubAndItsRoomIsAChannel() throws Exception {
        startHmac();
        String token = hs256(claims("Carol").claim("switchboard", Map.of("subscribe", List.of("lobby"),
                "publish", List.of())).build());
        try (JdkClient carol = JdkClient.connect(ws("/ws?room=lobby&token=" + token))) {
            String welcome = carol.next();
            assertTrue(welcome.contains("\"name\":\"Carol\""), welcome);
            carol.next(); // her own registered info
            carol.send("{\"text\":\"hello\"}");
            assertEquals("{\"type\":\"error\",\"data\":{\"text\":\"The token does not allow publishing on 'lobby'\"}}",
                    carol.next());
        }
        String response = upgradeResponse("/ws?room=kitchen&token=" + token, "");
        assertTrue(response.startsWith("HTTP/1.1 403 Forbidden\r\n"), response);
        assertTrue(response.endsWith("The token does not allow subscribing to 'kitchen'"), response);
        assertUnauthorized(upgradeResponse("/ws?name=Carol&room=lobby", ""),
                "No token: send one as ?token=, an Authorization: Bearer header or the cookie 'sb_token'");
    }

    @Test
    void chatroomAndRandomchatCheckTheConnectionOnly(@TempDir Path data) throws Exception {
        start(b -> b.jwtHmacSecret(SECRET).jwtLeeway(Duration.ZERO).dataDir(data));
        String token = hs256(new JWTClaimsSet.Builder().subject("Dan")
                .expirationTime(Date.from(Instant.now().plusSeconds(3))).build());
        for (String path : List.of("/chatroom", "/randomchat")) {
            assertUnauthorized(upgradeResponse(path, ""), "No token: send one as ?token=, an Authorization: Bearer header");
        }
        try (JdkClient chatroom = JdkClient.connect(ws("/chatroom?token=" + token));
             JdkClient randomchat = JdkClient.connect(ws("/randomchat"), Map.of("Authorization", "Bearer " + token))) {
            assertTrue(chatroom.next().startsWith("{\"type\":\"hello\""));
            // The token's exp ends these connections too.
            assertEquals(1008, chatroom.awaitClose());
            assertEquals("token expired", chatroom.closeReason());
            assertEquals(1008, randomchat.awaitClose());
        }
    }

    @Test
    void tokensNeverReachTheLogAndRefusalsAreCounted() throws Exception {
        ch.qos.logback.classic.Logger switchboard = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger("io.switchboard");
        ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) LoggerFactory.getLogger(
                org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> log = new ListAppender<>();
        log.start();
        Level before = switchboard.getLevel();
        switchboard.setLevel(Level.DEBUG);
        root.addAppender(log);
        try {
            startHmac();
            String good = hs256(claims("Ann").build());
            String bad = hs256(OTHER_SECRET, claims("Ann").build());
            try (JdkClient ann = JdkClient.connect(ws("/api/connect?token=" + good))) {
                ann.next();
                ann.request("{\"action\":\"refresh\",\"params\":{\"token\":\"" + bad + "\"}}");
                ann.closeGracefully();
            }
            assertRefused(bad, "The token's signature does not verify");
            // A query the decoder refuses would quote the token in its exception: 400, not echoed.
            String malformed = upgradeResponse("/api/connect?token=" + good + "&x=%zz", "");
            assertTrue(malformed.startsWith("HTTP/1.1 400 Bad Request\r\n"), malformed);
            assertFalse(malformed.contains(good), malformed);
            String metrics = get("/metrics");
            assertTrue(metrics.contains("switchboard_auth_failures_total{reason=\"bad_signature\"} 2.0"), metrics);
            assertTrue(metrics.contains("switchboard_closes_total{reason=\"token_expired\"} 0.0"), metrics);
        } finally {
            root.detachAppender(log);
            switchboard.setLevel(before);
        }
        assertFalse(log.list.isEmpty(), "DEBUG logging of io.switchboard was on");
        for (ILoggingEvent e : log.list) {
            String text = e.getFormattedMessage() + throwableText(e.getThrowableProxy());
            assertFalse(text.contains("eyJ"), text); // every JWT starts with the base64url of {"
        }
    }

    private static String throwableText(IThrowableProxy t) {
        return t == null ? "" : t.getClassName() + ": " + t.getMessage() + throwableText(t.getCause());
    }

    @Test
    void embeddersGetTheSameChecksFromTokenAuth() throws Exception {
        try (TokenAuth auth = TokenAuth.builder().hmacSecret(SECRET.getBytes(StandardCharsets.UTF_8))
                .audience(AUDIENCE).build()) {
            server = SwitchboardServer.builder(Switchboard.builder(SwitchboardConfig.builder().host("127.0.0.1").port(0)
                            .build())
                    .connectionAuthorizer(auth.connectionAuthorizer())
                    .channelAuthorizer(auth.channelAuthorizer())
                    .build()).build();
            server.start().join();
            address = server.localAddress();
            String token = hs256(claims("Erin").claim("switchboard", Map.of("subscribe", List.of("ops/*"))).build());
            try (JdkClient erin = JdkClient.connect(ws("/api/connect?token=" + token))) {
                assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"Erin\"}}", erin.next());
                assertEquals("{\"status\":\"error\",\"info\":{\"detail\":\"The token does not allow subscribing to "
                        + "'dev'\",\"code\":\"forbidden\"}}", erin.request(Requests.subscribe("dev")));
            }
            assertRefused(hs256(claims("Erin").audience("other").build()),
                    "The token's audience (aud) does not include 'chat'");
            assertEquals(1L, auth.failures().get("wrong_audience"));
        }
    }
}
