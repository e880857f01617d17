package io.switchboard.server.internal;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.ReferenceCountUtil;
import io.switchboard.protocol.Names;
import io.switchboard.protocol.minichats.ErrorCode;
import io.switchboard.protocol.minichats.MinichatsDecoder;
import io.switchboard.server.SwitchboardConfig;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Answers the HTTP request that opens a connection: a WebSocket upgrade on a dialect's path
 * becomes a session (the router installs the WebSocket handlers and the session, removes itself
 * and passes the request on to Netty's handshaker); {@code /} and {@code /health} are small text
 * pages; anything else is 404. Validation happens here, before the upgrade, so a refused client
 * gets a plain HTTP status with a reason.
 *
 * <p>Stateless and {@link Sharable}: one instance serves every connection of a server.
 */
@Sharable
public final class HandshakeRouter extends ChannelInboundHandlerAdapter {

    static final String MINICHATS_PATH = "/api/connect";

    private final SwitchboardConfig config;
    private final Broker broker;
    private final MinichatsDecoder minichatsDecoder;
    private final WebSocketServerProtocolConfig minichatsProtocol;

    public HandshakeRouter(SwitchboardConfig config, Broker broker) {
        this.config = config;
        this.broker = broker;
        this.minichatsDecoder = new MinichatsDecoder(config.maxMessageBytes(), config.maxJsonDepth(),
                config.maxChannelNameBytes());
        this.minichatsProtocol = WebSocketServerProtocolConfig.newBuilder()
                .websocketPath(MINICHATS_PATH)
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
                        .closeOnProtocolViolation(true)
                        .build())
                .build();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest)) {
            ctx.fireChannelRead(msg);
            return;
        }
        FullHttpRequest request = (FullHttpRequest) msg;
        boolean handedOver = false;
        try {
            handedOver = route(ctx, request);
        } finally {
            if (!handedOver) {
                ReferenceCountUtil.release(request);
            }
        }
    }

    /** Answers or hands over {@code request}; returns whether ownership of it passed on. */
    private boolean route(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (!request.decoderResult().isSuccess()) {
            HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.BAD_REQUEST,
                    "Malformed HTTP request\n"));
            return false;
        }
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        switch (uri.path()) {
            case MINICHATS_PATH:
                return upgradeMinichats(ctx, request, uri);
            case "/":
                if (allowGet(ctx, request)) {
                    HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.OK, indexPage()));
                }
                return false;
            case "/health":
                if (allowGet(ctx, request)) {
                    HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.OK, "ok\n"));
                }
                return false;
            default:
                HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.NOT_FOUND,
                        "No such endpoint: " + uri.path() + "\n\n" + endpoints()));
                return false;
        }
    }

    private boolean upgradeMinichats(ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder uri) {
        if (!allowGet(ctx, request)) {
            return false;
        }
        if (!request.headers().containsValue(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true)) {
            FullHttpResponse response = HttpResponses.text(ctx, HttpResponseStatus.UPGRADE_REQUIRED,
                    MINICHATS_PATH + " is a WebSocket endpoint: connect with a WebSocket client\n");
            response.headers().set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
            HttpResponses.send(ctx, request, response);
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
        ChannelPipeline p = ctx.pipeline();
        // WebSocketServerProtocolHandler adds the handshake handler and the UTF-8 validator before itself.
        p.addAfter(ctx.name(), PipelineNames.WS_PROTOCOL, new WebSocketServerProtocolHandler(minichatsProtocol));
        p.addAfter(PipelineNames.WS_PROTOCOL, PipelineNames.WS_AGGREGATOR,
                new WebSocketFrameAggregator(config.maxMessageBytes()));
        p.addAfter(PipelineNames.WS_AGGREGATOR, PipelineNames.SESSION, new MinichatsSession(broker, minichatsDecoder,
                config, name));
        p.remove(this);
        // The removed router's context still forwards to its old successor: the handshake handler.
        ctx.fireChannelRead(request);
        return true;
    }

    private static boolean allowGet(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (HttpMethod.GET.equals(request.method())) {
            return true;
        }
        FullHttpResponse response = HttpResponses.text(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED,
                "Method " + request.method() + " is not allowed here: use GET\n");
        response.headers().set(HttpHeaderNames.ALLOW, HttpMethod.GET.name());
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

    private static String endpoints() {
        return "Endpoints:\n"
                + "  GET " + MINICHATS_PATH + "[?client_name=NAME]  WebSocket, minichats JSON pub-sub\n"
                + "  GET /health                           200 while the node serves\n";
    }
}
