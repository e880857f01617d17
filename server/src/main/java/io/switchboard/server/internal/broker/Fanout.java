package io.switchboard.server.internal.broker;

import io.netty.buffer.ByteBuf;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.RejectedExecutionException;

/**
 * The node's one fan-out mechanism (DESIGN.md, the hot path), used by channels ({@link Broker#publish}),
 * chatroom topics and randomchat: a frame, encoded once, goes to each event loop that has targets in
 * one task carrying a retained duplicate of it and that loop's {@link Targets} (never one task per
 * target), or inline when the targets are on the caller's own loop; there each target gets it
 * through {@link Connection#deliver(ByteBuf)} (copied into the target's cork, or a duplicate with a
 * void promise when corking is off), which handles slow consumers and leaves the flush to the end of the batch
 * ({@link LoopTable#flushLater}).
 *
 * <p>A dialect that must know whether each frame reached the socket (randomchat: a message counts as
 * delivered once written) gives its connection a {@link Receiver}, which the fan-out calls in place
 * of the plain write, with the fan-out's tag; the receiver makes its own promise there and writes
 * through {@link Connection#deliver(ByteBuf, io.netty.channel.ChannelPromise)}. The mechanism itself
 * carries no promise, so connections without a receiver pay nothing for it.
 *
 * <p>A frame comes with its permessage-deflate variant, made once per message ({@link FrameVariants},
 * issue 19) when some target negotiated the extension: such a target gets that one, the others the
 * plain frame; both travel in the same task.
 *
 * <p>The task is this class; it is not part of the API.
 */
public final class Fanout implements Runnable {

    private static final Logger logger = LoggerFactory.getLogger(Fanout.class);

    /**
     * How a connection takes fanned-out frames when the plain write will not do; see
     * {@link Connection#receiver}.
     */
    @FunctionalInterface
    public interface Receiver {
        /**
         * Takes {@code frame} for the connection, on its event loop; {@code tag} is the fan-out's (may
         * be {@code null}). Returns whether the frame was written (it counts as a delivery). Does not
         * take ownership of {@code frame}: a receiver that keeps it for later retains it.
         */
        boolean receive(ByteBuf frame, Object tag);
    }

    private final Targets targets;
    private final ByteBuf frame;
    private final ByteBuf deflated;
    private final ByteBuf batched;
    private final Connection skip;
    private final Object tag;
    private final long offset;
    private final int generation;

    /** Takes ownership of {@code frame}, {@code deflated} and {@code batched} (both may be {@code null}). */
    private Fanout(Targets targets, ByteBuf frame, ByteBuf deflated, ByteBuf batched, Connection skip, Object tag,
                   long offset, int generation) {
        this.targets = targets;
        this.frame = frame;
        this.deflated = deflated;
        this.batched = batched;
        this.skip = skip;
        this.tag = tag;
        this.offset = offset;
        this.generation = generation;
    }

    /**
     * Sends {@code frames.frame()}, a complete WebSocket frame (or line text) whose bytes serve every
     * target, to each of {@code targets} but {@code skip} (may be {@code null}), handing {@code tag}
     * (may be {@code null}) to those with a {@link Receiver}; the targets that negotiated
     * permessage-deflate get its compressed variant instead, made once for all the sends of
     * {@code frames} (issue 19). When the targets live on {@code origin}, which must then be the
     * caller's loop, they get it inline, before this returns; otherwise (also with {@code origin}
     * {@code null}) in one task queued on their loop, behind whatever that loop already has to run, so
     * the fan-outs one thread sends to one loop arrive in the order it sent them. Returns
     * {@code false} when that loop is shutting down and refused the task: then no target got the
     * frame. Does not take ownership of {@code frames}.
     *
     * <p>{@code targets} must be a snapshot ({@link Targets#of}); a channel group's are the broker's,
     * which sends them with {@link #send(LoopTable, Targets, ByteBuf, ByteBuf, ByteBuf, Connection, Object, long, int)}.
     */
    public static boolean send(LoopTable origin, Targets targets, FrameVariants frames, Connection skip, Object tag) {
        // No batched payload: only minichats connections are batched, and they get channel publishes
        // (Broker.send); should one be among these targets, it makes its own (deliver).
        return send(origin, targets, frames.frame(), frames.deflatedFor(targets), null, skip, tag, -1, 0);
    }

    /**
     * {@link #send(LoopTable, Targets, FrameVariants, Connection, Object)} with the variants already
     * chosen: {@code deflated} (or {@code null}: none) for the targets that negotiated the extension,
     * {@code batched} (the payload without a raw newline, {@link FrameVariants#batched}; or
     * {@code null}: each batched target makes its own) for the batched targets, {@code frame} for the
     * others; a channel publish's {@code offset} in its stream (-1: none) and the stream's
     * {@code generation}, by which targets that joined at a later position skip it
     * ({@link Targets#skips}). Does not take ownership of any of them.
     */
    static boolean send(LoopTable origin, Targets targets, ByteBuf frame, ByteBuf deflated, ByteBuf batched,
                        Connection skip, Object tag, long offset, int generation) {
        LoopTable loop = targets.loop;
        if (loop == origin) {
            deliver(targets, frame, deflated, batched, skip, tag, offset, generation);
            return true;
        }
        ByteBuf duplicate = frame.retainedDuplicate();
        ByteBuf deflatedDuplicate = deflated == null ? null : deflated.retainedDuplicate();
        ByteBuf batchedDuplicate = batched == null ? null : batched.retainedDuplicate();
        try {
            loop.executor.execute(new Fanout(targets, duplicate, deflatedDuplicate, batchedDuplicate, skip, tag, offset, generation));
            return true;
        } catch (RejectedExecutionException e) {
            duplicate.release();
            if (deflatedDuplicate != null) {
                deflatedDuplicate.release();
            }
            if (batchedDuplicate != null) {
                batchedDuplicate.release();
            }
            logger.debug("Dropped a delivery to {}: its event loop is shutting down", loop.executor);
            return false;
        }
    }

    @Override
    public void run() {
        try {
            deliver(targets, frame, deflated, batched, skip, tag, offset, generation);
        } finally {
            frame.release();
            if (deflated != null) {
                deflated.release();
            }
            if (batched != null) {
                batched.release();
            }
        }
    }

    /**
     * Writes {@code frame} to each of {@code targets} but {@code skip}, now, on their loop, or
     * {@code deflated} (when not {@code null}) to those that negotiated permessage-deflate; each
     * connection is flushed once at the end of the batch. A batched connection (minichats
     * {@code ?batch=1}) gets {@code batched}, the payload without a raw newline, corked; when it is
     * {@code null} (no batched member was seen when the message was sent) the first one makes it here,
     * once for the loop. Does not take ownership of any of the buffers.
     */
    static void deliver(Targets targets, ByteBuf frame, ByteBuf deflated, ByteBuf batched, Connection skip, Object tag,
                        long offset, int generation) {
        LoopTable loop = targets.loop;
        assert loop.executor.inEventLoop();
        Connection[] c = targets.connections;
        long[] floors = targets.floors;
        int written = 0;
        int compressed = 0;
        ByteBuf ownBatched = null;
        try {
            for (int i = 0, n = targets.size; i < n; i++) {
                Connection target = c[i];
                if (target == skip || floors != null && targets.skips(i, offset, generation)) {
                    continue;
                }
                if (target.batched && target.receiver == null) {
                    if (batched == null) {
                        batched = ownBatched = FrameVariants.batchPayload(frame);
                    }
                    if (target.deliverBatched(batched)) {
                        written++;
                    }
                    continue;
                }
                ByteBuf f = deflated != null && target.deflate ? deflated : frame;
                Receiver r = target.receiver;
                if (r == null ? target.deliver(f) : r.receive(f, tag)) {
                    written++;
                    if (f == deflated) {
                        compressed++;
                    }
                }
            }
        } finally {
            if (ownBatched != null) {
                ownBatched.release();
            }
        }
        loop.metrics.deliveries.add(written); // once per batch, not per delivery
        if (compressed != 0) {
            loop.metrics.compressedDeliveries.add(compressed);
            loop.metrics.compressionSavedBytes.add((long) compressed * (frame.readableBytes() - deflated.readableBytes()));
        }
    }
}
