package io.switchboard.server.internal.dialect.randomchat;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.switchboard.server.HandshakeRequest;
import io.switchboard.server.Identity;
import io.switchboard.server.internal.session.SessionContext;
import io.switchboard.server.internal.transport.Endpoint;
import io.switchboard.server.internal.transport.Origins;

import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The randomchat endpoint (PROTOCOL.md section 5) at {@code /randomchat}: who the client is comes
 * later, with its {@code register}; an {@code Origin}, when there is one, must be accepted. Off
 * (404) on a single node without a {@code DATA_DIR}. Thread-safe.
 */
public final class RandomchatEndpoint implements Endpoint {

    public static final String PATH = "/randomchat";

    private final SessionContext context;
    private final Supplier<RandomchatHub> hub;

    /** @param hub the dialect's hub, made (and its store opened) when the first client connects */
    public RandomchatEndpoint(SessionContext context, Supplier<RandomchatHub> hub) {
        this.context = context;
        this.hub = hub;
    }

    @Override
    public String path() {
        return PATH;
    }

    @Override
    public String description() {
        return context.config().randomchatEnabled()
                ? "                      WebSocket, randomchat: users, chats, offline delivery" : null;
    }

    @Override
    public String off() {
        return context.config().randomchatEnabled() ? null
                : "The randomchat dialect is off: it needs DATA_DIR (or REDIS_ENDPOINT)\n";
    }

    @Override
    public Function<HandshakeRequest, ChannelHandler> accept(ChannelHandlerContext ctx, HttpRequest request,
                                                            QueryStringDecoder uri, Identity identity) {
        if (Origins.refuseForeign(ctx, request, context.config(), context.metrics())) {
            return null;
        }
        // Token auth checks the connection only: this dialect's names and topics are its own (docs/guarantees.md).
        return handshake -> {
            RandomchatSession session = new RandomchatSession(context, hub.get());
            session.expireAt(identity.expiresAt());
            return session;
        };
    }
}
