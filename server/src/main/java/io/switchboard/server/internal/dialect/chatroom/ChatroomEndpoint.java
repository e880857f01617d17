package io.switchboard.server.internal.dialect.chatroom;

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

/**
 * The chatroom endpoint (PROTOCOL.md section 4) at {@code /chatroom}: an {@code Origin}, when there
 * is one, must be accepted; the client gets its id in {@code hello}. Thread-safe.
 */
public final class ChatroomEndpoint implements Endpoint {

    public static final String PATH = "/chatroom";

    private final SessionContext context;
    private final Chatroom room;

    public ChatroomEndpoint(SessionContext context, Chatroom room) {
        this.context = context;
        this.room = room;
    }

    @Override
    public String path() {
        return PATH;
    }

    @Override
    public String description() {
        return "                        WebSocket, chatroom topics and services";
    }

    @Override
    public Function<HandshakeRequest, ChannelHandler> accept(ChannelHandlerContext ctx, HttpRequest request,
                                                            QueryStringDecoder uri, Identity identity) {
        if (Origins.refuseForeign(ctx, request, context.config(), context.metrics())) {
            return null;
        }
        // Token auth checks the connection only: this dialect's names and topics are its own (docs/guarantees.md).
        return handshake -> {
            ChatroomSession session = new ChatroomSession(context, room);
            session.expireAt(identity.expiresAt());
            return session;
        };
    }
}
