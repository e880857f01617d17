package io.switchboard.server.internal.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.metrics.Metrics;

import java.util.List;

/** Which browser origins may connect ({@code ACCEPTED_ORIGIN}), as every endpoint checks them. */
public final class Origins {

    private Origins() {
    }

    /** Whether a browser from {@code origin} may connect: any, unless {@code ACCEPTED_ORIGIN} lists some. */
    public static boolean accepted(SwitchboardConfig config, String origin) {
        List<String> accepted = config.acceptedOrigins();
        if (accepted.isEmpty()) {
            return true;
        }
        for (String a : accepted) {
            if (a.equalsIgnoreCase(origin.trim())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Refuses an upgrade whose {@code Origin}, when it has one, is not accepted: 403 with a plain
     * text reason. Returns whether it refused (and answered) {@code request}; does not release it.
     */
    public static boolean refuseForeign(ChannelHandlerContext ctx, HttpRequest request, SwitchboardConfig config,
                                        Metrics metrics) {
        String origin = request.headers().get(HttpHeaderNames.ORIGIN);
        if (origin == null || accepted(config, origin)) {
            return false;
        }
        metrics.refuse(Metrics.Refusal.ORIGIN);
        HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.FORBIDDEN,
                "Origin '" + origin + "' is not allowed to connect\n"));
        return true;
    }
}
