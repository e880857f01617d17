package io.switchboard.server.internal.dialect.minichats;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.minichats.Action;
import io.switchboard.protocol.minichats.ErrorCode;
import io.switchboard.protocol.minichats.MinichatsDecoder;
import io.switchboard.protocol.minichats.MinichatsEncoder;
import io.switchboard.protocol.minichats.MinichatsException;
import io.switchboard.protocol.minichats.MinichatsRequest;
import io.switchboard.protocol.minichats.StreamPosition;
import io.netty.buffer.Unpooled;
import io.switchboard.server.internal.broker.History;
import io.switchboard.server.ChannelAuthorizer;
import io.switchboard.server.ConnectionAuthorizer;
import io.switchboard.server.HandshakeRequest;
import io.switchboard.server.Identity;
import io.switchboard.server.internal.session.SessionContext;
import io.switchboard.server.internal.broker.Broker;
import io.switchboard.server.internal.broker.ChannelEntry;
import io.switchboard.server.internal.broker.ChannelEvent;
import io.switchboard.server.internal.broker.Dialect;
import io.switchboard.server.internal.broker.RosterMember;
import io.switchboard.server.internal.broker.Subscription;
import io.switchboard.server.internal.metrics.Metrics;
import io.switchboard.server.internal.session.RateLimiter;
import io.switchboard.server.internal.session.WebSocketSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * One minichats connection (PROTOCOL.md section 1): confirms the connection, serves each request
 * in order and replies to it, and hands publishes to the {@link Broker}.
 *
 * <p>One instance per connection; it lives on the connection's event loop and is not thread-safe.
 */
public final class MinichatsSession extends WebSocketSession {

    private static final Logger logger = LoggerFactory.getLogger(MinichatsSession.class);

    private final MinichatsDecoder decoder;
    private final int maxSubscriptions;
    private final RateLimiter subscribeLimiter;
    private final ChannelAuthorizer authorizer;
    private final ConnectionAuthorizer connectionAuthorizer;
    private final HandshakeRequest handshake;
    /** What the handshake's token proved, or the last refresh's (issue 19); {@link Identity#ANONYMOUS} without token auth. */
    private Identity identity;
    private final String clientName;
    private final byte[] quotedName;
    private final Map<String, Subscription> subscriptions = new HashMap<>();
    /** This connection as a member of each channel it subscribes to (PROTOCOL.md section 1a, "Presence"). */
    private final RosterMember self;
    /**
     * Whether the client connected with {@code ?batch=1} (PROTOCOL.md section 1a): its replies and
     * deliveries are corked and go out several to a frame, and a frame of its may hold several
     * requests, one per line.
     */
    private final boolean batched;
    /** The requests of a batched frame not served yet because the session paused (for the cluster); {@code null}: none. */
    private ByteBuf held;

    public MinichatsSession(SessionContext context, MinichatsDecoder decoder, ChannelAuthorizer authorizer,
                            String clientName, HandshakeRequest handshake) {
        this(context, decoder, authorizer, ConnectionAuthorizer.ALLOW_ALL, clientName, handshake, Identity.ANONYMOUS,
                false);
    }

    /**
     * @param clientName the client's name: the identity's, when it has one
     * @param identity   what the connection authorizer found; its expiry ends the connection unless a
     *                   {@code refresh} through {@code connectionAuthorizer} extends it
     * @param batched    whether the client asked for batched frames ({@code ?batch=1})
     */
    public MinichatsSession(SessionContext context, MinichatsDecoder decoder, ChannelAuthorizer authorizer,
                            ConnectionAuthorizer connectionAuthorizer, String clientName, HandshakeRequest handshake,
                            Identity identity, boolean batched) {
        super(context, MinichatsDialect.DIALECT);
        this.batched = batched;
        this.decoder = decoder;
        this.authorizer = authorizer;
        this.connectionAuthorizer = connectionAuthorizer;
        this.identity = identity;
        expireAt(identity.expiresAt());
        this.handshake = handshake;
        this.maxSubscriptions = config.maxSubscriptionsPerConnection();
        this.subscribeLimiter = new RateLimiter(config.maxSubscribesPerSecond(), System.nanoTime());
        this.clientName = clientName;
        this.quotedName = JsonStrings.quote(clientName);
        this.self = RosterMember.of(UUID.randomUUID().toString(), clientName, MinichatsDialect.DIALECT);
    }

    @Override
    public String label() {
        return clientName;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        super.handlerAdded(ctx);
        if (batched) {
            connection.acceptsBatches();
        }
    }

    @Override
    public void opened(ChannelHandlerContext ctx) {
        send(ctx, MinichatsEncoder.connected(ctx.alloc(), quotedName));
    }

    @Override
    public void onText(ChannelHandlerContext ctx, ByteBuf payload) {
        if (batched) {
            serveLines(ctx, payload, true);
        } else {
            serve(ctx, payload);
        }
    }

    /**
     * Serves the requests of a batched frame, one per line (blank lines ignored), in order, each as
     * if it came alone: each counts against the rate limit ({@code first}: the frame's own count
     * covers the first one). Stops when the connection closes; when a request pauses the session
     * (a cluster subscribe), keeps the rest for {@link #serveHeld}. Does not take ownership of
     * {@code payload}.
     */
    private void serveLines(ChannelHandlerContext ctx, ByteBuf payload, boolean first) {
        int end = payload.writerIndex();
        int start = payload.readerIndex();
        while (start < end) {
            int nl = payload.indexOf(start, end, (byte) '\n');
            int lineEnd = nl < 0 ? end : nl;
            int next = nl < 0 ? end : nl + 1;
            if (!blank(payload, start, lineEnd)) {
                if (!first && !admitAnother(ctx)) {
                    if (connection.closing) {
                        return;
                    }
                } else {
                    first = false;
                    serve(ctx, payload.slice(start, lineEnd - start));
                    if (connection.closing) {
                        return;
                    }
                    if (isPaused() && next < end) {
                        held = payload.retainedSlice(next, end - next);
                        return;
                    }
                }
            }
            start = next;
        }
    }

    /** Serves what {@link #serveLines} kept while the session was paused. */
    private void serveHeld(ChannelHandlerContext ctx) {
        ByteBuf rest = held;
        if (rest == null) {
            return;
        }
        held = null;
        try {
            serveLines(ctx, rest, false);
        } finally {
            rest.release();
        }
    }

    private static boolean blank(ByteBuf b, int from, int to) {
        for (int i = from; i < to; i++) {
            byte c = b.getByte(i);
            if (c != ' ' && c != '\t' && c != '\r') {
                return false;
            }
        }
        return true;
    }

    /**
     * Writes a reply: corked for a batched connection, so it keeps its place among the deliveries and
     * goes out in the batch's frame; as a frame of its own otherwise. The read batch's end flushes
     * it. Takes ownership of {@code payload}.
     */
    private void send(ChannelHandlerContext ctx, ByteBuf payload) {
        if (!batched) {
            reply(ctx, payload);
            return;
        }
        try {
            backpressure.cork(payload);
        } finally {
            payload.release();
        }
    }

    @Override
    public void onBinary(ChannelHandlerContext ctx, ByteBuf payload) {
        metrics.error(ErrorCode.UNSUPPORTED_FRAME);
        send(ctx, MinichatsEncoder.error(ctx.alloc(), null, ErrorCode.UNSUPPORTED_FRAME,
                "Binary frames are not supported: send requests as JSON text frames"));
    }

    @Override
    public void onRateLimited(ChannelHandlerContext ctx) {
        metrics.error(ErrorCode.RATE_LIMITED);
        send(ctx, MinichatsEncoder.error(ctx.alloc(), null, ErrorCode.RATE_LIMITED,
                "Too many messages: at most " + config.maxMessagesPerSecond() + " per second"));
    }

    @Override
    public void closed(ChannelHandlerContext ctx) {
        if (held != null) {
            held.release();
            held = null;
        }
        for (Subscription s : subscriptions.values()) {
            broker.leave(s, self, ChannelEvent.Kind.LEFT);
        }
        subscriptions.clear();
    }

    /** Serves one request. Does not take ownership of {@code payload}. */
    private void serve(ChannelHandlerContext ctx, ByteBuf payload) {
        MinichatsRequest request;
        try {
            request = decoder.decode(payload);
        } catch (MinichatsException e) {
            metrics.error(e.code());
            send(ctx, MinichatsEncoder.error(ctx.alloc(), e));
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
                    send(ctx, MinichatsEncoder.channels(ctx.alloc(), request.requestId(), MinichatsDialect.summaries(broker.channels()),
                            maxMessageBytes));
                    break;
                case LIST:
                    send(ctx, MinichatsEncoder.channelNames(ctx.alloc(), request.requestId(), subscribedNames(),
                            maxMessageBytes));
                    break;
                case REFRESH:
                    refresh(ctx, request);
                    break;
                case HISTORY:
                    history(ctx, request);
                    break;
                case PRESENCE:
                    presence(ctx, request);
                    break;
                default:
                    throw new IllegalStateException("Unhandled action: " + request.action());
            }
        } catch (MinichatsException e) {
            metrics.error(e.code());
            send(ctx, MinichatsEncoder.error(ctx.alloc(), e));
        } catch (RuntimeException e) {
            metrics.error(ErrorCode.INTERNAL);
            send(ctx, MinichatsEncoder.error(ctx.alloc(), request.requestId(), ErrorCode.INTERNAL,
                    "Internal error while serving '" + request.action().name().toLowerCase() + "'"));
            exceptionCaught(ctx, e); // closes the connection: 1011 after the reply
        }
    }

    private void subscribe(ChannelHandlerContext ctx, MinichatsRequest request) throws MinichatsException {
        String name = request.channelName();
        if (request.positions()) {
            requireHistory(request);
        }
        Subscription existing = subscriptions.get(name);
        if (existing != null && request.positions()) {
            throw new MinichatsException(ErrorCode.INVALID_REQUEST, "Already subscribed to channel '" + name
                    + "': unsubscribe first to subscribe with positions or recover", request.requestId());
        }
        if (existing != null) {
            ChannelEntry entry = existing.entry();
            send(ctx, MinichatsEncoder.subscribed(ctx.alloc(), request.requestId(), entry.quotedName(),
                    broker.totalSubscribers(entry)));
            return;
        }
        authorize(ChannelAuthorizer.Operation.SUBSCRIBE, request);
        if (subscriptions.size() >= maxSubscriptions) {
            throw new MinichatsException(ErrorCode.INVALID_REQUEST,
                    "Too many subscriptions: a connection may subscribe to at most " + maxSubscriptions + " channels",
                    request.requestId());
        }
        if (request.positions()) {
            subscribePositioned(ctx, request);
            return;
        }
        Broker.Joined joined = broker.subscribe(connection, name,
                MinichatsDialect.forSubscription(false, request.joinLeave()));
        subscriptions.put(name, joined.subscription());
        broker.join(joined.subscription(), self);
        logger.debug("{} {} subscribed to {}", ctx.channel(), clientName, name);
        if (joined.receiving().isDone()) {
            send(ctx, MinichatsEncoder.subscribed(ctx.alloc(), request.requestId(),
                    joined.subscription().entry().quotedName(), joined.totalSubscribers()));
            return;
        }
        // The first subscriber of a channel on this node of a cluster: its ok promises publishes from
        // every node, so it waits until the node receives them. Requests behind it wait their turn.
        pause();
        byte[] requestId = request.requestId();
        ChannelEntry entry = joined.subscription().entry();
        joined.receiving().whenComplete((ignored, failure) -> ctx.executor().execute(
                () -> resume(() -> {
                    send(ctx, MinichatsEncoder.subscribed(ctx.alloc(), requestId, entry.quotedName(),
                            broker.totalSubscribers(entry)));
                    serveHeld(ctx); // the rest of a batched frame, which may pause again
                })));
    }

    /**
     * A subscribe with positions or {@code recover} (PROTOCOL.md section 1a): the ok carries the
     * channel's position, and, when the recovery succeeded, the publishes the client missed follow
     * it, before anything live (the broker made the subscription skip what it replays).
     */
    private void subscribePositioned(ChannelHandlerContext ctx, MinichatsRequest request) {
        StreamPosition recover = request.recover();
        Broker.Positioning positioning = broker.subscribePositioned(connection, request.channelName(),
                MinichatsDialect.forSubscription(true, request.joinLeave()), recover == null ? 0 : recover.offset(),
                recover == null ? null : recover.epoch());
        // The subscription is the session's from now on, so a close ends it, and a member of the channel.
        subscriptions.put(request.channelName(), positioning.subscription());
        broker.join(positioning.subscription(), self);
        CompletableFuture<Broker.Positioned> positioned = positioning.positioned();
        if (positioned.isDone()) {
            positioned(ctx, request, positioned.join());
            return;
        }
        // In a cluster the position comes from Redis: requests behind this one wait their turn. The
        // future completes on this loop, in the task that fixed the position: the ok and the replay
        // must be written in that same task, before any fan-out queued behind it delivers a later
        // publish (a hop to another task here let live deliveries overtake the replay).
        pause();
        positioned.whenComplete((p, failure) -> {
            Runnable answer = () -> resume(() -> {
                if (failure != null) {
                    exceptionCaught(ctx, failure);
                    return;
                }
                if (!connection.closing) {
                    positioned(ctx, request, p);
                }
                serveHeld(ctx);
            });
            if (ctx.executor().inEventLoop()) {
                answer.run();
            } else {
                ctx.executor().execute(answer); // failed before reaching the loop
            }
        });
    }

    /** Answers a subscribe with positions once its position is known, on the connection's loop. */
    private void positioned(ChannelHandlerContext ctx, MinichatsRequest request, Broker.Positioned p) {
        Subscription subscription = p.joined().subscription();
        ChannelEntry entry = subscription.entry();
        History.Position at = p.position();
        History.Recovery recovery = p.recovery();
        logger.debug("{} {} subscribed to {} at {}:{}{}", ctx.channel(), clientName, entry.name, at.epoch(),
                at.offset(), recovery == null ? "" : recovery.recovered() ? ", recovered" : ", not recovered");
        send(ctx, MinichatsEncoder.subscribed(ctx.alloc(), request.requestId(), entry.quotedName(),
                p.joined().totalSubscribers(), at.offset(), at.quotedEpoch(),
                recovery == null ? null : recovery.recovered()));
        if (recovery != null) {
            for (History.Kept k : recovery.missed()) {
                ByteBuf frame = MinichatsEncoder.delivery(ctx.alloc(), k.quotedSender, entry.quotedName(), k.sentAt,
                        Unpooled.wrappedBuffer(k.content), k.offset);
                try {
                    connection.deliverOne(frame);
                } finally {
                    frame.release();
                }
            }
        }
    }

    /**
     * A channel's kept publishes (PROTOCOL.md section 1a), to whoever may subscribe to it, subscribed
     * or not; a {@code since} of another epoch is {@code invalid_param} naming the current one.
     */
    private void history(ChannelHandlerContext ctx, MinichatsRequest request) throws MinichatsException {
        requireHistory(request);
        authorize(ChannelAuthorizer.Operation.SUBSCRIBE, request);
        StreamPosition since = request.since();
        CompletableFuture<History.Listing> listing = broker.history(request.channelName(), request.limit(),
                since == null ? 0 : since.offset(), since == null ? null : since.epoch());
        if (listing.isDone() && !listing.isCompletedExceptionally()) {
            answerHistory(ctx, request, listing.join());
            return;
        }
        // In a cluster the stream is read from Redis: requests behind this one wait their turn.
        pause();
        listing.whenComplete((l, failure) -> ctx.executor().execute(() -> resume(() -> {
            if (!connection.closing) {
                if (failure != null) {
                    metrics.error(ErrorCode.NOT_AVAILABLE);
                    send(ctx, MinichatsEncoder.error(ctx.alloc(), request.requestId(), ErrorCode.NOT_AVAILABLE,
                            "The cluster's history is out of reach now (Redis is down): try again later"));
                } else {
                    answerHistory(ctx, request, l);
                }
            }
            serveHeld(ctx);
        })));
    }

    private void answerHistory(ChannelHandlerContext ctx, MinichatsRequest request, History.Listing listing) {
        if (listing.publications() == null) {
            metrics.error(ErrorCode.INVALID_PARAM);
            send(ctx, MinichatsEncoder.error(ctx.alloc(), request.requestId(), ErrorCode.INVALID_PARAM,
                    "'since' is of epoch '" + request.since().epoch() + "', but the channel's stream is now of epoch '"
                            + listing.position().epoch() + "': the publications of that epoch are gone"));
            return;
        }
        send(ctx, MinichatsDialect.history(ctx.alloc(), request.requestId(), request.channelName(), listing,
                maxMessageBytes));
    }

    private void requireHistory(MinichatsRequest request) throws MinichatsException {
        if (broker.history() == null) {
            throw new MinichatsException(ErrorCode.NOT_AVAILABLE, "History is off on this node (HISTORY_SIZE=0): "
                    + "'positions', 'recover' and 'history' need it", request.requestId());
        }
    }

    /** The quoted names of this connection's channels, in byte order as {@code list_channels} sorts them. */
    private List<byte[]> subscribedNames() {
        List<ChannelEntry> entries = new ArrayList<>(subscriptions.size());
        for (Subscription s : subscriptions.values()) {
            entries.add(s.entry());
        }
        entries.sort((a, b) -> Arrays.compareUnsigned(a.utf8Name, b.utf8Name));
        List<byte[]> names = new ArrayList<>(entries.size());
        for (ChannelEntry e : entries) {
            names.add(e.quotedName());
        }
        return names;
    }

    private void unsubscribe(ChannelHandlerContext ctx, MinichatsRequest request) throws MinichatsException {
        Subscription s = subscriptions.remove(request.channelName());
        if (s == null) {
            throw notSubscribed(request);
        }
        broker.leave(s, self, ChannelEvent.Kind.LEFT);
        logger.debug("{} {} unsubscribed from {}", ctx.channel(), clientName, request.channelName());
        send(ctx, MinichatsEncoder.ok(ctx.alloc(), request.requestId()));
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
        send(ctx, MinichatsEncoder.ok(ctx.alloc(), request.requestId()));
        ChannelEvent event = ChannelEvent.message(MinichatsDialect.DIALECT, clientName, clientName, quotedName,
                System.currentTimeMillis(), content, connection);
        broker.publish(connection.loop, entry, event);
        broker.forward(entry.name, event);
    }

    /**
     * Lists the members of a channel on every node (PROTOCOL.md section 1a), for whoever may subscribe
     * to it, subscribed or not. In a cluster the answer waits for Redis (at most its command timeout;
     * without it, this node's members only), and requests behind it wait their turn, as behind a
     * subscribe.
     */
    private void presence(ChannelHandlerContext ctx, MinichatsRequest request) throws MinichatsException {
        authorize(ChannelAuthorizer.Operation.SUBSCRIBE, request);
        byte[] requestId = request.requestId();
        byte[] quotedChannel = JsonStrings.quote(request.channelName());
        CompletableFuture<Broker.Presence> presence = broker.presence(request.channelName());
        if (presence.isDone()) {
            send(ctx, presenceReply(ctx, requestId, quotedChannel, presence.join()));
            return;
        }
        pause();
        presence.whenComplete((members, failure) -> ctx.executor().execute(() -> resume(() -> {
            send(ctx, failure != null ? MinichatsEncoder.error(ctx.alloc(), requestId, ErrorCode.INTERNAL,
                    "Internal error while serving 'presence'") : presenceReply(ctx, requestId, quotedChannel, members));
            serveHeld(ctx); // the rest of a batched frame, which may pause again
        })));
    }

    /** The reply to {@code presence}, at most {@code MAX_MESSAGE_BYTES}. The caller must release the returned buffer. */
    private ByteBuf presenceReply(ChannelHandlerContext ctx, byte[] requestId, byte[] quotedChannel,
                                  Broker.Presence presence) {
        return MinichatsEncoder.presence(ctx.alloc(), requestId, quotedChannel,
                MinichatsDialect.members(presence.members()), maxMessageBytes);
    }

    /**
     * A new token for this connection (PROTOCOL.md section 1a): the same {@code sub}, verified as at
     * the handshake; its expiry replaces the old one, and its channel patterns the old ones. A refused
     * token changes nothing: the connection keeps its expiry.
     */
    private void refresh(ChannelHandlerContext ctx, MinichatsRequest request) throws MinichatsException {
        ConnectionAuthorizer.Verdict verdict = connectionAuthorizer.refresh(identity, request.token());
        if (!verdict.accepted()) {
            ConnectionAuthorizer.Rejection r = verdict.rejection();
            throw new MinichatsException(r.status() == 401 ? ErrorCode.UNAUTHORIZED : ErrorCode.INVALID_REQUEST,
                    r.reason(), request.requestId());
        }
        identity = verdict.identity();
        expireAt(identity.expiresAt());
        logger.debug("{} {} refreshed its token", ctx.channel(), clientName);
        send(ctx, MinichatsEncoder.ok(ctx.alloc(), request.requestId()));
    }

    private void authorize(ChannelAuthorizer.Operation operation, MinichatsRequest request)
            throws MinichatsException {
        String refusal = authorizer.authorize(operation, request.channelName(), clientName, handshake, identity);
        if (refusal != null) {
            throw new MinichatsException(ErrorCode.FORBIDDEN, refusal, request.requestId());
        }
    }

    private static MinichatsException notSubscribed(MinichatsRequest request) {
        return new MinichatsException(ErrorCode.NOT_SUBSCRIBED,
                "Not subscribed to channel '" + request.channelName() + "'", request.requestId());
    }

}
