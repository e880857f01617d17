package io.switchboard.server.internal.dialect.chatroom;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.switchboard.server.HandshakeRequest;
import io.switchboard.server.Identity;
import io.switchboard.server.internal.session.SessionContext;
import io.switchboard.server.internal.transport.Endpoint;
import io.switchboard.server.internal.transport.HttpResponses;
import io.switchboard.server.internal.transport.Origins;

import java.util.function.Function;

/**
 * The 2023 ChatRoom client's endpoint at {@code /topicsync} (docs/chatroom.md "The 2023 client's
 * protocol"): the topics and services of {@code /chatroom}, spoken as {@code chatroom-client} 0.5.3
 * speaks. An {@code Origin}, when there is one, must be accepted. Served on a single node only: in a
 * cluster the upgrade is refused with 501 (an action's changes to several topics would need one
 * commit in Redis across them). Thread-safe.
 */
public final class TopicsyncEndpoint implements Endpoint {

    public static final String PATH = "/topicsync";

    private final SessionContext context;
    private final Chatroom room;

    public TopicsyncEndpoint(SessionContext context, Chatroom room) {
        this.context = context;
        this.room = room;
    }

    @Override
    public String path() {
        return PATH;
    }

    @Override
    public String description() {
        return "                       WebSocket, the same topics and services for the 2023 ChatRoom client";
    }

    @Override
    public Function<HandshakeRequest, ChannelHandler> accept(ChannelHandlerContext ctx, HttpRequest request,
                                                            QueryStringDecoder uri, Identity identity) {
        if (Origins.refuseForeign(ctx, request, context.config(), context.metrics())) {
            return null;
        }
        if (room.cluster() != null) {
            HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.NOT_IMPLEMENTED,
                    PATH + " is served on a single node only (see docs/chatroom.md); use /chatroom in a cluster\n"));
            return null;
        }
        // Token auth checks the connection only, as at /chatroom (docs/guarantees.md).
        return handshake -> {
            TopicsyncSession session = new TopicsyncSession(context, room);
            session.expireAt(identity.expiresAt());
            return session;
        };
    }
}
