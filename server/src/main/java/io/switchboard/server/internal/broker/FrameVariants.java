package io.switchboard.server.internal.broker;

import io.netty.buffer.ByteBuf;
import io.switchboard.protocol.JsonLines;
import io.switchboard.server.internal.compression.FrameCompressor;

/**
 * One message as a fan-out sends it: its plain frame and, made on first need and then reused, its
 * permessage-deflate variant (issue 19), so that a message sent to several event loops is compressed
 * once, not once per loop, and only when some target negotiated the extension. The broker makes one
 * per dialect of a channel publish; a dialect that fans out frames of its own (chatroom topics,
 * randomchat chats) makes one per message and sends it with {@link Fanout#send(LoopTable, Targets,
 * FrameVariants, Connection, Object)}.
 *
 * <p>Not thread-safe: used by the thread that sends the message. Does not own the plain frame;
 * {@link #release()} releases the compressed one it made.
 */
public final class FrameVariants {

    private final ByteBuf frame;
    private ByteBuf deflated;
    private boolean tried;
    private ByteBuf batched;

    /** {@code frame}: a complete WebSocket frame, not released by this. */
    public FrameVariants(ByteBuf frame) {
        this.frame = frame;
    }

    /** The plain frame. */
    public ByteBuf frame() {
        return frame;
    }

    /**
     * The compressed variant, made now with {@code compressor} (the node's) if not made yet;
     * {@code null} when the frame is not worth compressing. Does not pass ownership.
     */
    ByteBuf deflated(FrameCompressor compressor) {
        if (!tried) {
            tried = true;
            deflated = compressor.compressFrame(frame.alloc(), frame);
        }
        return deflated;
    }

    /**
     * {@link #deflated} when at least one of {@code targets} negotiated permessage-deflate, else
     * {@code null}. A snapshot's connections were subscribed through their loop's task queue before
     * it was made, so their flag (set at their handshake) is visible here.
     */
    ByteBuf deflatedFor(Targets targets) {
        Connection[] c = targets.connections;
        for (int i = 0, n = targets.size; i < n; i++) {
            if (c[i].deflate) {
                return deflated(targets.loop.compressor);
            }
        }
        return null;
    }

    /**
     * The payload batched connections get (PROTOCOL.md section 1a), made now if not made yet:
     * {@link #batchPayload} of the frame. Does not pass ownership.
     */
    ByteBuf batched() {
        if (batched == null) {
            batched = batchPayload(frame);
        }
        return batched;
    }

    /**
     * The payload of {@code frame} (a complete, unmasked text frame) as a batched frame carries it: a
     * retained slice past the header when it holds no raw line break (no copy: the common case),
     * else a compacted copy ({@link JsonLines#compact}). The caller releases the result; does not
     * take ownership of {@code frame}.
     */
    static ByteBuf batchPayload(ByteBuf frame) {
        int start = frame.readerIndex();
        int len7 = frame.getUnsignedByte(start + 1) & 0x7F;
        int header = len7 < 126 ? 2 : len7 == 126 ? 4 : 10;
        ByteBuf payload = frame.retainedSlice(start + header, frame.readableBytes() - header);
        if (!JsonLines.hasLineBreak(payload)) {
            return payload;
        }
        try {
            return JsonLines.compact(frame.alloc(), payload);
        } finally {
            payload.release();
        }
    }

    /** Releases the variants made from the frame, if any; the plain frame is the caller's. */
    public void release() {
        if (deflated != null) {
            deflated.release();
            deflated = null;
        }
        if (batched != null) {
            batched.release();
            batched = null;
        }
    }
}
