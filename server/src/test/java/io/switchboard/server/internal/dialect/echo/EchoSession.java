package io.switchboard.server.internal.dialect.echo;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.switchboard.server.internal.broker.Dialect;
import io.switchboard.server.internal.session.SessionContext;
import io.switchboard.server.internal.session.WebSocketSession;

/**
 * The echo dialect's session: every message back as it came. Everything else (limits, the close
 * handshake, protocol violations, the heartbeat) is the real sessions' {@link WebSocketSession}.
 */
final class EchoSession extends WebSocketSession {

    /** Subscribes to no channel; code 15, which no real dialect takes. */
    static final Dialect DIALECT = new Dialect(15, "echo", true, null);

    EchoSession(SessionContext context) {
        super(context, DIALECT);
    }

    @Override
    public String label() {
        return "echo client";
    }

    @Override
    public void opened(ChannelHandlerContext ctx) {
    }

    @Override
    public void onText(ChannelHandlerContext ctx, ByteBuf payload) {
        reply(ctx, payload.retain());
    }

    @Override
    public void onBinary(ChannelHandlerContext ctx, ByteBuf payload) {
        ctx.write(new BinaryWebSocketFrame(payload.retain()), ctx.voidPromise());
    }

    @Override
    public void onRateLimited(ChannelHandlerContext ctx) {
    }

    @Override
    public void closed(ChannelHandlerContext ctx) {
    }
}
