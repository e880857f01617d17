package io.switchboard.server.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;

/**
 * What the broker knows of one subscribed connection: where to write its deliveries and whether
 * it waits for the next batch flush. One per connection, shared by all its subscriptions.
 *
 * <p>Not thread-safe; all methods must be called from the connection's event loop.
 */
final class Connection {

    final LoopTable loop;
    /**
     * Where deliveries are written from: the context of Netty's WebSocket frame encoder once the
     * handshake is done, so that a delivery, already a complete frame, goes straight to the
     * transport instead of through the handlers that would pass it along unchanged.
     */
    ChannelHandlerContext ctx;
    /** Whether this connection is on {@link LoopTable}'s list of connections to flush. */
    boolean flushPending;
    /** Set once a close frame is on its way: no data frame may follow it (RFC 6455 section 5.5.1). */
    boolean closing;

    Connection(ChannelHandlerContext ctx, LoopTable loop) {
        this.ctx = ctx;
        this.loop = loop;
    }

    /**
     * Writes a retained duplicate of {@code frame}, a complete WebSocket frame, and leaves the
     * flush to the end of the batch. Does not take ownership of {@code frame}.
     */
    void deliver(ByteBuf frame) {
        if (closing) {
            return;
        }
        // A void promise and a recycled duplicate: nothing is allocated per subscriber.
        ctx.write(frame.retainedDuplicate(), ctx.voidPromise());
        loop.flushLater(this);
    }
}
