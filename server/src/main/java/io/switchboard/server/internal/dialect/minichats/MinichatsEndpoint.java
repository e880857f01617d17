package io.switchboard.server.internal.dialect.minichats;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.switchboard.protocol.Names;
import io.switchboard.protocol.minichats.ErrorCode;
import io.switchboard.protocol.minichats.MinichatsDecoder;
import io.switchboard.server.ChannelAuthorizer;
import io.switchboard.server.ConnectionAuthorizer;
import io.switchboard.server.HandshakeRequest;
import io.switchboard.server.Identity;
import io.switchboard.server.internal.metrics.Metrics;
import io.switchboard.server.internal.session.SessionContext;
import io.switchboard.server.internal.transport.Endpoint;
import io.switchboard.server.internal.transport.HttpResponses;
import io.switchboard.server.internal.transport.Origins;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/**
 * The minichats endpoint (PROTOCOL.md section 1), at {@code /api/connect} on a standalone node or
 * where an application mounts it: {@code client_name} checked (400 with a JSON reason), or made up;
 * an {@code Origin}, when there is one, must be accepted (403 with a JSON reason). Thread-safe.
 */
public final class MinichatsEndpoint implements Endpoint {

    /** Where a standalone node serves minichats. */
    public static final String PATH = "/api/connect";

    private final String path;
    private final SessionContext context;
    private final MinichatsDecoder decoder;
    private final ChannelAuthorizer authorizer;
    private final ConnectionAuthorizer connectionAuthorizer;

    /** @param connectionAuthorizer the node's, which checks a {@code refresh} (issue 19) */
    public MinichatsEndpoint(String path, SessionContext context, MinichatsDecoder decoder, ChannelAuthorizer authorizer,
                             ConnectionAuthorizer connectionAuthorizer) {
        this.path = path;
        this.context = context;
        this.decoder = decoder;
        this.authorizer = authorizer;
        this.connectionAuthorizer = connectionAuthorizer;
    }

    @Override
    public String path() {
        return path;
    }

    @Override
    public String description() {
        return "[?client_name=NAME][&batch=1]  WebSocket, minichats JSON pub-sub";
    }

    @Override
    public Function<HandshakeRequest, ChannelHandler> accept(ChannelHandlerContext ctx, HttpRequest request,
                                                            QueryStringDecoder uri, Identity identity) {
        List<String> names = uri.parameters().get("client_name");
        String name = names == null || names.isEmpty() ? "" : names.get(0);
        String param = "client_name";
        if (identity.name() != null) {
            name = identity.name(); // a token's sub names the client (PROTOCOL.md section 1a)
            param = "sub";
        }
        if (name.isEmpty()) {
            name = generateName();
        } else {
            String invalid = Names.check(param, name, context.config().maxClientNameBytes());
            if (invalid != null) {
                context.metrics().refuse(Metrics.Refusal.INVALID);
                HttpResponses.send(ctx, request, HttpResponses.jsonError(ctx, HttpResponseStatus.BAD_REQUEST,
                        ErrorCode.INVALID_PARAM, invalid));
                return null;
            }
        }
        String origin = request.headers().get(HttpHeaderNames.ORIGIN);
        if (origin != null && !Origins.accepted(context.config(), origin)) {
            context.metrics().refuse(Metrics.Refusal.ORIGIN);
            HttpResponses.send(ctx, request, HttpResponses.jsonError(ctx, HttpResponseStatus.FORBIDDEN,
                    ErrorCode.FORBIDDEN, "Origin '" + origin + "' is not allowed to connect"));
            return null;
        }
        // Batched frames (PROTOCOL.md section 1a): "1" asks for them, "0" or no parameter does not.
        List<String> batch = uri.parameters().get("batch");
        String batchValue = batch == null || batch.isEmpty() ? "0" : batch.get(0);
        if (!batchValue.equals("0") && !batchValue.equals("1")) {
            HttpResponses.send(ctx, request, HttpResponses.jsonError(ctx, HttpResponseStatus.BAD_REQUEST,
                    ErrorCode.INVALID_PARAM, "batch must be 1 or 0"));
            return null;
        }
        boolean batched = batchValue.equals("1");
        String clientName = name;
        return handshake -> new MinichatsSession(context, decoder, authorizer, connectionAuthorizer, clientName, handshake,
                identity, batched);
    }

    /** A name for a client that gave none, e.g. {@code guest-4f2a9c}. */
    static String generateName() {
        return String.format("guest-%06x", ThreadLocalRandom.current().nextInt(1 << 24));
    }
}
