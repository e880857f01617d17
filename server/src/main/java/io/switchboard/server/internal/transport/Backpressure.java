package io.switchboard.server.internal.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.util.ReferenceCountUtil;
import io.switchboard.protocol.WebSocketFrames;
import io.switchboard.server.internal.broker.Connection;
import io.switchboard.server.internal.metrics.Metrics;

import java.io.IOException;

/**
 * Bounds what one connection can make the node hold, whatever writes to it: the first handler of
 * every pipeline (closest to the socket), so every byte written to the connection, a reply, a
 * delivery, a pong, a close frame, an HTTP response or a line of text, is counted by Netty's
 * outbound buffer and passes here or through {@link Connection#deliver}.
 *
 * <ul>
 *   <li>The soft limit ({@code OUTBOUND_SOFT_LIMIT_BYTES}) is the write-buffer high-water mark:
 *       while the connection is over it, nothing more is read from it (auto-read off), so a client
 *       that does not take its replies cannot make the node produce more. A
 *       {@link FlowControlHandler} behind the protocol decoder holds the messages already read
 *       until reading resumes, below the low-water mark (half the soft limit).</li>
 *   <li>The hard limit ({@code OUTBOUND_HARD_LIMIT_BYTES}): a write to a connection that already
 *       holds that much closes it at once, under either slow-consumer policy; that write and what
 *       follows are released and their promises failed.</li>
 *   <li>Reading is also off while the session {@link #holdReads holds} it (waiting for the
 *       cluster, or for work it handed to another thread): this handler is the one owner of
 *       auto-read.</li>
 * </ul>
 *
 * <p>A connection in batched mode (minichats {@code ?batch=1}, PROTOCOL.md section 1a) also has a
 * <em>cork</em> ({@link #cork}): the messages written to it while an event-loop batch is open
 * (deliveries and replies, in the order they are written) are copied into one per-connection
 * buffer, separated by {@code \n}, and go out as one text frame at the flush that ends the batch,
 * or earlier, in frames of at most {@link #CORK_CAP} payload bytes. The buffer exists only while a
 * batch is open; its bytes count toward both limits like the bytes Netty holds (see
 * {@link #pendingBytes}). Any other write (a close frame, a pong) first writes out the cork, so
 * nothing overtakes what was corked before it. With {@code CORK_FRAMES} ({@link #corksFrames}) any
 * other connection corks its deliveries' whole frames the same way: one write per flush.
 *
 * <p>Deliveries are written from this handler's context (the fan-out skips its {@link #write}); they
 * check the same limits in {@link Connection#deliver}. One instance per connection; it lives on the
 * connection's event loop and is not thread-safe.
 */
public final class Backpressure extends ChannelDuplexHandler {

    private final int softLimitBytes;
    private final long hardLimitBytes;
    private final Metrics metrics;
    private ChannelHandlerContext ctx;
    /** Called once when the hard limit is crossed, before the connection closes; {@code null}: just close. */
    private Runnable onHardLimit;
    /** Reasons the session has to keep reading off ({@link #holdReads}). */
    private int holds;
    private boolean overHardLimit;
    /**
     * The open cork of a batched connection, or {@code null}: {@link #CORK_HEADROOM} bytes left for
     * the frame header, then the payloads written since the last flush, separated by {@code \n}.
     */
    private ByteBuf cork;
    /** Whether this connection takes batched frames ({@link #batched}). */
    private boolean batched;
    /** Whether this connection corks whole frames ({@link #corksFrames}, {@code CORK_FRAMES}). */
    private boolean frames;
    /**
     * The size of the cork to open: what the last one held when written out, so a connection that
     * gets many messages per batch opens a cork that holds them instead of growing it from 256
     * bytes by copies (a JFR profile of the corked fan-out had a fifth of its time in
     * {@code ensureWritable}). Never above {@link #CORK_CAP}. Its capacity beyond what it holds is
     * not counted by the limits, which count bytes held: at most one batch's worth, once.
     */
    private int corkSize = MIN_CORK;

    /**
     * The largest payload of one batched frame: a cork that would grow past it is written out as a
     * frame of its own (not flushed) and a new one opened. A single larger message gets a frame of
     * its own.
     */
    public static final int CORK_CAP = 64 * 1024;
    /** Room for the longest text-frame header (RFC 6455: 2 + 8 bytes), so the frame is one buffer. */
    private static final int CORK_HEADROOM = 10;
    private static final int MIN_CORK = 256;

    public Backpressure(int softLimitBytes, long hardLimitBytes, Metrics metrics) {
        this.softLimitBytes = softLimitBytes;
        this.hardLimitBytes = hardLimitBytes;
        this.metrics = metrics;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        ctx.channel().config().setWriteBufferWaterMark(new WriteBufferWaterMark(softLimitBytes / 2, softLimitBytes));
    }

    /** The context deliveries are written from: straight to the transport, past every codec. */
    public ChannelHandlerContext context() {
        return ctx;
    }

    /** Makes this connection a batched one: its {@link #cork} merges messages into frames. Call once, before any write. */
    public void batched() {
        this.batched = true;
    }

    /**
     * Makes {@link #cork} take whole frames (or line text), appended as they are, for a connection
     * that is not {@link #batched} ({@code CORK_FRAMES}): one write per flush, each message in its own
     * frame. Call once, before any write; {@link #batched} wins.
     */
    public void corksFrames() {
        this.frames = true;
    }

    /**
     * The bytes the connection holds: Netty's pending outbound bytes plus those of an open cork. The
     * hard limit and, for a corking connection, {@link #writable} count them.
     */
    public long pendingBytes() {
        ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
        long pending = out == null ? 0 : out.totalPendingWriteBytes();
        return cork == null ? pending : pending + cork.readableBytes();
    }

    /**
     * Whether the connection is under its soft limit: Netty's writability, and for an open cork also
     * the pending bytes with the cork's counted (the cork is written at the flush, where Netty's
     * water marks then see it).
     */
    public boolean writable() {
        if (!ctx.channel().isWritable()) {
            return false;
        }
        return cork == null || pendingBytes() < softLimitBytes;
    }

    /**
     * Copies {@code payload} (one complete message with no raw newline) into the connection's cork,
     * opening one if none is open: it goes out at the next flush, in a frame with whatever else was
     * corked. Checks the hard limit first, counting the cork: past it the connection closes and
     * nothing is corked. Returns whether it was corked. Does not take ownership of {@code payload}.
     * Call only for a {@link #batched} connection, or one that {@link #corksFrames} (then
     * {@code payload} is a whole frame, appended as it is), from its event loop.
     */
    public boolean cork(ByteBuf payload) {
        assert (batched || frames) && ctx.executor().inEventLoop();
        if (!batched) {
            return corkFrame(payload);
        }
        if (overHardLimit || pendingBytes() >= hardLimitBytes && checkHardLimit()) {
            return false;
        }
        int length = payload.readableBytes();
        if (cork != null && cork.readableBytes() + 1 + length > CORK_CAP) {
            uncork(); // full: out as a frame of its own, flushed with the rest
        }
        if (cork == null) {
            cork = ctx.alloc().directBuffer(CORK_HEADROOM + Math.max(length, corkSize));
            cork.writerIndex(CORK_HEADROOM);
            cork.readerIndex(CORK_HEADROOM);
        } else {
            cork.writeByte('\n');
        }
        cork.writeBytes(payload, payload.readerIndex(), length);
        return true;
    }

    /** {@link #cork} for whole frames: appended as they are, no header of the cork's own. Does not take ownership of {@code frame}. */
    private boolean corkFrame(ByteBuf frame) {
        if (overHardLimit || pendingBytes() >= hardLimitBytes && checkHardLimit()) {
            return false;
        }
        int length = frame.readableBytes();
        if (cork != null && cork.readableBytes() + length > CORK_CAP) {
            uncork();
        }
        if (cork == null) {
            cork = ctx.alloc().directBuffer(Math.max(length, corkSize));
        }
        cork.writeBytes(frame, frame.readerIndex(), length);
        return true;
    }

    /**
     * Writes the open cork, if any, as one text frame (not flushed) and closes it; the next
     * {@link #cork} opens a new one. Called by every flush of the connection, and before any other
     * write to it.
     */
    public void uncork() {
        ByteBuf frame = cork;
        if (frame == null) {
            return;
        }
        cork = null;
        corkSize = Math.max(MIN_CORK, Math.min(frame.readableBytes(), CORK_CAP));
        if (!batched) {
            ctx.write(frame, ctx.voidPromise()); // whole frames already
            return;
        }
        int length = frame.readableBytes();
        int header = WebSocketFrames.textHeaderLength(length);
        int start = CORK_HEADROOM - header;
        int end = frame.writerIndex();
        frame.setIndex(start, start);
        WebSocketFrames.writeTextHeader(frame, length);
        frame.setIndex(start, end);
        // From this context, past this handler's own write: the bytes were checked when corked.
        ctx.write(frame, ctx.voidPromise());
    }

    /** Writes out the cork, if any, and flushes the connection: the end of a batch. */
    public void flushNow() {
        uncork();
        ctx.flush();
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        uncork();
        ctx.flush();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (cork != null) {
            cork.release();
            cork = null;
        }
    }

    /** Sets what a session does when its connection crosses the hard limit (log, count, say goodbye). */
    public void onHardLimit(Runnable action) {
        this.onHardLimit = action;
    }

    /**
     * Turns reading off until a matching {@link #releaseReads}: the session waits (for the cluster,
     * for work it handed to another thread). Holds count; writability still rules.
     */
    public void holdReads() {
        assert ctx.executor().inEventLoop();
        holds++;
        updateAutoRead();
    }

    /** Ends one {@link #holdReads}. */
    public void releaseReads() {
        assert ctx.executor().inEventLoop();
        holds--;
        updateAutoRead();
    }

    /**
     * Whether the bytes pending for the connection have reached the hard limit; the first time they
     * have, runs the session's action and closes the connection. Call before a write.
     */
    public boolean checkHardLimit() {
        assert ctx.executor().inEventLoop();
        if (overHardLimit) {
            return true;
        }
        ChannelOutboundBuffer out = ctx.channel().unsafe().outboundBuffer();
        if (out == null || pendingBytes() < hardLimitBytes) {
            return false;
        }
        overHardLimit = true;
        if (cork != null) {
            cork.release(); // what was corked is dropped with the rest of the backlog
            cork = null;
        }
        updateAutoRead();
        Runnable action = onHardLimit;
        if (action != null) {
            action.run();
        } else {
            metrics.close(Metrics.Close.SLOW_CONSUMER);
        }
        ctx.close();
        return true;
    }

    /**
     * Writes {@code msg} unless the connection has reached its hard limit (which closes it); then
     * releases it and fails the promise. The limit is checked before the write, so one message
     * larger than the limit still goes to a connection that holds nothing else (a randomchat
     * {@code state}, say): what a connection holds is bounded by the limit plus one message.
     */
    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (cork != null && !overHardLimit) {
            if (checkHardLimit()) {
                ReferenceCountUtil.release(msg);
                promise.tryFailure(new OutboundLimitException(hardLimitBytes));
                return;
            }
            uncork(); // nothing overtakes what was corked before it
        }
        if (overHardLimit || !ctx.channel().isWritable() && checkHardLimit()) {
            ReferenceCountUtil.release(msg);
            promise.tryFailure(new OutboundLimitException(hardLimitBytes));
            return;
        }
        ctx.write(msg, promise);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        updateAutoRead();
        ctx.fireChannelWritabilityChanged();
    }

    private void updateAutoRead() {
        ChannelConfig config = ctx.channel().config();
        boolean writable = ctx.channel().isWritable();
        boolean read = holds == 0 && !overHardLimit && writable;
        if (config.isAutoRead() != read) {
            if (!writable && holds == 0) {
                metrics.readPauses.increment();
            }
            config.setAutoRead(read);
            if (read) {
                // Turning reading on serves what the flow control held, with no read batch to end:
                // flush the replies here.
                flushNow();
            }
        }
    }

    /** Why a write after the hard limit failed; no stack trace (it says where, not a bug). */
    static final class OutboundLimitException extends IOException {
        private static final long serialVersionUID = 1L;

        OutboundLimitException(long hardLimitBytes) {
            super("connection closed: over its outbound hard limit of " + hardLimitBytes + " bytes");
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this;
        }
    }
}
