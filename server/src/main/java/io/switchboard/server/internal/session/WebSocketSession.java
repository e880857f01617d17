package io.switchboard.server.internal.session;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler.HandshakeComplete;
import io.netty.util.ReferenceCountUtil;
import io.switchboard.server.internal.broker.Dialect;
import io.switchboard.server.internal.compression.InflatedTooLargeException;
import io.switchboard.server.internal.compression.PerMessageDeflate;
import io.switchboard.server.internal.metrics.Metrics;
import io.switchboard.server.internal.transport.CloseFrames;
import io.switchboard.server.internal.transport.ExceptionLogger;
import io.switchboard.server.internal.transport.HttpDeadline;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * What every WebSocket dialect's session does the same way: the message rate limit, the
 * heartbeat, the close handshake, the end of a token's life ({@link #expireAt}), and
 * pausing reads while the session waits for the cluster. A dialect says what a connection's
 * opening, its text and binary messages, and its end mean.
 *
 * <p>One instance per connection; it lives on the connection's event loop and is not thread-safe.
 * Replies are flushed once per read batch; deliveries once per fan-out batch.
 */
public abstract class WebSocketSession extends Session {

    private static final Logger logger = LoggerFactory.getLogger(WebSocketSession.class);

    public final int maxMessageBytes;
    private final RateLimiter rateLimiter;
    private boolean handshakeComplete;
    /** Whether {@link #closed} has run. */
    private boolean left;
    /**
     * Whether the session waits (for the cluster) with reading off; what was already read waits in
     * the pipeline's {@code FlowControlHandler}, to be served in order after.
     */
    private boolean paused;
    /** When the last read batch ended, for the heartbeat. */
    private long lastReadNanos;
    private ScheduledFuture<?> pinger;
    /** When the connection's token ends it (issue 19), or {@code null}; the timer that does it, once the handshake is done. */
    private Instant expiresAt;
    private ScheduledFuture<?> expiry;

    public WebSocketSession(SessionContext context, Dialect dialect) {
        super(context, dialect);
        this.maxMessageBytes = config.maxMessageBytes();
        this.rateLimiter = new RateLimiter(config.maxMessagesPerSecond(), System.nanoTime());
    }

    /** The handshake is done: greet the client. */
    public abstract void opened(ChannelHandlerContext ctx);

    /** Serves a text message. Does not take ownership of {@code payload}. */
    public abstract void onText(ChannelHandlerContext ctx, ByteBuf payload);

    /** Answers a binary message (no dialect of the seeds takes one). Does not take ownership of {@code payload}. */
    public abstract void onBinary(ChannelHandlerContext ctx, ByteBuf payload);

    /** Answers a message over the rate limit (below the abusive level, which closes the connection). */
    public abstract void onRateLimited(ChannelHandlerContext ctx);

    /**
     * The connection is gone, or cut off as a slow consumer and waiting for its close to be taken:
     * leave every channel. Called once, from the event loop.
     */
    public abstract void closed(ChannelHandlerContext ctx);

    /**
     * Queues 1008 "slow consumer" behind what is pending and closes once it is written: a client that
     * reads again gets its backlog, then the reason. One that does not is cut off after
     * {@code PING_TIMEOUT}, as a client that does not answer a ping; nothing new is written to it
     * meanwhile. At the hard limit
     * {@code Backpressure} refuses this frame too and closes the connection at once, without one.
     */
    @Override
    public void closeSlowConsumer() {
        // Its channels and rooms count it out now, not when the client lets go; after the current
        // task, which may be a fan-out over those very channels (the hard limit is met in one).
        ctx.executor().execute(() -> leave(ctx));
        close(ctx, WebSocketCloseStatus.POLICY_VIOLATION, "slow consumer");
        ScheduledFuture<?> cutOff = ctx.executor().schedule(() -> {
            ctx.close();
        }, config.pingTimeout().toNanos(), TimeUnit.NANOSECONDS);
        ctx.channel().closeFuture().addListener(f -> cutOff.cancel(false));
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof HandshakeComplete) {
            handshakeComplete = true;
            if (PerMessageDeflate.negotiated(ctx.pipeline())) {
                connection.acceptsDeflate();
            }
            HttpDeadline.upgraded(ctx.channel());
            logger.debug("{} connected as {}", ctx.channel(), label());
            lastReadNanos = System.nanoTime();
            long interval = config.pingInterval().toNanos();
            if (interval > 0) {
                pinger = ctx.executor().scheduleAtFixedRate(this::ping, interval, interval, TimeUnit.NANOSECONDS);
            }
            scheduleExpiry();
            opened(ctx);
            ctx.flush();
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (connection.closing && !(msg instanceof CloseWebSocketFrame)) {
            ReferenceCountUtil.release(msg); // nothing more is served once the session closes
            return;
        }
        boolean message = msg instanceof TextWebSocketFrame || msg instanceof BinaryWebSocketFrame;
        if (message) {
            metrics.messagesIn.increment();
        }
        if (message && !rateLimiter.tryAcquire(System.nanoTime())) {
            ReferenceCountUtil.release(msg);
            if (rateLimiter.isAbusive()) {
                metrics.close(Metrics.Close.RATE_LIMIT);
                close(ctx, WebSocketCloseStatus.POLICY_VIOLATION, "Rate limit exceeded");
            } else {
                onRateLimited(ctx);
            }
            return;
        }
        if (msg instanceof TextWebSocketFrame) {
            try {
                onText(ctx, ((TextWebSocketFrame) msg).content());
            } finally {
                ReferenceCountUtil.release(msg);
            }
        } else if (msg instanceof CloseWebSocketFrame) {
            // Echo the client's close, status included (RFC 6455 section 5.5.1), or answer an invalid
            // status with 1002, unless ours is already out; deliveries stop before it. The frame
            // passes to CloseFrames.answer, whose result the write releases.
            if (connection.closing) {
                ReferenceCountUtil.release(msg);
                ctx.close();
            } else {
                connection.closing = true;
                CloseWebSocketFrame answer = CloseFrames.answer((CloseWebSocketFrame) msg);
                if (answer != msg) {
                    metrics.close(Metrics.Close.PROTOCOL_ERROR);
                }
                ctx.writeAndFlush(answer).addListener(ChannelFutureListener.CLOSE);
            }
        } else if (msg instanceof HttpContent) {
            // The rest of a handshake request that was not aggregated (a mount without an aggregator).
            ReferenceCountUtil.release(msg);
        } else if (msg instanceof BinaryWebSocketFrame) {
            try {
                onBinary(ctx, ((BinaryWebSocketFrame) msg).content());
            } finally {
                ReferenceCountUtil.release(msg);
            }
        } else {
            ctx.fireChannelRead(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        lastReadNanos = System.nanoTime(); // any frame, a pong included, shows the client is alive
        ctx.flush();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (pinger != null) {
            pinger.cancel(false);
        }
        if (expiry != null) {
            expiry.cancel(false);
        }
        leave(ctx);
        logger.debug("{} {} disconnected", ctx.channel(), label());
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            // A fragmented message over the limit (a single over-size frame is refused by the decoder).
            // Or a compressed message that inflates past it (a decompression bomb, issue 19).
            boolean bomb = cause instanceof InflatedTooLargeException;
            metrics.close(bomb ? Metrics.Close.DECOMPRESSION_BOMB : Metrics.Close.MESSAGE_TOO_BIG);
            if (!connection.closing) {
                close(ctx, WebSocketCloseStatus.MESSAGE_TOO_BIG, bomb ? cause.getMessage()
                        : "Message is larger than " + maxMessageBytes + " bytes");
            }
        } else {
            if (!ExceptionLogger.isExpected(cause) && !connection.closing && handshakeComplete) {
                // A bug or an exhausted resource: say so (1011) before the tail closes the connection.
                connection.closing = true;
                ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.INTERNAL_SERVER_ERROR, "Internal error"));
            }
            if (cause instanceof CorruptedWebSocketFrameException) {
                // A protocol violation Netty's decoder or UTF-8 validator found: answer it with its close
                // code (they send none themselves, see CloseFrames) and count why. Netty's protocol
                // handler closes the connection once this returns.
                CorruptedWebSocketFrameException violation = (CorruptedWebSocketFrameException) cause;
                WebSocketCloseStatus status = violation.closeStatus();
                metrics.close(WebSocketCloseStatus.MESSAGE_TOO_BIG.equals(status) ? Metrics.Close.MESSAGE_TOO_BIG
                        : WebSocketCloseStatus.INVALID_PAYLOAD_DATA.equals(status) ? Metrics.Close.INVALID_UTF8
                        : Metrics.Close.PROTOCOL_ERROR);
                if (!connection.closing) {
                    connection.closing = true;
                    ctx.writeAndFlush(CloseFrames.answer(violation)).addListener(ChannelFutureListener.CLOSE);
                }
            }
            ctx.fireExceptionCaught(cause);
        }
    }

    /**
     * Ends the connection at {@code at} (close 1008 "token expired"), replacing any earlier end:
     * the identity's expiry at the handshake, a refreshed one after. {@code null}: never. Must be
     * called from the event loop (or before the session is added).
     */
    public void expireAt(Instant at) {
        expiresAt = at;
        if (handshakeComplete) {
            scheduleExpiry();
        }
    }

    private void scheduleExpiry() {
        if (expiry != null) {
            expiry.cancel(false);
            expiry = null;
        }
        if (expiresAt == null) {
            return;
        }
        Duration left = Duration.between(Instant.now(), expiresAt);
        // An exp centuries away would overflow milliseconds; Netty clamps a huge delay to its far future.
        long delayMillis = left.isNegative() ? 0 : left.getSeconds() >= Long.MAX_VALUE / 1000 ? Long.MAX_VALUE : left.toMillis();
        expiry = ctx.executor().schedule(this::expire, delayMillis, TimeUnit.MILLISECONDS);
    }

    private void expire() {
        if (connection.closing || !ctx.channel().isActive()) {
            return;
        }
        logger.debug("{} {} closed: its token expired", ctx.channel(), label());
        metrics.close(Metrics.Close.TOKEN_EXPIRED);
        close(ctx, WebSocketCloseStatus.POLICY_VIOLATION, "token expired");
    }

    /**
     * Pings the client; one that shows no sign of life within the ping timeout is closed: 1001
     * "ping timeout", without waiting for the close frame to get through (the peer may be gone).
     */
    private void ping() {
        if (connection.closing || paused) {
            return; // reading is paused: a pong could not be seen
        }
        long sentAt = System.nanoTime();
        ctx.writeAndFlush(new PingWebSocketFrame(), ctx.voidPromise());
        ctx.executor().schedule(() -> {
            if (lastReadNanos - sentAt < 0 && !connection.closing && !paused) {
                logger.debug("{} {} closed: no answer to a ping within {}", ctx.channel(), label(),
                        config.pingTimeout());
                connection.closing = true;
                metrics.close(Metrics.Close.PING_TIMEOUT);
                ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.ENDPOINT_UNAVAILABLE, "ping timeout"));
                ctx.close();
            }
        }, config.pingTimeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    /**
     * Closes the session because the server stops: close 1001 once the handshake is done, a plain
     * close before. Must be called from the connection's event loop.
     */
    @Override
    public void goAway() {
        if (handshakeComplete) {
            close(ctx, WebSocketCloseStatus.ENDPOINT_UNAVAILABLE, "Server shutting down");
        } else {
            ctx.close();
        }
    }

    /**
     * Stops reading while the session waits (for the cluster); what was read already is held by the
     * pipeline's flow control and served after {@link #resume}.
     */
    public void pause() {
        if (!paused) {
            paused = true;
            backpressure.holdReads();
        }
    }

    /**
     * For a frame that carries more than one message (a batched minichats connection, PROTOCOL.md
     * section 1a): counts one more message and takes it from the rate limit, as {@link #channelRead}
     * does for a frame. Returns whether to serve it; over the limit it is answered as a frame would
     * be ({@link #onRateLimited}, or close 1008 at the abusive level).
     */
    protected boolean admitAnother(ChannelHandlerContext ctx) {
        metrics.messagesIn.increment();
        if (rateLimiter.tryAcquire(System.nanoTime())) {
            return true;
        }
        if (rateLimiter.isAbusive()) {
            metrics.close(Metrics.Close.RATE_LIMIT);
            close(ctx, WebSocketCloseStatus.POLICY_VIOLATION, "Rate limit exceeded");
        } else {
            onRateLimited(ctx);
        }
        return false;
    }

    /** Whether the session is {@link #pause paused}. */
    public boolean isPaused() {
        return paused;
    }

    /**
     * Ends a {@link #pause}: runs {@code first} (the answer the session waited to give), then serves
     * what was read meanwhile, in order (reading on again releases it). Must be called from the
     * event loop. Runs nothing once the connection is closing or gone.
     */
    public void resume(Runnable first) {
        if (!paused) {
            return;
        }
        paused = false;
        if (!ctx.channel().isActive() || connection.closing) {
            return; // the flow control releases what it holds when the connection goes
        }
        lastReadNanos = System.nanoTime(); // reading was paused, not the client
        first.run();
        ctx.flush();
        backpressure.releaseReads(); // serves the held messages, which may pause again
    }

    /** Writes a reply; the read batch's end flushes it. Takes ownership of {@code payload}. */
    public static void reply(ChannelHandlerContext ctx, ByteBuf payload) {
        ctx.write(new TextWebSocketFrame(payload), ctx.voidPromise());
    }

    /** Runs {@link #closed} once: when the connection is gone, or earlier when it is cut off as a slow consumer. */
    private void leave(ChannelHandlerContext ctx) {
        if (!left) {
            left = true;
            closed(ctx);
        }
    }

    /** Sends a close frame and closes the connection once it is written. */
    public void close(ChannelHandlerContext ctx, WebSocketCloseStatus status, String reason) {
        connection.closing = true;
        ctx.writeAndFlush(new CloseWebSocketFrame(status, reason)).addListener(ChannelFutureListener.CLOSE);
    }
}
