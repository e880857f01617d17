package io.switchboard.server;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.cookie.Cookie;
import io.switchboard.server.internal.auth.ChannelPattern;
import io.switchboard.server.internal.auth.JwtVerifier;
import io.switchboard.server.internal.auth.TokenClaims;
import io.switchboard.server.internal.auth.TokenFailure;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * Token auth (PROTOCOL.md section 1a): a JWT verified with nimbus-jose-jwt at every WebSocket
 * handshake, as a ready {@link #connectionAuthorizer()} and {@link #channelAuthorizer()} pair. The
 * runnable node builds one from its {@code JWT_*} settings ({@link #of(SwitchboardConfig)});
 * an embedder passes the pair to {@link Switchboard.Builder}:
 *
 * <pre>{@code
 * TokenAuth auth = TokenAuth.builder().hmacSecret(secret).audience("chat").build();
 * Switchboard sb = Switchboard.builder(config)
 *         .connectionAuthorizer(auth.connectionAuthorizer())
 *         .channelAuthorizer(auth.channelAuthorizer())
 *         .build();
 * }</pre>
 *
 * <p>The token comes from the query ({@code token=}), an {@code Authorization: Bearer} header, or
 * the {@link Builder#cookie cookie}, first found first. Refused with 401 and the reason (never the
 * token): none, malformed, {@code alg: none}, an algorithm no configured key verifies, an unknown
 * {@code kid}, a bad signature, expired, not yet valid, wrong audience or issuer, no {@code sub}.
 * An accepted token's {@code sub} becomes the client's name and its {@code exp} (plus the leeway)
 * ends the connection unless a {@code refresh} with a token for the same {@code sub} extends it; the
 * {@code switchboard} claim's {@code subscribe} and {@code publish} patterns limit channels.
 *
 * <p>Needs {@code com.nimbusds:nimbus-jose-jwt} on the class path (an optional dependency; the
 * runnable jar has it). Thread-safe. With a JWK set file, a daemon thread reads the file again when
 * it changes (checked every second) until {@link #close()}.
 */
public final class TokenAuth implements AutoCloseable {

    /** How often the JWK set file's time and size are checked. */
    static final Duration JWKS_POLL = Duration.ofSeconds(1);

    private final JwtVerifier verifier;
    private final String cookie;
    private final ScheduledExecutorService watcher;
    private final ConnectionAuthorizer connectionAuthorizer = new Connections();
    private final ChannelAuthorizer channelAuthorizer = new Channels();

    private TokenAuth(Builder b) {
        this.verifier = new JwtVerifier(b.hmacSecret, b.publicKeyFile, b.jwksFile, b.audience, b.issuer, b.leeway);
        this.cookie = b.cookie;
        if (b.jwksFile != null) {
            watcher = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "switchboard-jwks-watch");
                t.setDaemon(true);
                return t;
            });
            long every = JWKS_POLL.toMillis();
            watcher.scheduleWithFixedDelay(verifier::reloadIfChanged, every, every, TimeUnit.MILLISECONDS);
        } else {
            watcher = null;
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The token auth {@code config}'s {@code jwt*} settings describe.
     *
     * @throws IllegalArgumentException when token auth is off in {@code config} or a key file is unusable
     * @throws IllegalStateException    when nimbus-jose-jwt is not on the class path
     */
    public static TokenAuth of(SwitchboardConfig config) {
        if (!config.tokenAuthEnabled()) {
            throw new IllegalArgumentException("token auth is off (expected: jwtHmacSecret, jwtPublicKeyFile or jwtJwksFile)");
        }
        return builder()
                .hmacSecret(config.jwtHmacSecret() == null ? null
                        : config.jwtHmacSecret().getBytes(StandardCharsets.UTF_8))
                .publicKeyFile(config.jwtPublicKeyFile())
                .jwksFile(config.jwtJwksFile())
                .audience(config.jwtAudience())
                .issuer(config.jwtIssuer())
                .cookie(config.jwtCookie())
                .leeway(config.jwtLeeway())
                .build();
    }

    /**
     * Verifies the handshake's token: 401 without a valid one; otherwise the client's
     * {@link Identity} is named by {@code sub}, ends at {@code exp} plus the leeway and carries the
     * channel patterns. Refreshes with a token for the same {@code sub}.
     */
    public ConnectionAuthorizer connectionAuthorizer() {
        return connectionAuthorizer;
    }

    /**
     * Allows a subscribe or publish when the connection's token's {@code switchboard.subscribe} or
     * {@code .publish} patterns match the channel (no list: every channel); refuses everything for a
     * connection without an identity from {@link #connectionAuthorizer()}.
     */
    public ChannelAuthorizer channelAuthorizer() {
        return channelAuthorizer;
    }

    /** Refusals so far by reason ({@code missing}, {@code bad_signature}, {@code expired}, ...), sorted by reason. */
    public Map<String, Long> failures() {
        Map<String, Long> counts = new TreeMap<>();
        for (Map.Entry<TokenFailure, LongAdder> e : verifier.failures().entrySet()) {
            counts.put(e.getKey().label(), e.getValue().sum());
        }
        return counts;
    }

    /** Stops watching the JWK set file. */
    @Override
    public void close() {
        if (watcher != null) {
            watcher.shutdownNow();
        }
    }

    /** The token a handshake carries, or {@code null}: the query's, then the header's, then the cookie's. */
    private String tokenOf(HandshakeRequest request) {
        String query = request.queryParameter("token");
        if (query != null && !query.isEmpty()) {
            return query;
        }
        String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            String bearer = authorization.substring(7).trim();
            if (!bearer.isEmpty()) {
                return bearer;
            }
        }
        if (cookie != null) {
            for (Cookie c : request.cookies()) {
                if (c.name().equals(cookie) && !c.value().isEmpty()) {
                    return c.value();
                }
            }
        }
        return null;
    }

    private static Identity identity(TokenClaims claims) {
        return new Identity(claims.subject(), claims.expiresAt(), claims);
    }

    private static ConnectionAuthorizer.Verdict unauthorized(String detail) {
        return ConnectionAuthorizer.Verdict.refuse(new ConnectionAuthorizer.Rejection(401, detail));
    }

    private final class Connections implements ConnectionAuthorizer {
        @Override
        public Rejection authorize(HandshakeRequest request) {
            return verify(request).rejection();
        }

        @Override
        public Verdict verify(HandshakeRequest request) {
            String token = tokenOf(request);
            if (token == null) {
                verifier.count(TokenFailure.MISSING);
                return unauthorized("No token: send one as ?token=, an Authorization: Bearer header"
                        + (cookie == null ? "" : " or the cookie '" + cookie + "'"));
            }
            JwtVerifier.Result r = verifier.verify(token, Instant.now());
            return r.claims() == null ? unauthorized(r.detail()) : Verdict.accept(identity(r.claims()));
        }

        @Override
        public Verdict refresh(Identity current, String credential) {
            JwtVerifier.Result r = verifier.verify(credential, Instant.now());
            if (r.claims() == null) {
                return unauthorized(r.detail());
            }
            String subject = current.attachment() instanceof TokenClaims c ? c.subject() : current.name();
            if (!r.claims().subject().equals(subject)) {
                verifier.count(TokenFailure.OTHER_SUBJECT);
                return unauthorized("The new token's subject (sub) is not this connection's");
            }
            return Verdict.accept(identity(r.claims()));
        }
    }

    private static final class Channels implements ChannelAuthorizer {
        @Override
        public String authorize(Operation operation, String channelName, String clientName, HandshakeRequest handshake) {
            return "No verified token for this connection";
        }

        @Override
        public String authorize(Operation operation, String channelName, String clientName, HandshakeRequest handshake,
                                Identity identity) {
            if (!(identity.attachment() instanceof TokenClaims claims)) {
                return authorize(operation, channelName, clientName, handshake);
            }
            boolean subscribe = operation == Operation.SUBSCRIBE;
            if (ChannelPattern.anyMatches(subscribe ? claims.subscribe() : claims.publish(), channelName)) {
                return null;
            }
            return "The token does not allow " + (subscribe ? "subscribing to" : "publishing on") + " '"
                    + channelName + "'";
        }
    }

    /** Builds a {@link TokenAuth}: at least one key. Not thread-safe. */
    public static final class Builder {
        private byte[] hmacSecret;
        private Path publicKeyFile;
        private Path jwksFile;
        private String audience;
        private String issuer;
        private String cookie;
        private Duration leeway = Duration.ofSeconds(30);

        private Builder() {
        }

        /** The secret of HS256/384/512 tokens, at least 32 bytes. Default: none. */
        public Builder hmacSecret(byte[] hmacSecret) {
            if (hmacSecret != null && hmacSecret.length < 32) {
                throw new IllegalArgumentException("hmacSecret: " + hmacSecret.length + " bytes (expected: at least 32)");
            }
            this.hmacSecret = hmacSecret == null ? null : hmacSecret.clone();
            return this;
        }

        /** A PEM public key or certificate (RSA: RS256 to PS512; EC: the ES algorithm of its curve; Ed25519: EdDSA). Default: none. */
        public Builder publicKeyFile(Path publicKeyFile) {
            this.publicKeyFile = publicKeyFile;
            return this;
        }

        /** A JWK set file; a token's {@code kid} picks the key; read again when it changes. Default: none. */
        public Builder jwksFile(Path jwksFile) {
            this.jwksFile = jwksFile;
            return this;
        }

        /** The audience {@code aud} must include. Default: not checked. */
        public Builder audience(String audience) {
            this.audience = audience;
            return this;
        }

        /** The issuer {@code iss} must be. Default: not checked. */
        public Builder issuer(String issuer) {
            this.issuer = issuer;
            return this;
        }

        /** A cookie that may carry the token. Default: none. */
        public Builder cookie(String cookie) {
            this.cookie = cookie;
            return this;
        }

        /** Clock skew allowed on {@code exp} and {@code nbf}. Default: 30 seconds. */
        public Builder leeway(Duration leeway) {
            Objects.requireNonNull(leeway, "leeway");
            if (leeway.isNegative()) {
                throw new IllegalArgumentException("leeway: " + leeway + " (expected: >= 0)");
            }
            this.leeway = leeway;
            return this;
        }

        /**
         * @throws IllegalArgumentException when no key is set or a key file is unusable
         * @throws IllegalStateException    when nimbus-jose-jwt is not on the class path
         */
        public TokenAuth build() {
            try {
                Class.forName("com.nimbusds.jwt.SignedJWT", false, TokenAuth.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("Token auth (JWT_*) needs com.nimbusds:nimbus-jose-jwt on the class "
                        + "path: add it to your application, or run the switchboard.jar that includes it", e);
            }
            if (hmacSecret == null && publicKeyFile == null && jwksFile == null) {
                throw new IllegalArgumentException("no key (expected: hmacSecret, publicKeyFile or jwksFile)");
            }
            return new TokenAuth(this);
        }
    }

    @Override
    public String toString() {
        return "TokenAuth{algorithms=" + verifier.acceptedAlgorithms() + ", cookie=" + cookie + '}';
    }
}
