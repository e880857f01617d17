package io.switchboard.server.internal.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;

import java.util.List;

/**
 * Plain HTTP requests to some paths of a standalone node (a dialect's HTTP API, say), as the
 * {@link HandshakeRouter} dispatches them. Thread-safe.
 */
public interface HttpRoute {

    /** The paths this route answers. */
    List<String> paths();

    /** Lines {@code GET /} lists for this route; empty when it lists none. */
    List<String> description();

    /**
     * Answers {@code request} to one of {@link #paths()} (with {@link HttpResponses#send}). Does not
     * take ownership of {@code request}. Called on the connection's event loop.
     */
    void serve(ChannelHandlerContext ctx, FullHttpRequest request, String path);
}
