package io.switchboard.server.internal.dialect.echo;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.switchboard.server.HandshakeRequest;
import io.switchboard.server.internal.session.SessionContext;
import io.switchboard.server.internal.transport.Endpoint;

import java.util.function.Function;

/** The echo dialect's endpoint at {@code /}: every upgrade accepted. */
final class EchoEndpoint implements Endpoint {

    private final SessionContext context;

    EchoEndpoint(SessionContext context) {
        this.context = context;
    }

    @Override
    public String path() {
        return "/";
    }

    @Override
    public String description() {
        return "                                     WebSocket, echo (the Autobahn run's)";
    }

    @Override
    public Function<HandshakeRequest, ChannelHandler> accept(ChannelHandlerContext ctx, HttpRequest request,
                                                            QueryStringDecoder uri, io.switchboard.server.Identity identity) {
        return handshake -> new EchoSession(context);
    }
}
