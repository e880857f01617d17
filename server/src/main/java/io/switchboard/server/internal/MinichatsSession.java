package io.switchboard.server.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler.HandshakeComplete;
import io.netty.util.ReferenceCountUtil;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.minichats.Action;
import io.switchboard.protocol.minichats.ErrorCode;
import io.switchboard.protocol.minichats.MinichatsDecoder;
import io.switchboard.protocol.minichats.MinichatsEncoder;
import io.switchboard.protocol.minichats.MinichatsException;
import io.switchboard.protocol.minichats.MinichatsRequest;
import io.switchboard.server.ChannelAuthorizer;
import io.switchboard.server.HandshakeRequest;
import io.switchboard.server.SlowConsumerPolicy;
import io.switchboard.server.SwitchboardConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One minichats connection (PROTOCOL.md section 1): confirms the connection, serves each request
 * in order and replies to it, and hands publishes to the {@link Broker}. Replies are flushed once
 * per read batch; deliveries once per fan-out batch.
 *
 * <p>One instance per connection; it lives on the connection's event loop and is not thread-safe.
 */
final class MinichatsSession extends ChannelInboundHandlerAdapter {

    private static final Logger logger = LoggerFactory.getLogger(MinichatsSession.class);

    private final Broker broker;
    private final MinichatsDecoder decoder;
    private final int maxMessageBytes;
    private final int maxSubscriptions;
    private final int maxMessagesPerSecond;
    private final RateLimiter rateLimiter;
    private final RateLimiter subscribeLimiter;
    private final ChannelAuthorizer authorizer;
    private final HandshakeRequest handshake;
    private final String clientName;
    private final byte[] quotedName;
    private final byte[] utf8Name;
    private final Map<String, Subscription> subscriptions = new HashMap<>();
    private final SwitchboardConfig config;
    private final Metrics metrics;
    private Connection connection;
    private ChannelHandlerContext ctx;
    private boolean handshakeComplete;
    /**
     * Messages read while a subscribe waits for the cluster (reading is paused meanwhile), served
     * in order once it is answered; {@code null} when no subscribe waits.
     */
    private ArrayDeque<Object> backlog;
    /** The most messages {@link #backlog} holds before the client is closed (a flood while waiting). */
    private static final int MAX_BACKLOG = 1024;
    /** When the last read batch ended, for the heartbeat. */
    private long lastReadNanos;
    private ScheduledFuture<?> pinger;
    /** Closes a slow consumer still over its soft limit when it fires (close policy). */
    private ScheduledFuture<?> slowConsumerTimer;

    MinichatsSession(Node node, String clientName, HandshakeRequest handshake) {
        SwitchboardConfig config = node.config();
        this.config = config;
        this.metrics = node.metrics();
        this.broker = node.broker();
        this.decoder = node.minichatsDecoder();
        this.authorizer = node.channelAuthorizer();
        this.handshake = handshake;
        this.maxMessageBytes = config.maxMessageBytes();
        this.maxSubscriptions = config.maxSubscriptionsPerConnection();
        this.maxMessagesPerSecond = config.maxMessagesPerSecond();
        this.rateLimiter = new RateLimiter(maxMessagesPerSecond, System.nanoTime());
        this.subscribeLimiter = new RateLimiter(config.maxSubscribesPerSecond(), System.nanoTime());
        this.clientName = clientName;
        this.quotedName = JsonStrings.quote(clientName);
        this.utf8Name = clientName.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        int soft = config.outboundSoftLimitBytes();
        ctx.channel().config().setWriteBufferWaterMark(new WriteBufferWaterMark(soft / 2, soft));
        connection = broker.connect(ctx, config.slowConsumerPolicy(), config.outboundHardLimitBytes(),
                () -> closeSlowConsumer("over the hard limit of " + config.outboundHardLimitBytes() + " bytes"));
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (config.slowConsumerPolicy() == SlowConsumerPolicy.CLOSE) {
            if (!ctx.channel().isWritable()) {
                if (slowConsumerTimer == null) {
                    slowConsumerTimer = ctx.executor().schedule(() -> {
                        slowConsumerTimer = null;
                        if (!ctx.channel().isWritable()) {
                            closeSlowConsumer("over the soft limit for " + config.outboundSoftLimitTime());
                        }
                    }, config.outboundSoftLimitTime().toNanos(), TimeUnit.NANOSECONDS);
                }
            } else if (slowConsumerTimer != null) {
                slowConsumerTimer.cancel(false);
                slowConsumerTimer = null;
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    /**
     * Ends a subscriber that does not keep up: 1008 "slow consumer", without waiting for the close
     * frame to get through the backlog in front of it.
     */
    private void closeSlowConsumer(String why) {
        if (connection.closing) {
            return;
        }
        logger.info("{} {} closed as a slow consumer: {}", ctx.channel(), clientName, why);
        metrics.close(Metrics.Close.SLOW_CONSUMER);
        connection.closing = true;
        ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.POLICY_VIOLATION, "slow consumer"));
        ctx.close();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof HandshakeComplete) {
            handshakeComplete = true;
            ChannelHandlerContext encoder = ctx.pipeline().context(WebSocketFrameEncoder.class);
            if (encoder != null) {
                connection.ctx = encoder;
            }
            logger.debug("{} connected as {}", ctx.channel(), clientName);
            lastReadNanos = System.nanoTime();
            long interval = config.pingInterval().toNanos();
            if (interval > 0) {
                pinger = ctx.executor().scheduleAtFixedRate(this::ping, interval, interval, TimeUnit.NANOSECONDS);
            }
            ctx.writeAndFlush(new TextWebSocketFrame(MinichatsEncoder.connected(ctx.alloc(), quotedName)));
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (connection.closing && !(msg instanceof CloseWebSocketFrame)) {
            ReferenceCountUtil.release(msg); // nothing more is served once the session closes
            return;
        }
        if (backlog != null) {
            if (backlog.size() >= MAX_BACKLOG) {
                ReferenceCountUtil.release(msg);
                metrics.close(Metrics.Close.RATE_LIMIT);
                close(ctx, WebSocketCloseStatus.POLICY_VIOLATION, "Too many requests while a subscribe waits");
                return;
            }
            backlog.add(msg);
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
                metrics.error(ErrorCode.RATE_LIMITED);
                reply(ctx, MinichatsEncoder.error(ctx.alloc(), null, ErrorCode.RATE_LIMITED,
                        "Too many messages: at most " + maxMessagesPerSecond + " per second"));
            }
            return;
        }
        if (msg instanceof TextWebSocketFrame) {
            try {
                serve(ctx, ((TextWebSocketFrame) msg).content());
            } finally {
                ReferenceCountUtil.release(msg);
            }
        } else if (msg instanceof CloseWebSocketFrame) {
            // Echo the client's close, status included (RFC 6455 section 5.5.1), unless ours is already
            // out; deliveries stop before it. The frame passes to the write, which releases it.
            if (connection.closing) {
                ReferenceCountUtil.release(msg);
                ctx.close();
            } else {
                connection.closing = true;
                ctx.writeAndFlush(msg).addListener(ChannelFutureListener.CLOSE);
            }
        } else if (msg instanceof HttpContent) {
            // The rest of a handshake request that was not aggregated (a mount without an aggregator).
            ReferenceCountUtil.release(msg);
        } else if (msg instanceof BinaryWebSocketFrame) {
            ReferenceCountUtil.release(msg);
            metrics.error(ErrorCode.UNSUPPORTED_FRAME);
            reply(ctx, MinichatsEncoder.error(ctx.alloc(), null, ErrorCode.UNSUPPORTED_FRAME,
                    "Binary frames are not supported: send requests as JSON text frames"));
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
        if (slowConsumerTimer != null) {
            slowConsumerTimer.cancel(false);
        }
        if (pinger != null) {
            pinger.cancel(false);
        }
        if (connection.dropped > 0) {
            logger.debug("{} {} missed {} deliveries as a slow consumer", ctx.channel(), clientName, connection.dropped);
        }
        if (backlog != null) {
            backlog.forEach(ReferenceCountUtil::release);
            backlog.clear();
        }
        for (Subscription s : subscriptions.values()) {
            broker.unsubscribe(s);
        }
        subscriptions.clear();
        logger.debug("{} {} disconnected", ctx.channel(), clientName);
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            // A fragmented message over the limit (a single over-size frame is refused by the decoder).
            metrics.close(Metrics.Close.MESSAGE_TOO_BIG);
            close(ctx, WebSocketCloseStatus.MESSAGE_TOO_BIG, "Message is larger than " + maxMessageBytes + " bytes");
        } else {
            if (cause instanceof CorruptedWebSocketFrameException) {
                // Netty's decoder has answered it with a close frame; count why.
                WebSocketCloseStatus status = ((CorruptedWebSocketFrameException) cause).closeStatus();
                metrics.close(WebSocketCloseStatus.MESSAGE_TOO_BIG.equals(status) ? Metrics.Close.MESSAGE_TOO_BIG
                        : WebSocketCloseStatus.INVALID_PAYLOAD_DATA.equals(status) ? Metrics.Close.INVALID_UTF8
                        : Metrics.Close.PROTOCOL_ERROR);
            }
            ctx.fireExceptionCaught(cause);
        }
    }

    /**
     * Pings the client; one that shows no sign of life within the ping timeout is closed: 1001
     * "ping timeout", without waiting for the close frame to get through (the peer may be gone).
     */
    private void ping() {
        if (connection.closing || backlog != null) {
            return; // reading is paused while a subscribe waits: a pong could not be seen
        }
        long sentAt = System.nanoTime();
        ctx.writeAndFlush(new PingWebSocketFrame(), ctx.voidPromise());
        ctx.executor().schedule(() -> {
            if (lastReadNanos - sentAt < 0 && !connection.closing && backlog == null) {
                logger.debug("{} {} closed: no answer to a ping within {}", ctx.channel(), clientName,
                        config.pingTimeout());
                connection.closing = true;
                metrics.close(Metrics.Close.PING_TIMEOUT);
                ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.ENDPOINT_UNAVAILABLE, "ping timeout"));
                ctx.close();
            }
        }, config.pingTimeout().toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Whether the WebSocket handshake is done: from then on, the heartbeat watches the connection. */
    boolean isHandshakeComplete() {
        return handshakeComplete;
    }

    /**
     * Closes the session because the server stops: close 1001 once the handshake is done, a plain
     * close before. Must be called from the connection's event loop.
     */
    void goAway() {
        if (handshakeComplete) {
            close(ctx, WebSocketCloseStatus.ENDPOINT_UNAVAILABLE, "Server shutting down");
        } else {
            ctx.close();
        }
    }

    /** Serves one request. Does not take ownership of {@code payload}. */
    private void serve(ChannelHandlerContext ctx, ByteBuf payload) {
        MinichatsRequest request;
        try {
            request = decoder.decode(payload);
        } catch (MinichatsException e) {
            metrics.error(e.code());
            reply(ctx, MinichatsEncoder.error(ctx.alloc(), e));
            return;
        }
        try {
            if ((request.action() == Action.SUBSCRIBE
                    || request.action() == Action.UNSUBSCRIBE)
                    && !subscribeLimiter.tryAcquire(System.nanoTime())) {
                if (subscribeLimiter.isAbusive()) {
                    metrics.close(Metrics.Close.SUBSCRIBE_RATE_LIMIT);
                    close(ctx, WebSocketCloseStatus.POLICY_VIOLATION, "Subscribe rate limit exceeded");
                    return;
                }
                throw new MinichatsException(ErrorCode.RATE_LIMITED, "Too many subscribes and unsubscribes: at most "
                        + config.maxSubscribesPerSecond() + " per second", request.requestId());
            }
            switch (request.action()) {
                case SUBSCRIBE:
                    subscribe(ctx, request);
                    break;
                case UNSUBSCRIBE:
                    unsubscribe(ctx, request);
                    break;
                case PUBLISH:
                    publish(ctx, request);
                    break;
                case LIST_CHANNELS:
                    reply(ctx, MinichatsEncoder.channels(ctx.alloc(), request.requestId(), broker.channels()));
                    break;
                default:
                    throw new IllegalStateException("Unhandled action: " + request.action());
            }
        } catch (MinichatsException e) {
            metrics.error(e.code());
            reply(ctx, MinichatsEncoder.error(ctx.alloc(), e));
        } catch (RuntimeException e) {
            metrics.error(ErrorCode.INTERNAL);
            reply(ctx, MinichatsEncoder.error(ctx.alloc(), request.requestId(), ErrorCode.INTERNAL,
                    "Internal error while serving '" + request.action().name().toLowerCase() + "'"));
            ctx.fireExceptionCaught(e);
        }
    }

    private void subscribe(ChannelHandlerContext ctx, MinichatsRequest request) throws MinichatsException {
        String name = request.channelName();
        Subscription existing = subscriptions.get(name);
        if (existing != null) {
            ChannelEntry entry = existing.entry();
            reply(ctx, MinichatsEncoder.subscribed(ctx.alloc(), request.requestId(), entry.quotedName(),
                    broker.totalSubscribers(entry)));
            return;
        }
        authorize(ChannelAuthorizer.Operation.SUBSCRIBE, request);
        if (subscriptions.size() >= maxSubscriptions) {
            throw new MinichatsException(ErrorCode.INVALID_REQUEST,
                    "Too many subscriptions: a connection may subscribe to at most " + maxSubscriptions + " channels",
                    request.requestId());
        }
        Broker.Joined joined = broker.subscribe(connection, name);
        subscriptions.put(name, joined.subscription());
        logger.debug("{} {} subscribed to {}", ctx.channel(), clientName, name);
        if (joined.receiving().isDone()) {
            reply(ctx, MinichatsEncoder.subscribed(ctx.alloc(), request.requestId(),
                    joined.subscription().entry().quotedName(), joined.totalSubscribers()));
            return;
        }
        // The first subscriber of a channel on this node of a cluster: its ok promises publishes from
        // every node, so it waits until the node receives them. Requests behind it wait their turn.
        backlog = new ArrayDeque<>();
        ctx.channel().config().setAutoRead(false);
        byte[] requestId = request.requestId();
        ChannelEntry entry = joined.subscription().entry();
        joined.receiving().whenComplete((ignored, failure) -> ctx.executor().execute(
                () -> resume(ctx, MinichatsEncoder.subscribed(ctx.alloc(), requestId, entry.quotedName(),
                        broker.totalSubscribers(entry)))));
    }

    /** Sends the reply a subscribe waited for and serves what was read meanwhile. */
    private void resume(ChannelHandlerContext ctx, ByteBuf reply) {
        ArrayDeque<Object> queued = backlog;
        backlog = null;
        if (queued == null || !ctx.channel().isActive() || connection.closing) {
            reply.release();
            if (queued != null) {
                queued.forEach(ReferenceCountUtil::release);
            }
            return;
        }
        lastReadNanos = System.nanoTime(); // reading was paused, not the client
        reply(ctx, reply);
        for (Object msg = queued.poll(); msg != null; msg = queued.poll()) {
            channelRead(ctx, msg); // goes to the new backlog if a request waits again
        }
        if (backlog == null) {
            ctx.channel().config().setAutoRead(true);
        }
        ctx.flush();
    }

    private void unsubscribe(ChannelHandlerContext ctx, MinichatsRequest request) throws MinichatsException {
        Subscription s = subscriptions.remove(request.channelName());
        if (s == null) {
            throw notSubscribed(request);
        }
        broker.unsubscribe(s);
        logger.debug("{} {} unsubscribed from {}", ctx.channel(), clientName, request.channelName());
        reply(ctx, MinichatsEncoder.ok(ctx.alloc(), request.requestId()));
    }

    private void publish(ChannelHandlerContext ctx, MinichatsRequest request) throws MinichatsException {
        Subscription s = subscriptions.get(request.channelName());
        if (s == null) {
            throw notSubscribed(request);
        }
        authorize(ChannelAuthorizer.Operation.PUBLISH, request);
        ChannelEntry entry = s.entry();
        ByteBuf content = request.content();
        int size = MinichatsEncoder.deliveryPayloadLength(quotedName, entry.quotedName(), content.readableBytes());
        if (size > maxMessageBytes) {
            throw new MinichatsException(ErrorCode.MESSAGE_TOO_LARGE,
                    "The delivery would be " + size + " bytes, over the limit of " + maxMessageBytes + " bytes",
                    request.requestId());
        }
        // The publisher's ok goes out before its own copy of the delivery (PROTOCOL.md section 1).
        reply(ctx, MinichatsEncoder.ok(ctx.alloc(), request.requestId()));
        long sentAt = System.currentTimeMillis();
        ByteBuf frame = MinichatsEncoder.delivery(broker.frameAllocator(), quotedName, entry.quotedName(),
                sentAt, content);
        broker.publish(connection.loop, entry, frame);
        broker.forward(entry.name, utf8Name, sentAt, content);
    }

    private void authorize(ChannelAuthorizer.Operation operation, MinichatsRequest request)
            throws MinichatsException {
        String refusal = authorizer.authorize(operation, request.channelName(), clientName, handshake);
        if (refusal != null) {
            throw new MinichatsException(ErrorCode.FORBIDDEN, refusal, request.requestId());
        }
    }

    private static MinichatsException notSubscribed(MinichatsRequest request) {
        return new MinichatsException(ErrorCode.NOT_SUBSCRIBED,
                "Not subscribed to channel '" + request.channelName() + "'", request.requestId());
    }

    /** Writes a reply; the read batch's end flushes it. Takes ownership of {@code payload}. */
    private static void reply(ChannelHandlerContext ctx, ByteBuf payload) {
        ctx.write(new TextWebSocketFrame(payload), ctx.voidPromise());
    }

    private void close(ChannelHandlerContext ctx, WebSocketCloseStatus status, String reason) {
        connection.closing = true;
        ctx.writeAndFlush(new CloseWebSocketFrame(status, reason)).addListener(ChannelFutureListener.CLOSE);
    }
}
