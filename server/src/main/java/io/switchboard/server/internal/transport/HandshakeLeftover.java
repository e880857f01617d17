package io.switchboard.server.internal.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler.HandshakeComplete;

import java.util.List;

/**
 * Feeds the frame decoder the bytes that came in the same read as the WebSocket upgrade request,
 * once the handshake is done (issue 15: a client's first frame sent in the upgrade's packet was
 * dropped).
 *
 * <p>Why they go astray: {@code HttpServerCodec} decodes the request and keeps the bytes after it
 * in its buffer. Netty's handshaker adds its frame decoder ("wsdecoder") <em>before</em> the codec
 * and removes the codec once the 101 is written; the codec's {@code ByteToMessageDecoder} then
 * passes its leftover bytes to the handler <em>after</em> it, so they never meet the frame decoder
 * and reached the session as a raw buffer, which it passed to the pipeline's end. This handler
 * stands just before the session: it holds such bytes until {@link HandshakeComplete} has passed
 * on (the session has greeted the client), then hands them to the frame decoder, from the handler
 * before it, and removes itself. Everything else passes through. This relies on the 101 being
 * written within the handshake call, as on a new connection's empty socket buffer: were its write
 * to wait, the codec would meanwhile read the leftover as the start of another HTTP request.
 *
 * <p>One instance per connection; event loop only. Takes ownership of every {@link ByteBuf} it
 * reads: it passes it on to the frame decoder, which releases it, or releases it when removed first.
 */
public final class HandshakeLeftover extends ChannelInboundHandlerAdapter {

    /** The leftover bytes, {@code null} when there are none. */
    private ByteBuf held;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf)) {
            ctx.fireChannelRead(msg);
            return;
        }
        held = held == null ? (ByteBuf) msg : Unpooled.wrappedBuffer(held, (ByteBuf) msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.fireChannelReadComplete();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        ctx.fireUserEventTriggered(evt);
        if (evt instanceof HandshakeComplete) {
            ByteBuf bytes = held;
            held = null;
            ChannelPipeline p = ctx.pipeline();
            p.remove(this);
            if (bytes != null) {
                decode(p, bytes);
            }
        }
    }

    /** Passes {@code bytes} to the frame decoder as if just read. Takes ownership of {@code bytes}. */
    private static void decode(ChannelPipeline p, ByteBuf bytes) {
        ChannelHandlerContext decoder = p.context(WebSocketFrameDecoder.class);
        if (decoder == null) {
            bytes.release(); // the connection is gone with its decoder
            return;
        }
        List<String> names = p.names();
        int at = names.indexOf(decoder.name());
        if (at > 0) {
            ChannelHandlerContext before = p.context(names.get(at - 1));
            before.fireChannelRead(bytes);
            before.fireChannelReadComplete();
        } else {
            p.fireChannelRead(bytes);
            p.fireChannelReadComplete();
        }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (held != null) {
            held.release();
            held = null;
        }
    }
}
