package io.switchboard.server.internal.transport;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandler;
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
import io.switchboard.protocol.minichats.ErrorCode;
import io.switchboard.server.ConnectionAuthorizer;
import io.switchboard.server.HandshakeRequest;
import io.switchboard.server.Identity;
import io.switchboard.server.PipelineNames;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.metrics.Metrics;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Answers the HTTP request that opens a connection. A WebSocket upgrade on an {@link Endpoint}'s
 * path becomes that endpoint's session: the router checks the method and the {@code Upgrade}
 * header, asks the connection authorizer (whose identity may name the client), lets the endpoint
 * check the rest, asks the connection limits, installs the WebSocket handlers and the session,
 * removes itself and passes the request on to Netty's handshaker. Every check happens before the upgrade, so a refused client gets a plain
 * HTTP status with a reason. The router looks endpoints up by path and knows none by name.
 *
 * <p>Standalone (a {@code SwitchboardServer}), it also serves {@code /}, {@code /health},
 * {@code /metrics}, the {@link HttpRoute}s it is given (a dialect's HTTP API) and 404 for the rest.
 * Mounted in an application's pipeline, it takes only upgrades to its endpoints' paths and passes
 * every other message on untouched.
 *
 * <p>Stateless and {@link Sharable}: one instance serves every connection.
 */
@Sharable
public final class HandshakeRouter extends ChannelInboundHandlerAdapter {

    private static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
    /** What a full node asks clients to wait before they try again. */
    private static final int RETRY_AFTER_SECONDS = 5;

    private final Edge node;
    private final SwitchboardConfig config;
    private final boolean standalone;
    private final Map<String, Endpoint> endpoints = new LinkedHashMap<>();
    private final Map<String, WebSocketServerProtocolConfig> protocols = new HashMap<>();
    private final Map<String, HttpRoute> routes = new HashMap<>();
    private final List<HttpRoute> routeList;
    private final List<String> listings;

    /**
     * @param endpoints  the WebSocket endpoints, each at its own path
     * @param routes     plain HTTP paths (standalone only)
     * @param listings   more lines for {@code GET /} (another port's service, say)
     * @param standalone whether the router owns the port (it answers every request) or is mounted
     *                   in an application's pipeline (it takes only upgrades to its endpoints)
     */
    public HandshakeRouter(Edge node, List<Endpoint> endpoints, List<HttpRoute> routes, List<String> listings,
                           boolean standalone) {
        this.node = node;
        this.config = node.config();
        this.standalone = standalone;
        for (Endpoint e : endpoints) {
            if (this.endpoints.put(e.path(), e) != null) {
                throw new IllegalArgumentException("two endpoints at " + e.path());
            }
            protocols.put(e.path(), webSocketConfig(e.path(), config));
        }
        for (HttpRoute r : routes) {
            for (String path : r.paths()) {
                this.routes.put(path, r);
            }
        }
        this.routeList = List.copyOf(routes);
        this.listings = List.copyOf(listings);
    }

    /**
     * Netty's WebSocket protocol handling as every dialect uses it (and the Autobahn conformance run
     * checks): frame limit, UTF-8 validation, no extensions (RSV bits are a violation) unless
     * {@code COMPRESSION} is on, where the permessage-deflate handler checks them instead, and no close
     * frame of Netty's own: the session sends them all, protocol violations' included ({@link CloseFrames}).
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
                        .allowExtensions(config.compression())
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
                                 int maxMessageBytes, ChannelHandler compression, ChannelHandler session) {
        if (compression != null) {
            // Right behind the router, so the upgrade request it passes on goes through it first.
            p.addAfter(after, PipelineNames.COMPRESSION, compression);
            after = PipelineNames.COMPRESSION;
        }
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
        String path;
        try {
            path = uri.path();
        } catch (IllegalArgumentException malformedEscape) { // e.g. GET /%zz: no path of ours
            if (standalone) {
                HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.BAD_REQUEST,
                        "Malformed request target: " + malformedEscape.getMessage() + "\n"));
                ReferenceCountUtil.release(request);
            } else {
                ctx.fireChannelRead(msg); // the application decides what to answer
            }
            return;
        }
        Endpoint endpoint = endpoints.get(path);
        if (!standalone && endpoint == null) {
            ctx.fireChannelRead(msg); // the application's request
            return;
        }
        boolean handedOver = false;
        try {
            handedOver = endpoint != null ? upgrade(ctx, request, uri, endpoint) : route(ctx, (FullHttpRequest) request, uri);
        } finally {
            if (!handedOver) {
                ReferenceCountUtil.release(request);
            }
        }
    }

    /** Answers a request that is not for an endpoint. */
    private boolean route(ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder uri) {
        if (!request.decoderResult().isSuccess()) {
            HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.BAD_REQUEST,
                    "Malformed HTTP request\n"));
            return false;
        }
        String requestPath = uri.path();
        HttpRoute route = routes.get(requestPath);
        if (route != null) {
            route.serve(ctx, request, requestPath);
            return false;
        }
        switch (requestPath) {
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
            default:
                HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.NOT_FOUND,
                        "No such endpoint: " + requestPath + "\n\n" + endpointList()));
                return false;
        }
    }

    /** An upgrade to {@code endpoint}; returns whether ownership of {@code request} passed on. */
    private boolean upgrade(ChannelHandlerContext ctx, HttpRequest request, QueryStringDecoder uri, Endpoint endpoint) {
        String off = endpoint.off();
        if (off != null) {
            HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.NOT_FOUND, off));
            return false;
        }
        if (!isUpgrade(ctx, request)) {
            return false;
        }
        HandshakeRequest handshake;
        try {
            handshake = new HandshakeRequest(request, ctx.channel().remoteAddress());
        } catch (IllegalArgumentException e) {
            // A malformed percent-encoding; the message quotes the query, which may hold a token: not echoed.
            HttpResponses.send(ctx, request, HttpResponses.jsonError(ctx, HttpResponseStatus.BAD_REQUEST,
                    ErrorCode.INVALID_REQUEST, "The query string is not valid percent-encoding"));
            return false;
        }
        // The connection authorizer first: a token's identity names the client for the endpoint's checks.
        Identity identity = authorize(ctx, request, handshake);
        if (identity == null) {
            return false;
        }
        Function<HandshakeRequest, ChannelHandler> sessions = endpoint.accept(ctx, request, uri, identity);
        return sessions != null && admit(ctx, request, handshake, protocols.get(endpoint.path()), sessions);
    }

    /**
     * Asks the connection authorizer; returns the identity the request proves, or {@code null} after
     * answering the refusal: its status with a JSON body, code {@code unauthorized} for 401 (with
     * {@code WWW-Authenticate: Bearer}, RFC 6750 section 3) and {@code forbidden} for any other.
     */
    private Identity authorize(ChannelHandlerContext ctx, HttpRequest request, HandshakeRequest handshake) {
        ConnectionAuthorizer.Verdict verdict;
        try {
            verdict = node.connectionAuthorizer().verify(handshake);
        } catch (RuntimeException e) {
            // A failing hook refuses the connection; the tail logs the failure.
            HttpResponses.send(ctx, request, HttpResponses.jsonError(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR,
                    ErrorCode.INTERNAL, "The connection could not be authorized"));
            ctx.fireExceptionCaught(e);
            return null;
        }
        if (verdict.accepted()) {
            return verdict.identity();
        }
        ConnectionAuthorizer.Rejection rejection = verdict.rejection();
        node.metrics().refuse(Metrics.Refusal.AUTHORIZER);
        boolean unauthorized = rejection.status() == HttpResponseStatus.UNAUTHORIZED.code();
        FullHttpResponse response = HttpResponses.jsonError(ctx, HttpResponseStatus.valueOf(rejection.status()),
                unauthorized ? ErrorCode.UNAUTHORIZED : ErrorCode.FORBIDDEN, rejection.reason());
        if (unauthorized) {
            response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
        }
        HttpResponses.send(ctx, request, response);
        return null;
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
     * What every dialect's upgrade goes through last: the connection limits; then the WebSocket
     * handlers and the session are installed and the request passes on to Netty's handshaker.
     * Returns whether ownership of {@code request} passed on.
     */
    private boolean admit(ChannelHandlerContext ctx, HttpRequest request, HandshakeRequest handshake,
                          WebSocketServerProtocolConfig protocol, Function<HandshakeRequest, ChannelHandler> sessions) {
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
        installWebSocket(p, ctx.name(), protocol, config.maxMessageBytes(), node.newCompression(),
                sessions.apply(handshake));
        p.remove(this);
        // The removed router's context still forwards to its old successor: the handshake handler.
        ctx.fireChannelRead(request);
        return true;
    }

    /** Whether {@code request} uses {@code method}; answers 405 when it does not. */
    public static boolean allow(ChannelHandlerContext ctx, HttpRequest request, HttpMethod method) {
        if (method.equals(request.method())) {
            return true;
        }
        FullHttpResponse response = HttpResponses.text(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED,
                "Method " + request.method() + " is not allowed here: use " + method + "\n");
        response.headers().set(HttpHeaderNames.ALLOW, method.name());
        HttpResponses.send(ctx, request, response);
        return false;
    }

    private String indexPage() {
        return "Switchboard " + config.version() + ": a WebSocket pub-sub node.\n\n" + endpointList();
    }

    private String endpointList() {
        StringBuilder b = new StringBuilder("Endpoints:\n");
        for (Endpoint e : endpoints.values()) {
            String description = e.description();
            if (description != null) {
                b.append("  GET ").append(e.path()).append(description).append('\n');
            }
        }
        b.append("  GET /health                           200 while the node serves, 503 and why when its cluster link is down\n");
        b.append("  GET /metrics                          Prometheus metrics\n");
        for (String line : listings) {
            b.append(line).append('\n');
        }
        for (HttpRoute r : routeList) {
            for (String line : r.description()) {
                b.append(line).append('\n');
            }
        }
        return b.toString();
    }
}
