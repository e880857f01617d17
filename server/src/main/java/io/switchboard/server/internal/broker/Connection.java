package io.switchboard.server.internal.broker;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.switchboard.server.SlowConsumerPolicy;
import io.switchboard.server.internal.transport.Backpressure;

/**
 * What the broker knows of one subscribed connection: where to write its deliveries and whether
 * it waits for the next batch flush. One per connection, shared by all its subscriptions.
 *
 * <p>Not thread-safe; all methods must be called from the connection's event loop.
 */
public final class Connection {

    public final LoopTable loop;
    final Dialect dialect;
    /**
     * Where deliveries are written from: the context of the connection's {@link Backpressure}, so
     * that a delivery, already a complete frame, goes straight to the transport instead of through
     * the handlers that would pass it along unchanged.
     */
    final ChannelHandlerContext ctx;
    /** Whether this connection is on {@link LoopTable}'s list of connections to flush. */
    boolean flushPending;
    /** Set once a close frame is on its way: no data frame may follow it (RFC 6455 section 5.5.1). */
    public boolean closing;
    /** Deliveries skipped under the drop policy while the connection was over its soft limit. */
    public long dropped;
    private final SlowConsumerPolicy policy;
    private final Backpressure backpressure;
    /** Takes this connection's fan-out deliveries in place of {@link #deliver(ByteBuf)}; usually {@code null}. */
    Fanout.Receiver receiver;
    /**
     * Whether the connection negotiated permessage-deflate: the fan-out then writes it a publish's
     * compressed frame, when there is one. Set once, at the handshake, before any subscription.
     */
    boolean deflate;
    /**
     * Whether the connection takes batched frames (minichats {@code ?batch=1}, PROTOCOL.md section
     * 1a): its deliveries are corked ({@link Backpressure#cork}) and go out merged at the flush. Set
     * once, when the session is added, before any subscription.
     */
    boolean batched;
    /** Whether its deliveries' frames are corked ({@code CORK_FRAMES}): copied, written once per flush. */
    private boolean corksFrames;

    Connection(Backpressure backpressure, LoopTable loop, Dialect dialect, SlowConsumerPolicy policy) {
        this.ctx = backpressure.context();
        this.backpressure = backpressure;
        this.loop = loop;
        this.dialect = dialect;
        this.policy = policy;
    }

    /**
     * Makes {@link Fanout} hand this connection's deliveries to {@code receiver} instead of writing
     * them with {@link #deliver(ByteBuf)}: for a dialect that must know whether each was written.
     */
    public void receiver(Fanout.Receiver receiver) {
        assert ctx.executor().inEventLoop();
        this.receiver = receiver;
    }

    /**
     * Marks the connection as one that negotiated permessage-deflate (RFC 7692): its channel
     * deliveries are written compressed, once per publish for all such subscribers. Call at the
     * handshake, before the connection subscribes to anything.
     */
    public void acceptsDeflate() {
        assert ctx.executor().inEventLoop();
        // A batched connection's merged frames are not compressed (docs/guarantees.md, "Batched frames").
        this.deflate = !batched;
    }

    /**
     * Makes the connection a batched one (PROTOCOL.md section 1a): every delivery is copied into the
     * connection's cork and merged with the others of the batch into one frame at the flush. Call when
     * the session is added, before the connection subscribes to anything or negotiates compression.
     */
    public void acceptsBatches() {
        assert ctx.executor().inEventLoop();
        this.batched = true;
        backpressure.batched();
    }

    /** Whether the connection takes batched frames. */
    public boolean batched() {
        return batched;
    }

    /**
     * Makes the connection cork its deliveries ({@code CORK_FRAMES}): each frame {@link #deliver(ByteBuf)}
     * gets is copied into the connection's cork and the cork written once at the flush, each message
     * still in its own frame. Call when the session is added, before any subscription.
     */
    public void corksFrames() {
        assert ctx.executor().inEventLoop();
        this.corksFrames = true;
        backpressure.corksFrames();
    }

    /**
     * Corks {@code payload}, a message's JSON without a raw newline (a batched connection's delivery
     * or reply; or, for a connection that {@link #corksFrames}, a whole frame), to go out with the
     * rest of the batch at the flush, which this asks for; a slow consumer's may be dropped instead,
     * or end the connection, as in {@link #deliver(ByteBuf)}, the cork's bytes counted as pending.
     * Returns whether it was corked. Does not take ownership of {@code payload}.
     */
    public boolean deliverBatched(ByteBuf payload) {
        assert (batched || corksFrames) && ctx.executor().inEventLoop();
        if (closing || !backpressure.writable() && !admitWhileUnwritable()) {
            return false;
        }
        if (!backpressure.cork(payload)) {
            return false;
        }
        loop.flushLater(this);
        return true;
    }

    /** Writes out the cork, if any, and flushes: the end of the batch ({@link LoopTable}). */
    void flush() {
        backpressure.flushNow();
    }

    /**
     * Writes a retained duplicate of {@code frame}, as {@link Dialect#render} made it, and leaves the
     * flush to the end of the batch; a slow consumer's delivery may be dropped instead, or end the
     * connection. Returns whether it was written. Does not take ownership of {@code frame}.
     */
    public boolean deliver(ByteBuf frame) {
        if (corksFrames) {
            return deliverBatched(frame); // the frame's bytes copied into the cork
        }
        // A void promise and a duplicate (CORK_FRAMES off): an outbound entry per delivery.
        return deliver(frame, ctx.voidPromise());
    }

    /**
     * {@link #deliver(ByteBuf)} with {@code promise}, for a frame whose loss after it was accepted
     * (the connection closed before it was flushed) must be noticed; not completed when this
     * returns {@code false}.
     */
    public boolean deliver(ByteBuf frame, ChannelPromise promise) {
        assert ctx.executor().inEventLoop();
        if (closing || !ctx.channel().isWritable() && !admitWhileUnwritable()) {
            return false;
        }
        if (corksFrames) {
            backpressure.uncork(); // what was corked before this goes before it
        }
        ctx.write(frame.retainedDuplicate(), promise);
        loop.flushLater(this);
        return true;
    }

    /**
     * Delivers {@code frame}, a complete frame made for this connection alone (a replayed publish,
     * issue 18), as the fan-out would: batched connections get its payload corked. Returns whether it
     * was written. Does not take ownership of {@code frame}.
     */
    public boolean deliverOne(ByteBuf frame) {
        if (batched) {
            ByteBuf payload = FrameVariants.batchPayload(frame);
            try {
                return deliverBatched(payload);
            } finally {
                payload.release();
            }
        }
        return deliver(frame);
    }

    /** The slow path: the connection is over its soft limit (Netty's high-water mark). */
    private boolean admitWhileUnwritable() {
        if (policy == SlowConsumerPolicy.DROP) {
            dropped++;
            loop.metrics.drops.increment();
            return false;
        }
        if (ctx.channel().unsafe().outboundBuffer() == null) {
            return false; // closed: unwritable for good, and not for being slow
        }
        // Over the soft limit: the session's timer decides, unless this is the hard limit.
        return !backpressure.checkHardLimit();
    }
}
