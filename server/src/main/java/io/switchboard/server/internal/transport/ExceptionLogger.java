package io.switchboard.server.internal.transport;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.switchboard.server.internal.metrics.Metrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import javax.net.ssl.SSLException;

/**
 * The last handler of every pipeline, and the only one that logs exceptions. What a peer causes
 * (resets, broken pipes, protocol violations already answered with a close frame) is logged at
 * DEBUG. Anything else is a bug or an exhausted resource: the connection is closed (a session has
 * already said goodbye if it could, close 1011), never left half alive, and the exception is logged
 * at WARN, at most once per {@link #WARN_INTERVAL_NANOS} for the whole node, with the number of
 * others since, so that a client repeating what trips it cannot flood the log.
 */
@Sharable
public final class ExceptionLogger extends ChannelInboundHandlerAdapter {

    private static final Logger logger = LoggerFactory.getLogger(ExceptionLogger.class);
    private static final Pattern EXPECTED_MESSAGE = Pattern.compile(
            ".*(?:connection.*(?:reset|closed|abort|broken)|broken.*pipe).*", Pattern.CASE_INSENSITIVE);
    /** A token in a query ({@code token=...}) or an {@code Authorization} header's credential. */
    private static final Pattern CREDENTIAL = Pattern.compile("((?:[?&;]|\\b)token=|Bearer\\s+)[^&\\s'\"]*",
            Pattern.CASE_INSENSITIVE);
    static final long WARN_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final Metrics metrics;
    /** When the last WARN was written; the next may be written once this interval has passed. */
    private final AtomicLong lastWarnNanos = new AtomicLong(System.nanoTime() - WARN_INTERVAL_NANOS);
    private final AtomicLong unlogged = new AtomicLong();

    public ExceptionLogger(Metrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (isPipeliningTooDeep(cause)) {
            // HttpServerCodec refuses to hold more unanswered requests: a keep-alive client that
            // pipelines while it does not read its responses (reading is off, they wait in the flow control).
            logger.debug("{} closed: too many pipelined requests while it does not read: {}", ctx.channel(),
                    cause.toString());
            metrics.close(Metrics.Close.SLOW_CONSUMER);
            ctx.close();
            return;
        }
        if (isExpected(cause)) {
            logger.debug("{} closed by its peer or a protocol violation: {}", ctx.channel(), redact(cause).toString());
            return;
        }
        metrics.close(Metrics.Close.INTERNAL_ERROR);
        ctx.flush(); // what a handler wrote before it failed (an error reply, a close frame) goes first
        ctx.close();
        long now = System.nanoTime();
        long last = lastWarnNanos.get();
        if (now - last >= WARN_INTERVAL_NANOS && lastWarnNanos.compareAndSet(last, now)) {
            long others = unlogged.getAndSet(0);
            logger.warn("{} closed after an unexpected exception ({} more since the last one logged, at DEBUG):",
                    ctx.channel(), others, redact(cause));
        } else {
            unlogged.incrementAndGet();
            logger.debug("{} closed after an unexpected exception:", ctx.channel(), redact(cause));
        }
    }

    /**
     * {@code cause}, or a copy whose messages hide credentials: an exception about a request line
     * (a malformed query, say) may quote {@code token=...} or a bearer token, which must never reach
     * a log (issue 19). The copy keeps the class name and stack trace of each exception in the chain.
     */
    static Throwable redact(Throwable cause) {
        boolean secret = false;
        for (Throwable t = cause; t != null && !secret; t = t.getCause() == t ? null : t.getCause()) {
            String m = t.getMessage();
            secret = m != null && CREDENTIAL.matcher(m).find();
        }
        return secret ? copyRedacted(cause, 0) : cause;
    }

    private static Throwable copyRedacted(Throwable t, int depth) {
        String m = t.getMessage();
        String message = t.getClass().getName() + (m == null ? "" : ": " + CREDENTIAL.matcher(m).replaceAll("$1<redacted>"));
        Throwable cause = t.getCause() == null || t.getCause() == t || depth > 8 ? null : copyRedacted(t.getCause(), depth + 1);
        RedactedException copy = new RedactedException(message, cause);
        copy.setStackTrace(t.getStackTrace());
        return copy;
    }

    /** An exception whose message had a credential taken out; its message starts with the original class name. */
    static final class RedactedException extends RuntimeException {
        RedactedException(String message, Throwable cause) {
            super(message, cause);
        }

        @Override
        public String toString() {
            return getMessage();
        }
    }

    private static boolean isPipeliningTooDeep(Throwable cause) {
        return cause instanceof DecoderException && cause.getCause() instanceof IllegalStateException
                && String.valueOf(cause.getCause().getMessage()).startsWith("maxPipelineDepth exceeded");
    }

    /** Whether {@code cause} is what a misbehaving or departing peer causes, not a bug. */
    public static boolean isExpected(Throwable cause) {
        if (cause instanceof DecoderException && cause.getCause() instanceof SSLException || cause instanceof SSLException) {
            return true; // a TLS handshake or record the client got wrong (counted by Tls)
        }
        if (cause instanceof ClosedChannelException || cause instanceof CorruptedWebSocketFrameException
                || cause instanceof PrematureChannelClosureException) { // gone in the middle of a fragmented message
            return true;
        }
        if (cause instanceof IOException) {
            String message = cause.getMessage();
            return message != null && EXPECTED_MESSAGE.matcher(message).matches();
        }
        return false;
    }
}
