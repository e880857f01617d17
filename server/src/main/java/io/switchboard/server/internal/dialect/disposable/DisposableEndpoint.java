package io.switchboard.server.internal.dialect.disposable;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.disposable.DisposableDecoder;
import io.switchboard.protocol.disposable.DisposableParams;
import io.switchboard.server.ChannelAuthorizer;
import io.switchboard.server.HandshakeRequest;
import io.switchboard.server.Identity;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.metrics.Metrics;
import io.switchboard.server.internal.session.SessionContext;
import io.switchboard.server.internal.transport.Endpoint;
import io.switchboard.server.internal.transport.HttpResponses;
import io.switchboard.server.internal.transport.Origins;

import java.util.List;
import java.util.function.Function;

/**
 * The disposable endpoint (PROTOCOL.md section 2) at {@code /ws?name=&room=}: refusals are plain
 * text, as the seed's; with {@code ACCEPTED_ORIGIN} set the {@code Origin} must be one of it,
 * present or not; the room is a channel, so the channel authorizer is asked before the upgrade.
 * Thread-safe.
 */
public final class DisposableEndpoint implements Endpoint {

    public static final String PATH = "/ws";

    private final SessionContext context;
    private final DisposableDecoder decoder;
    private final ChannelAuthorizer authorizer;

    public DisposableEndpoint(SessionContext context, DisposableDecoder decoder, ChannelAuthorizer authorizer) {
        this.context = context;
        this.decoder = decoder;
        this.authorizer = authorizer;
    }

    @Override
    public String path() {
        return PATH;
    }

    @Override
    public String description() {
        return "?name=NAME&room=ROOM        WebSocket, disposable chat rooms";
    }

    @Override
    public Function<HandshakeRequest, ChannelHandler> accept(ChannelHandlerContext ctx, HttpRequest request,
                                                            QueryStringDecoder uri, Identity identity) {
        SwitchboardConfig config = context.config();
        // A token's sub is the client's name (PROTOCOL.md section 1a), held to the seed's name rules.
        String name = DisposableParams.trim(identity.name() != null ? identity.name() : first(uri, "name"));
        String room = DisposableParams.trim(first(uri, "room"));
        String invalid = DisposableParams.check(name, room);
        if (invalid == null && JsonStrings.utf8Length(room) > config.maxChannelNameBytes()) {
            invalid = DisposableParams.INVALID + " (`room` is longer than " + config.maxChannelNameBytes() + " bytes)";
        }
        if (invalid != null) {
            context.metrics().refuse(Metrics.Refusal.INVALID);
            HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.BAD_REQUEST, invalid));
            return null;
        }
        String origin = request.headers().get(HttpHeaderNames.ORIGIN);
        if (!config.acceptedOrigins().isEmpty() && (origin == null || !Origins.accepted(config, origin))) {
            context.metrics().refuse(Metrics.Refusal.ORIGIN);
            HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.FORBIDDEN, origin == null
                    ? "The Origin header is missing: only pages from the accepted origins may connect"
                    : "Origin '" + origin + "' is not allowed to connect"));
            return null;
        }
        String refusal = authorizer.authorize(ChannelAuthorizer.Operation.SUBSCRIBE, room, name,
                new HandshakeRequest(request, ctx.channel().remoteAddress()), identity);
        if (refusal != null) {
            context.metrics().refuse(Metrics.Refusal.AUTHORIZER);
            HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.FORBIDDEN, refusal));
            return null;
        }
        return handshake -> new DisposableSession(context, decoder, authorizer, name, room, handshake, identity);
    }

    private static String first(QueryStringDecoder uri, String parameter) {
        List<String> values = uri.parameters().get(parameter);
        return values == null || values.isEmpty() ? null : values.get(0);
    }
}
