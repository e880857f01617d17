package io.switchboard.server.internal.dialect.minichats;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.switchboard.protocol.Names;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.minichats.ApiPublish;
import io.switchboard.protocol.minichats.ErrorCode;
import io.switchboard.protocol.minichats.MinichatsEncoder;
import io.switchboard.protocol.minichats.MinichatsDecoder;
import io.switchboard.protocol.minichats.StreamPosition;
import io.switchboard.protocol.Names;
import io.switchboard.server.internal.broker.History;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.Map;
import io.switchboard.protocol.minichats.MinichatsException;
import io.netty.handler.codec.http.HttpMethod;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.broker.Broker;
import io.switchboard.server.internal.transport.Backpressure;
import io.switchboard.server.internal.transport.HandshakeRouter;
import io.switchboard.server.internal.transport.HttpResponses;
import io.switchboard.server.internal.transport.HttpRoute;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The HTTP API for backends, on when the server has an API key: {@code POST /api/publish} with
 * {@code {"channel_name": C, "content": X, "sender": S}} publishes as if a client named S had
 * ({@code sender} defaults to {@code api}) and answers how many subscribers it reached;
 * {@code GET /api/channels} lists channels as {@code list_channels} does, and
 * {@code GET /api/presence?channel_name=C} a channel's members as {@code presence} does (issue 18).
 * All need {@code Authorization: Bearer <key>}. Bodies over the message limit get 413 from the
 * aggregator. Without a key, all answer 404.
 *
 * <p>Stateless and thread-safe.
 */
public final class HttpApi implements HttpRoute {

    public static final String PUBLISH_PATH = "/api/publish";
    public static final String CHANNELS_PATH = "/api/channels";
    /** {@code GET /api/history?channel_name=C[&limit=N][&since_offset=O&since_epoch=E]} (issue 18). */
    public static final String HISTORY_PATH = "/api/history";
    public static final String PRESENCE_PATH = "/api/presence";
    static final String DEFAULT_SENDER = "api";

    private final SwitchboardConfig config;
    private final MinichatsPublisher publisher;
    private final Broker broker;

    public HttpApi(SwitchboardConfig config, MinichatsPublisher publisher, Broker broker) {
        this.config = config;
        this.publisher = publisher;
        this.broker = broker;
    }

    @Override
    public List<String> paths() {
        return List.of(PUBLISH_PATH, CHANNELS_PATH, HISTORY_PATH, PRESENCE_PATH);
    }

    @Override
    public List<String> description() {
        return config.apiKey() == null ? List.of() : List.of(
                "  POST " + PUBLISH_PATH + "                    publish (Authorization: Bearer API_KEY)",
                "  GET " + CHANNELS_PATH + "                    channels and counts (same key)",
                "  GET " + HISTORY_PATH + "?channel_name=C      a channel's kept publications (same key)",
                "  GET " + PRESENCE_PATH + "?channel_name=C     a channel's members on every node (same key)");
    }

    /** Serves an API request. Does not release {@code request}. */
    @Override
    public void serve(ChannelHandlerContext ctx, FullHttpRequest request, String path) {
        if (config.apiKey() == null) {
            HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.NOT_FOUND,
                    "The HTTP API is off: the server has no API_KEY.\n"));
            return;
        }
        if (!HandshakeRouter.allow(ctx, request, PUBLISH_PATH.equals(path) ? HttpMethod.POST : HttpMethod.GET)) {
            return;
        }
        if (!authorized(request)) {
            FullHttpResponse response = HttpResponses.jsonError(ctx, HttpResponseStatus.UNAUTHORIZED,
                    ErrorCode.UNAUTHORIZED, "Missing or wrong API key: send 'Authorization: Bearer <key>'");
            response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
            HttpResponses.send(ctx, request, response);
            return;
        }
        if (PUBLISH_PATH.equals(path)) {
            publish(ctx, request);
        } else if (HISTORY_PATH.equals(path)) {
            history(ctx, request);
        } else if (PRESENCE_PATH.equals(path)) {
            presence(ctx, request);
        } else {
            // At most the soft limit: the answer must fit in what the connection may hold.
            ByteBuf body = MinichatsEncoder.channels(ctx.alloc(), null, MinichatsDialect.summaries(broker.channels()),
                    config.outboundSoftLimitBytes());
            HttpResponses.send(ctx, request, HttpResponses.json(HttpResponseStatus.OK, body));
        }
    }

    private void publish(ChannelHandlerContext ctx, FullHttpRequest request) {
        try {
            ApiPublish p = publisher.decodeApiPublish(request.content());
            int reached = publisher.publish(p.channelName(), p.sender() != null ? p.sender() : DEFAULT_SENDER,
                    p.content());
            ByteBuf body = ctx.alloc().buffer();
            body.writeCharSequence("{\"status\":\"ok\",\"info\":{\"channel_name\":", StandardCharsets.US_ASCII);
            body.writeBytes(JsonStrings.quote(p.channelName()));
            body.writeCharSequence(",\"subscribers_reached\":" + reached + "}}", StandardCharsets.US_ASCII);
            HttpResponses.send(ctx, request, HttpResponses.json(HttpResponseStatus.OK, body));
        } catch (MinichatsException e) {
            publisher.counted(e.code());
            HttpResponseStatus status = e.code() == ErrorCode.MESSAGE_TOO_LARGE
                    ? HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE : HttpResponseStatus.BAD_REQUEST;
            HttpResponses.send(ctx, request, HttpResponses.jsonError(ctx, status, e.code(), e.detail()));
        }
    }

    /**
     * A channel's kept publications, the body {@code history} answers on the WebSocket (PROTOCOL.md
     * section 1a), from the query: {@code channel_name}, optional {@code limit}, optional
     * {@code since_offset} with {@code since_epoch}. 400 for a bad parameter, 404 with history off.
     */
    private void history(ChannelHandlerContext ctx, FullHttpRequest request) {
        try {
            if (broker.history() == null) {
                throw new MinichatsException(ErrorCode.NOT_AVAILABLE, "History is off on this node (HISTORY_SIZE=0)",
                        null);
            }
            Map<String, List<String>> query = new QueryStringDecoder(request.uri()).parameters();
            String channel = single(query, "channel_name");
            if (channel == null) {
                throw new MinichatsException(ErrorCode.MISSING_PARAM, "Missing parameter 'channel_name'", null);
            }
            String invalid = Names.check("channel_name", channel, config.maxChannelNameBytes());
            if (invalid != null) {
                throw new MinichatsException(ErrorCode.INVALID_PARAM, invalid, null);
            }
            int limit = 0;
            String limitText = single(query, "limit");
            if (limitText != null) {
                limit = parse(limitText, 1, MinichatsDecoder.MAX_LIMIT, "limit");
            }
            String sinceEpoch = single(query, "since_epoch");
            String sinceOffsetText = single(query, "since_offset");
            if ((sinceEpoch == null) != (sinceOffsetText == null)) {
                throw new MinichatsException(ErrorCode.INVALID_PARAM,
                        "'since_offset' and 'since_epoch' go together", null);
            }
            long sinceOffset = sinceOffsetText == null ? 0 : parse(sinceOffsetText, 0, Long.MAX_VALUE, "since_offset");
            if (sinceEpoch != null && (sinceEpoch.isEmpty() || sinceEpoch.length() > StreamPosition.MAX_EPOCH_LENGTH)) {
                throw new MinichatsException(ErrorCode.INVALID_PARAM, "'since_epoch' must be 1 to "
                        + StreamPosition.MAX_EPOCH_LENGTH + " characters", null);
            }
            CompletableFuture<History.Listing> listing = broker.history(channel, limit, sinceOffset, sinceEpoch);
            if (listing.isDone()) {
                answerHistory(ctx, request, channel, listing.getNow(null), listing.isCompletedExceptionally()
                        ? new IllegalStateException("failed") : null);
                return;
            }
            // Read from Redis in a cluster: answered when the read completes, on the connection's loop;
            // the connection reads nothing meanwhile, so pipelined requests are answered in order.
            Backpressure backpressure = ctx.pipeline().get(Backpressure.class);
            backpressure.holdReads();
            request.retain();
            listing.whenComplete((l, failure) -> ctx.executor().execute(() -> {
                try {
                    answerHistory(ctx, request, channel, l, failure);
                } finally {
                    request.release();
                    backpressure.releaseReads();
                }
            }));
        } catch (MinichatsException e) {
            publisher.counted(e.code());
            HttpResponseStatus status = e.code() == ErrorCode.NOT_AVAILABLE
                    ? HttpResponseStatus.NOT_FOUND : HttpResponseStatus.BAD_REQUEST;
            HttpResponses.send(ctx, request, HttpResponses.jsonError(ctx, status, e.code(), e.detail()));
        }
    }

    /** Answers {@code GET /api/history} once the listing is read; does not release {@code request}. */
    private void answerHistory(ChannelHandlerContext ctx, FullHttpRequest request, String channel,
                               History.Listing listing, Throwable failure) {
        if (failure != null) {
            publisher.counted(ErrorCode.NOT_AVAILABLE);
            HttpResponses.send(ctx, request, HttpResponses.jsonError(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE,
                    ErrorCode.NOT_AVAILABLE, "The cluster's history is out of reach now (Redis is down)"));
        } else if (listing.publications() == null) {
            publisher.counted(ErrorCode.INVALID_PARAM);
            HttpResponses.send(ctx, request, HttpResponses.jsonError(ctx, HttpResponseStatus.BAD_REQUEST,
                    ErrorCode.INVALID_PARAM, "'since_epoch' is not the channel's epoch, now '"
                            + listing.position().epoch() + "': the publications of that epoch are gone"));
        } else {
            ByteBuf body = MinichatsDialect.history(ctx.alloc(), null, channel, listing,
                    config.outboundSoftLimitBytes());
            HttpResponses.send(ctx, request, HttpResponses.json(HttpResponseStatus.OK, body));
        }
    }

    /** The one value of {@code name} in the query, or {@code null}; given twice, it is a bad request. */
    private static String single(Map<String, List<String>> query, String name) throws MinichatsException {
        List<String> values = query.get(name);
        if (values == null || values.isEmpty()) {
            return null;
        }
        if (values.size() > 1) {
            throw new MinichatsException(ErrorCode.INVALID_PARAM, "'" + name + "' given more than once", null);
        }
        return values.get(0);
    }

    private static long parse(String text, long min, long max, String name) throws MinichatsException {
        try {
            long v = Long.parseLong(text);
            if (v >= min && v <= max) {
                return v;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new MinichatsException(ErrorCode.INVALID_PARAM, "'" + name + "' must be an integer from " + min
                + " to " + max, null);
    }

    private static int parse(String text, int min, int max, String name) throws MinichatsException {
        return (int) parse(text, (long) min, max, name);
    }

    /**
     * Answers a channel's members with the body of the WebSocket {@code presence} reply, at most the
     * soft limit like {@code /api/channels}. In a cluster the answer waits for Redis; the connection
     * reads nothing meanwhile, so pipelined requests are answered in order.
     */
    private void presence(ChannelHandlerContext ctx, FullHttpRequest request) {
        List<String> names = new QueryStringDecoder(request.uri()).parameters().get("channel_name");
        String name = names == null || names.isEmpty() ? null : names.get(0);
        String invalid = name == null ? "Missing parameter 'channel_name'"
                : Names.check("channel_name", name, config.maxChannelNameBytes());
        if (invalid != null) {
            ErrorCode code = name == null ? ErrorCode.MISSING_PARAM : ErrorCode.INVALID_PARAM;
            publisher.counted(code);
            HttpResponses.send(ctx, request, HttpResponses.jsonError(ctx, HttpResponseStatus.BAD_REQUEST, code, invalid));
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        byte[] quotedChannel = JsonStrings.quote(name);
        CompletableFuture<Broker.Presence> presence = broker.presence(name);
        if (presence.isDone()) {
            HttpResponses.send(ctx, keepAlive, presenceResponse(ctx, quotedChannel, presence.join()));
            return;
        }
        Backpressure backpressure = ctx.pipeline().get(Backpressure.class);
        backpressure.holdReads();
        presence.whenComplete((members, failure) -> ctx.executor().execute(() -> {
            HttpResponses.send(ctx, keepAlive, failure != null
                    ? HttpResponses.jsonError(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, ErrorCode.INTERNAL,
                            "Internal error while listing the channel's members")
                    : presenceResponse(ctx, quotedChannel, members));
            backpressure.releaseReads();
        }));
    }

    private FullHttpResponse presenceResponse(ChannelHandlerContext ctx, byte[] quotedChannel, Broker.Presence presence) {
        return HttpResponses.json(HttpResponseStatus.OK, MinichatsEncoder.presence(ctx.alloc(), null, quotedChannel,
                MinichatsDialect.members(presence.members()), config.outboundSoftLimitBytes()));
    }

    /** Compares the bearer token in constant time, so its bytes cannot be guessed by timing. */
    private boolean authorized(FullHttpRequest request) {
        String header = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        byte[] given = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, config.apiKey().getBytes(StandardCharsets.UTF_8));
    }
}
