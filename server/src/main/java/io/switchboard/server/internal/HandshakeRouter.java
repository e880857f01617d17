package io.switchboard.server.internal;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.util.ReferenceCountUtil;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.Names;
import io.switchboard.protocol.disposable.DisposableParams;
import io.switchboard.protocol.minichats.ErrorCode;
import io.switchboard.server.ChannelAuthorizer;
import io.switchboard.server.ConnectionAuthorizer;
import io.switchboard.server.HandshakeRequest;
import io.switchboard.server.SwitchboardConfig;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/**
 * Answers the HTTP request that opens a connection. A WebSocket upgrade on a dialect's path
 * (minichats at its path, disposable at {@code /ws}, randomchat at {@code /randomchat}) becomes
 * that dialect's session: the router validates it, asks the connection authorizer, installs the WebSocket handlers and the session,
 * removes itself and passes the request on to Netty's handshaker. Validation happens before the upgrade, so a refused client gets a plain HTTP status
 * with a reason.
 *
 * <p>Standalone (a {@code SwitchboardServer}), it also serves {@code /}, {@code /health}, the HTTP
 * API ({@link HttpApi}) and 404 for the rest. Mounted in an application's pipeline, it takes only
 * minichats upgrades to its path and passes every other message on untouched.
 *
 * <p>Stateless and {@link Sharable}: one instance serves every connection.
 */
@Sharable
final class HandshakeRouter extends ChannelInboundHandlerAdapter {

    static final String MINICHATS_PATH = "/api/connect";
    static final String DISPOSABLE_PATH = "/ws";
    static final String CHATROOM_PATH = "/chatroom";
    static final String RANDOMCHAT_PATH = "/randomchat";
    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    /** What a full node asks clients to wait before they try again. */
    private static final int RETRY_AFTER_SECONDS = 5;

    private final Node node;
    private final SwitchboardConfig config;
    private final String path;
    private final boolean standalone;
    private final HttpApi api;
    private final WebSocketServerProtocolConfig protocol;
    private final WebSocketServerProtocolConfig disposableProtocol;
    private final WebSocketServerProtocolConfig chatroomProtocol;
    private final WebSocketServerProtocolConfig randomchatProtocol;

    HandshakeRouter(Node node, String path, boolean standalone) {
        this.node = node;
        this.config = node.config();
        this.path = path;
        this.standalone = standalone;
        this.api = new HttpApi(node);
        this.protocol = webSocketConfig(path, config);
        this.disposableProtocol = webSocketConfig(DISPOSABLE_PATH, config);
        this.chatroomProtocol = webSocketConfig(CHATROOM_PATH, config);
        this.randomchatProtocol = webSocketConfig(RANDOMCHAT_PATH, config);
    }

    /**
     * Netty's WebSocket protocol handling as every dialect uses it (and the Autobahn conformance run
     * checks): frame limit, UTF-8 validation, no extensions, and no close frame of Netty's own: the
     * session sends them all, protocol violations' included ({@link CloseFrames}).
     */
    static WebSocketServerProtocolConfig webSocketConfig(String path, SwitchboardConfig config) {
        return WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(path)
                .checkStartsWith(true) // the path may carry a query
                .handshakeTimeoutMillis(config.handshakeTimeout().toMillis())
                // Sessions send their close frames themselves, each with its RFC 6455 code; Netty's
                // default would add a 1000 on every close. They also answer the client's close, so
                // that deliveries, which bypass this handler, stop before the echo.
                .sendCloseFrame(null)
                .handleCloseFrames(false)
                .dropPongFrames(true)
                .decoderConfig(WebSocketDecoderConfig.newBuilder()
                        .maxFramePayloadLength(config.maxMessageBytes())
                        .allowExtensions(false)
                        .withUTF8Validator(true)
                        // The session answers every violation with its close code (CloseFrames): Netty's
                        // own answer to a bad close frame is a bare TCP close, not 1002 or 1007.
                        .closeOnProtocolViolation(false)
                        .build())
                .build();
    }

    /**
     * Installs the WebSocket handlers and {@code session} after the handler named {@code after}, as
     * {@link PipelineNames} draws them; the upgrade request must then be passed on to them.
     */
    static void installWebSocket(ChannelPipeline p, String after, WebSocketServerProtocolConfig protocol,
                                 int maxMessageBytes, ChannelHandler session) {
        // WebSocketServerProtocolHandler adds the handshake handler and the UTF-8 validator before itself.
        p.addAfter(after, PipelineNames.WS_PROTOCOL, new WebSocketServerProtocolHandler(protocol));
        p.addAfter(PipelineNames.WS_PROTOCOL, PipelineNames.WS_AGGREGATOR, new WebSocketFrameAggregator(maxMessageBytes));
        p.addAfter(PipelineNames.WS_AGGREGATOR, PipelineNames.HANDSHAKE_LEFTOVER, new HandshakeLeftover());
        p.addAfter(PipelineNames.HANDSHAKE_LEFTOVER, PipelineNames.SESSION, session);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpRequest)) {
            ctx.fireChannelRead(msg);
            return;
        }
        HttpRequest request = (HttpRequest) msg;
        HttpDeadline.requestSeen(ctx.channel());
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        if (!standalone && !path.equals(uri.path())) {
            ctx.fireChannelRead(msg); // the application's request
            return;
        }
        boolean handedOver = false;
        try {
            handedOver = standalone ? route(ctx, (FullHttpRequest) request, uri) : upgrade(ctx, request, uri);
        } finally {
            if (!handedOver) {
                ReferenceCountUtil.release(request);
            }
        }
    }

    /** Answers or hands over {@code request}; returns whether ownership of it passed on. */
    private boolean route(ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder uri) {
        if (!request.decoderResult().isSuccess()) {
            HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.BAD_REQUEST,
                    "Malformed HTTP request\n"));
            return false;
        }
        String requestPath = uri.path();
        if (requestPath.equals(path)) {
            return upgrade(ctx, request, uri);
        }
        switch (requestPath) {
            case DISPOSABLE_PATH:
                return upgradeDisposable(ctx, request, uri);
            case CHATROOM_PATH:
                return upgradeChatroom(ctx, request);
            case RANDOMCHAT_PATH:
                return upgradeRandomchat(ctx, request);
            case "/":
                if (allow(ctx, request, HttpMethod.GET)) {
                    HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.OK, indexPage()));
                }
                return false;
            case "/health":
                if (allow(ctx, request, HttpMethod.GET)) {
                    String problem = node.problem();
                    HttpResponses.send(ctx, request, problem == null
                            ? HttpResponses.text(ctx, HttpResponseStatus.OK, "ok\n")
                            : HttpResponses.text(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, problem + "\n"));
                }
                return false;
            case "/metrics":
                if (allow(ctx, request, HttpMethod.GET)) {
                    String text = node.scrapeMetrics();
                    if (text == null) {
                        HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.NOT_FOUND,
                                "Metrics need io.micrometer:micrometer-registry-prometheus on the class path\n"));
                    } else {
                        FullHttpResponse response = HttpResponses.text(ctx, HttpResponseStatus.OK, text);
                        response.headers().set(HttpHeaderNames.CONTENT_TYPE, PROMETHEUS_TEXT);
                        HttpResponses.send(ctx, request, response);
                    }
                }
                return false;
            case HttpApi.PUBLISH_PATH:
            case HttpApi.CHANNELS_PATH:
                if (config.apiKey() != null) {
                    HttpMethod method = requestPath.equals(HttpApi.PUBLISH_PATH) ? HttpMethod.POST : HttpMethod.GET;
                    if (allow(ctx, request, method)) {
                        api.serve(ctx, request, requestPath);
                    }
                    return false;
                }
                HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.NOT_FOUND,
                        "The HTTP API is off: the server has no API_KEY.\n"));
                return false;
            default:
                HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.NOT_FOUND,
                        "No such endpoint: " + requestPath + "\n\n" + endpoints()));
                return false;
        }
    }

    /** A minichats upgrade (PROTOCOL.md section 1); returns whether ownership of {@code request} passed on. */
    private boolean upgrade(ChannelHandlerContext ctx, HttpRequest request, QueryStringDecoder uri) {
        if (!isUpgrade(ctx, request)) {
            return false;
        }
        List<String> names = uri.parameters().get("client_name");
        String name = names == null || names.isEmpty() ? "" : names.get(0);
        if (name.isEmpty()) {
            name = generateName();
        } else {
            String invalid = Names.check("client_name", name, config.maxClientNameBytes());
            if (invalid != null) {
                HttpResponses.send(ctx, request, HttpResponses.jsonError(ctx, HttpResponseStatus.BAD_REQUEST,
                        ErrorCode.INVALID_PARAM, invalid));
                return false;
            }
        }
        String origin = request.headers().get(HttpHeaderNames.ORIGIN);
        if (origin != null && !originAccepted(origin)) {
            node.metrics().refuse(Metrics.Refusal.ORIGIN);
            HttpResponses.send(ctx, request, HttpResponses.jsonError(ctx, HttpResponseStatus.FORBIDDEN,
                    ErrorCode.FORBIDDEN, "Origin '" + origin + "' is not allowed to connect"));
            return false;
        }
        String clientName = name;
        return admit(ctx, request, protocol, handshake -> new MinichatsSession(node, clientName, handshake));
    }

    /**
     * A disposable upgrade (PROTOCOL.md section 2): refusals are plain text, as the seed's, and with
     * {@code ACCEPTED_ORIGIN} set the Origin must be one of it, present or not.
     */
    private boolean upgradeDisposable(ChannelHandlerContext ctx, HttpRequest request, QueryStringDecoder uri) {
        if (!isUpgrade(ctx, request)) {
            return false;
        }
        String name = DisposableParams.trim(first(uri, "name"));
        String room = DisposableParams.trim(first(uri, "room"));
        String invalid = DisposableParams.check(name, room);
        if (invalid == null && JsonStrings.utf8Length(room) > config.maxChannelNameBytes()) {
            invalid = DisposableParams.INVALID + " (`room` is longer than " + config.maxChannelNameBytes() + " bytes)";
        }
        if (invalid != null) {
            HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.BAD_REQUEST, invalid));
            return false;
        }
        String origin = request.headers().get(HttpHeaderNames.ORIGIN);
        if (!config.acceptedOrigins().isEmpty() && (origin == null || !originAccepted(origin))) {
            node.metrics().refuse(Metrics.Refusal.ORIGIN);
            HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.FORBIDDEN, origin == null
                    ? "The Origin header is missing: only pages from the accepted origins may connect"
                    : "Origin '" + origin + "' is not allowed to connect"));
            return false;
        }
        String refusal = node.channelAuthorizer().authorize(ChannelAuthorizer.Operation.SUBSCRIBE, room, name,
                new HandshakeRequest(request, ctx.channel().remoteAddress()));
        if (refusal != null) {
            node.metrics().refuse(Metrics.Refusal.AUTHORIZER);
            HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.FORBIDDEN, refusal));
            return false;
        }
        return admit(ctx, request, disposableProtocol, handshake -> new DisposableSession(node, name, room, handshake));
    }

    /** A chatroom upgrade (PROTOCOL.md section 4): the client gets its id in {@code hello}. */
    private boolean upgradeChatroom(ChannelHandlerContext ctx, HttpRequest request) {
        return upgradeCheckingOrigin(ctx, request, chatroomProtocol, handshake -> new ChatroomSession(node));
    }

    /**
     * A randomchat upgrade (PROTOCOL.md section 5): who the client is comes later, with its
     * {@code register}. Off (404) on a single node without a {@code DATA_DIR}.
     */
    private boolean upgradeRandomchat(ChannelHandlerContext ctx, HttpRequest request) {
        if (!config.randomchatEnabled()) {
            HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.NOT_FOUND,
                    "The randomchat dialect is off: it needs DATA_DIR (or REDIS_ENDPOINT)\n"));
            return false;
        }
        return upgradeCheckingOrigin(ctx, request, randomchatProtocol,
                handshake -> new RandomchatSession(node, node.randomchat()));
    }

    /** An upgrade whose {@code Origin}, when there is one, must be accepted (403 otherwise). */
    private boolean upgradeCheckingOrigin(ChannelHandlerContext ctx, HttpRequest request,
                                          WebSocketServerProtocolConfig protocol,
                                          Function<HandshakeRequest, WebSocketSession> sessions) {
        if (!isUpgrade(ctx, request)) {
            return false;
        }
        String origin = request.headers().get(HttpHeaderNames.ORIGIN);
        if (origin != null && !originAccepted(origin)) {
            node.metrics().refuse(Metrics.Refusal.ORIGIN);
            HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.FORBIDDEN,
                    "Origin '" + origin + "' is not allowed to connect\n"));
            return false;
        }
        return admit(ctx, request, protocol, sessions);
    }

    private static String first(QueryStringDecoder uri, String parameter) {
        List<String> values = uri.parameters().get(parameter);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** Whether {@code request} is a WebSocket upgrade; answers it when it is not. */
    private boolean isUpgrade(ChannelHandlerContext ctx, HttpRequest request) {
        if (!allow(ctx, request, HttpMethod.GET)) {
            return false;
        }
        if (!request.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
            FullHttpResponse response = HttpResponses.text(ctx, HttpResponseStatus.UPGRADE_REQUIRED,
                    new QueryStringDecoder(request.uri()).path()
                            + " is a WebSocket endpoint: connect with a WebSocket client\n");
            response.headers().set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
            HttpResponses.send(ctx, request, response);
            return false;
        }
        return true;
    }

    /**
     * What every dialect's upgrade goes through last: the connection authorizer and the connection
     * limits; then the WebSocket handlers and the session are installed and the request passes on to
     * Netty's handshaker. Returns whether ownership of {@code request} passed on.
     */
    private boolean admit(ChannelHandlerContext ctx, HttpRequest request, WebSocketServerProtocolConfig protocol,
                          Function<HandshakeRequest, WebSocketSession> sessions) {
        HandshakeRequest handshake = new HandshakeRequest(request, ctx.channel().remoteAddress());
        ConnectionAuthorizer.Rejection rejection;
        try {
            rejection = node.connectionAuthorizer().authorize(handshake);
        } catch (RuntimeException e) {
            // A failing hook refuses the connection; the tail logs the failure.
            HttpResponses.send(ctx, request, HttpResponses.jsonError(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR,
                    ErrorCode.INTERNAL, "The connection could not be authorized"));
            ctx.fireExceptionCaught(e);
            return false;
        }
        if (rejection != null) {
            node.metrics().refuse(Metrics.Refusal.AUTHORIZER);
            HttpResponses.send(ctx, request, HttpResponses.jsonError(ctx,
                    HttpResponseStatus.valueOf(rejection.status()), ErrorCode.FORBIDDEN, rejection.reason()));
            return false;
        }
        switch (node.limits().acquire(ctx.channel())) {
            case FULL:
                node.metrics().refuse(Metrics.Refusal.FULL);
                FullHttpResponse full = HttpResponses.text(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE,
                        "This node holds its most connections (" + config.maxConnections() + "): try again later\n");
                full.headers().set(HttpHeaderNames.RETRY_AFTER, RETRY_AFTER_SECONDS);
                HttpResponses.send(ctx, request, full);
                return false;
            case TOO_MANY_FROM_ADDRESS:
                node.metrics().refuse(Metrics.Refusal.PER_ADDRESS);
                HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.TOO_MANY_REQUESTS,
                        "Too many connections from your address (at most " + config.maxConnectionsPerAddress()
                                + ")\n"));
                return false;
            default:
                break;
        }
        node.track(ctx.channel());
        ChannelPipeline p = ctx.pipeline();
        if (p.get(Backpressure.class) == null) {
            // Mounted in an application's pipeline: bound the connection from here on (behind its TLS
            // and codecs), and hold what is read while reading is off.
            p.addBefore(ctx.name(), PipelineNames.BACKPRESSURE, node.newBackpressure());
            p.addBefore(ctx.name(), PipelineNames.FLOW_CONTROL, new FlowControlHandler());
        }
        installWebSocket(p, ctx.name(), protocol, config.maxMessageBytes(), sessions.apply(handshake));
        p.remove(this);
        // The removed router's context still forwards to its old successor: the handshake handler.
        ctx.fireChannelRead(request);
        return true;
    }

    /** Whether a browser from {@code origin} may connect: any, unless ACCEPTED_ORIGIN lists some. */
    private boolean originAccepted(String origin) {
        List<String> accepted = config.acceptedOrigins();
        if (accepted.isEmpty()) {
            return true;
        }
        for (String a : accepted) {
            if (a.equalsIgnoreCase(origin.trim())) {
                return true;
            }
        }
        return false;
    }

    private static boolean allow(ChannelHandlerContext ctx, HttpRequest request, HttpMethod method) {
        if (method.equals(request.method())) {
            return true;
        }
        FullHttpResponse response = HttpResponses.text(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED,
                "Method " + request.method() + " is not allowed here: use " + method + "\n");
        response.headers().set(HttpHeaderNames.ALLOW, method.name());
        HttpResponses.send(ctx, request, response);
        return false;
    }

    /** A name for a client that gave none, e.g. {@code guest-4f2a9c}. */
    static String generateName() {
        return String.format("guest-%06x", ThreadLocalRandom.current().nextInt(1 << 24));
    }

    private String indexPage() {
        return "Switchboard " + config.version() + ": a WebSocket pub-sub node.\n\n" + endpoints();
    }

    private String endpoints() {
        return "Endpoints:\n"
                + "  GET " + path + "[?client_name=NAME]  WebSocket, minichats JSON pub-sub\n"
                + (standalone ? "  GET " + DISPOSABLE_PATH + "?name=NAME&room=ROOM        WebSocket, disposable chat rooms\n" : "")
                + (standalone ? "  GET " + CHATROOM_PATH + "                        WebSocket, chatroom topics and services\n" : "")
                + (standalone && config.randomchatEnabled() ? "  GET " + RANDOMCHAT_PATH
                + "                      WebSocket, randomchat: users, chats, offline delivery\n" : "")
                + "  GET /health                           200 while the node serves, 503 and why when its cluster link is down\n"
                + "  GET /metrics                          Prometheus metrics\n"
                + (standalone && config.linePort() > 0 ? "  TCP port " + config.linePort()
                + "                         the line chat (telnet, nc), channel '" + config.lineChannel() + "'\n" : "")
                + (config.apiKey() == null ? "" :
                "  POST " + HttpApi.PUBLISH_PATH + "                    publish (Authorization: Bearer API_KEY)\n"
                + "  GET " + HttpApi.CHANNELS_PATH + "                    channels and counts (same key)\n");
    }
}
