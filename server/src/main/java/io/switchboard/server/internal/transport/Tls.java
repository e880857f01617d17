package io.switchboard.server.internal.transport;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OptionalSslHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.switchboard.server.PipelineNames;
import io.switchboard.server.TlsProvider;
import io.switchboard.server.internal.metrics.Metrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/**
 * TLS on the WebSocket port (issue 19): the {@link SslContext} new connections get, reloaded from
 * {@code TLS_CERT_FILE} / {@code TLS_KEY_FILE} when they change, and the handler every accepted
 * connection starts with.
 *
 * <p><b>Where TLS sits.</b> First in the pipeline, closer to the socket than {@link Backpressure}
 * ({@link PipelineNames} draws it): deliveries are written from {@code Backpressure}'s context and
 * must still be encrypted, so the {@link SslHandler} has to be nearer the socket than that context.
 * What {@code Backpressure} bounds is unchanged: the {@code SslHandler} keeps the plaintext it has not
 * yet wrapped in a queue that counts towards the channel's pending outbound bytes, and what it has
 * wrapped lies in Netty's outbound buffer, so the water marks and the hard limit count every byte
 * waiting for the peer, plaintext or encrypted (a TLS record adds at most a few dozen bytes per 16 KiB).
 *
 * <p><b>What is refused.</b> The first five bytes decide: a TLS record goes to the
 * {@code SslHandler} (TLS 1.2 and 1.3 only, ALPN {@code http/1.1}); anything else, say a plain
 * HTTP request, gets {@code 400} in plain text and is closed. A handshake that does not complete within
 * {@code HANDSHAKE_TIMEOUT} is closed by {@link HttpDeadline}, which covers it as it covers a slow
 * request. Every end is counted ({@link Metrics.TlsFailure}).
 *
 * <p><b>Reloads.</b> {@link #reload()} builds a new context from the files; it is used by the
 * connections accepted after it, while open ones keep the one they were accepted with. A pair that
 * cannot be read, or whose key is not the certificate's (one file replaced before the other), is
 * refused and the previous context stays. Thread-safe.
 */
public final class Tls {

    private static final Logger logger = LoggerFactory.getLogger(Tls.class);

    /** How often {@link #reloadIfChanged()} should be called: the files are checked this often. */
    public static final long POLL_SECONDS = 2;

    /** A node without TLS: nothing is installed. */
    public static final Tls OFF = new Tls(null, null, null, null, null);

    /** What a client that does not speak TLS is told, in plain text. */
    static final String PLAIN_REFUSAL_TEXT = "This port speaks TLS only: use https:// or wss://.\n";
    private static final byte[] PLAIN_REFUSAL = ("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8"
            + "\r\nContent-Length: " + PLAIN_REFUSAL_TEXT.length() + "\r\nConnection: close\r\n\r\n"
            + PLAIN_REFUSAL_TEXT).getBytes(StandardCharsets.US_ASCII);
    private static final Pattern PROTOCOL_REFUSED = Pattern.compile(
            "(?i).*(protocol.*(not enabled|not supported|unsupported)|unsupported.?protocol|no appropriate protocol"
                    + "|protocol.?version|wrong.?version).*", Pattern.DOTALL);

    private final Path certFile;
    private final Path keyFile;
    private final SslProvider provider;
    private final Supplier<SslContext> supplied;
    private final Metrics metrics;
    private volatile SslContext current;
    /** What the files looked like when last loaded or tried: modified time, size and file key of each. */
    private List<Object> seen;

    private Tls(Path certFile, Path keyFile, SslProvider provider, Supplier<SslContext> supplied, Metrics metrics) {
        this.certFile = certFile;
        this.keyFile = keyFile;
        this.provider = provider;
        this.supplied = supplied;
        this.metrics = metrics;
    }

    /**
     * Loads the certificate and key now.
     *
     * @throws IOException with a message for the operator when the files cannot be read or do not
     *                     match, or the provider cannot load ({@code TLS_PROVIDER=openssl} without
     *                     {@code netty-tcnative})
     */
    public static Tls fromFiles(Path certFile, Path keyFile, TlsProvider provider, Metrics metrics) throws IOException {
        Tls tls = new Tls(Objects.requireNonNull(certFile, "certFile"), Objects.requireNonNull(keyFile, "keyFile"),
                provider(provider), null, metrics);
        synchronized (tls) {
            tls.seen = tls.statOrError();
            tls.current = tls.build();
        }
        return tls;
    }

    /** TLS with an embedder's contexts: {@code contexts} is asked for one per accepted connection. */
    public static Tls supplied(Supplier<SslContext> contexts, Metrics metrics) {
        return new Tls(null, null, null, Objects.requireNonNull(contexts, "contexts"), metrics);
    }

    private static SslProvider provider(TlsProvider provider) throws IOException {
        switch (provider) {
            case JDK:
                return SslProvider.JDK;
            case OPENSSL:
                if (!openSslAvailable()) {
                    throw new IOException("TLS_PROVIDER=openssl cannot load here: " + openSslUnavailability()
                            + " (it needs io.netty:netty-tcnative-boringssl-static for this platform on the class "
                            + "path; auto uses the JDK where it does not load)");
                }
                return SslProvider.OPENSSL;
            default:
                return openSslAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        }
    }

    private static boolean openSslAvailable() {
        try {
            return OpenSsl.isAvailable();
        } catch (LinkageError e) {
            return false; // netty-tcnative-classes absent
        }
    }

    private static String openSslUnavailability() {
        try {
            return String.valueOf(OpenSsl.unavailabilityCause());
        } catch (LinkageError e) {
            return e.toString();
        }
    }

    /** Whether connections are served over TLS. */
    public boolean enabled() {
        return this != OFF;
    }

    /** {@code openssl} or {@code jdk}: whose TLS the files are served with; {@code null} when supplied or off. */
    public String providerName() {
        return provider == null ? null : provider == SslProvider.JDK ? "jdk" : "openssl";
    }

    /** The context new connections get now. */
    public SslContext context() {
        return supplied != null ? supplied.get() : current;
    }

    /** Whether this TLS is read from files (and so can be reloaded). */
    public boolean fromFiles() {
        return certFile != null;
    }

    /**
     * Rebuilds the context from the files, for the connections accepted from now on. On failure the
     * previous context stays and the reason is logged at WARN. Returns whether the new one is in use.
     */
    public synchronized boolean reload() {
        if (certFile == null) {
            return false;
        }
        // What the files look like before they are read: a change made while they are read is seen next time.
        seen = statOrError();
        try {
            current = build();
            metrics.tlsReloads.increment();
            logger.info("TLS certificate reloaded from {} and {}: new connections get it", certFile, keyFile);
            return true;
        } catch (IOException e) {
            metrics.tlsReloadFailures.increment();
            logger.warn("TLS certificate not reloaded, the previous one stays in use: {}", e.getMessage());
            return false;
        }
    }

    /** Reloads when either file's modified time, size or identity changed since the last load or try. */
    public synchronized void reloadIfChanged() {
        if (certFile == null) {
            return;
        }
        List<Object> now = statOrError();
        if (!now.equals(seen)) {
            if (now.size() == 1) {
                seen = now; // a file missing for a moment (being replaced): reload when it is back
                return;
            }
            reload();
        }
    }

    /** {@link #stat()}, or the error as a one-element list. */
    private List<Object> statOrError() {
        try {
            return stat();
        } catch (IOException e) {
            return List.of(e.toString());
        }
    }

    private List<Object> stat() throws IOException {
        BasicFileAttributes c = Files.readAttributes(certFile, BasicFileAttributes.class);
        BasicFileAttributes k = Files.readAttributes(keyFile, BasicFileAttributes.class);
        return List.of(c.lastModifiedTime(), c.size(), String.valueOf(c.fileKey()),
                k.lastModifiedTime(), k.size(), String.valueOf(k.fileKey()));
    }

    private SslContext build() throws IOException {
        X509Certificate[] chain = PemFiles.certificates(certFile);
        PrivateKey key = PemFiles.privateKey(keyFile);
        PemFiles.checkPair(key, chain[0], keyFile, certFile);
        SslContext context;
        try {
            context = SslContextBuilder.forServer(key, chain)
                    .sslProvider(provider)
                    .protocols("TLSv1.3", "TLSv1.2")
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_1_1))
                    .build();
        } catch (SSLException | RuntimeException e) {
            throw new IOException("TLS_CERT_FILE " + certFile + " / TLS_KEY_FILE " + keyFile + ": the " + providerName()
                    + " provider refused them: " + e, e);
        }
        metrics.tlsCertificateNotAfter = chain[0].getNotAfter().toInstant().getEpochSecond();
        return context;
    }

    /**
     * Puts the TLS handler first in {@code pipeline}, before {@link PipelineNames#BACKPRESSURE}:
     * it becomes the {@link SslHandler} (same name) when the client speaks TLS. Nothing when off.
     */
    public void install(ChannelPipeline pipeline) {
        if (this == OFF) {
            return;
        }
        pipeline.addFirst(PipelineNames.TLS, new Detector(context()));
    }

    /** Counts how a connection's handshake ended. */
    private void watch(Channel ch, Future<Channel> handshake) {
        handshake.addListener(f -> {
            if (f.isSuccess()) {
                metrics.tlsHandshakes.increment();
                return;
            }
            Metrics.TlsFailure why = failure(ch, f.cause());
            metrics.tlsFailure(why);
            logger.debug("{} TLS handshake failed ({}): {}", ch, why, f.cause().toString());
        });
    }

    private static Metrics.TlsFailure failure(Channel ch, Throwable cause) {
        if (HttpDeadline.expired(ch) || cause instanceof SslHandshakeTimeoutException) {
            return Metrics.TlsFailure.TIMEOUT;
        }
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t.getMessage() != null && PROTOCOL_REFUSED.matcher(t.getMessage()).matches()) {
                return Metrics.TlsFailure.PROTOCOL;
            }
        }
        if (cause instanceof ClosedChannelException || cause.getCause() instanceof ClosedChannelException
                || String.valueOf(cause.getMessage()).contains("closed")) {
            return Metrics.TlsFailure.CLOSED;
        }
        return Metrics.TlsFailure.HANDSHAKE;
    }

    /**
     * Looks at the first five bytes: a TLS record makes it the connection's {@link SslHandler}; anything
     * else is answered with {@code 400} and closed. One per connection.
     */
    private final class Detector extends OptionalSslHandler {

        Detector(SslContext context) {
            super(context);
        }

        @Override
        protected String newSslHandlerName() {
            return PipelineNames.TLS;
        }

        @Override
        protected SslHandler newSslHandler(ChannelHandlerContext ctx, SslContext context) {
            SslHandler handler = context.newHandler(ctx.alloc());
            // HttpDeadline closes a connection whose handshake has not completed by HANDSHAKE_TIMEOUT.
            handler.setHandshakeTimeoutMillis(0);
            watch(ctx.channel(), handler.handshakeFuture());
            return handler;
        }

        @Override
        protected String newNonSslHandlerName() {
            return PipelineNames.TLS;
        }

        @Override
        protected ChannelHandler newNonSslHandler(ChannelHandlerContext ctx) {
            metrics.tlsFailure(Metrics.TlsFailure.NOT_TLS);
            logger.debug("{} sent something other than TLS to the TLS port: answered 400", ctx.channel());
            return new PlainRefusal();
        }
    }

    /** Answers a client that does not speak TLS with a plain {@code 400}, drops what it sent, closes. */
    private static final class PlainRefusal extends ChannelInboundHandlerAdapter {

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ctx.channel().config().setAutoRead(false);
            ctx.writeAndFlush(Unpooled.wrappedBuffer(PLAIN_REFUSAL)).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
        }
    }
}
