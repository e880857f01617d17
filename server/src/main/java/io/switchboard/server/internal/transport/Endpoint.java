package io.switchboard.server.internal.transport;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.switchboard.server.HandshakeRequest;
import io.switchboard.server.Identity;

import java.util.function.Function;

/**
 * A dialect's WebSocket endpoint, as the {@link HandshakeRouter} looks it up: a path, the checks of
 * its upgrade requests, and the session a connection becomes. A dialect registers one with the node;
 * the router knows none by name. Thread-safe.
 */
public interface Endpoint {

    /** The request path of this endpoint's upgrades (a query may follow it). */
    String path();

    /** What {@code GET /} says of it after its path, e.g. {@code "WebSocket, chat rooms"}; {@code null}: not listed. */
    String description();

    /**
     * Why the endpoint is off (every request to its path gets 404 with this text), or {@code null}
     * while it serves.
     */
    default String off() {
        return null;
    }

    /**
     * Checks an upgrade request to {@link #path()} (a GET asking for {@code Upgrade: websocket} that
     * the connection authorizer accepted as {@code identity}: the router checked) before the
     * connection limits. Returns what makes the connection's session once those pass, or {@code null}
     * after answering {@code request} with a refusal ({@link HttpResponses#send}). A session bounds its
     * life by the identity's expiry and names its client by the identity's name where its dialect
     * has names. Does not take ownership of {@code request}. Called on the connection's event loop.
     */
    Function<HandshakeRequest, ChannelHandler> accept(ChannelHandlerContext ctx, HttpRequest request,
                                                     QueryStringDecoder uri, Identity identity);
}
