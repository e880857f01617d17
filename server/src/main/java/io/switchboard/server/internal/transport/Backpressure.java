package io.switchboard.server.internal.transport;

import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.util.ReferenceCountUtil;
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
        if (out == null || out.totalPendingWriteBytes() < hardLimitBytes) {
            return false;
        }
        overHardLimit = true;
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
                ctx.flush();
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
