package io.switchboard.server.internal.compression;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.FastThreadLocal;
import io.switchboard.server.internal.metrics.Metrics;

import java.nio.ByteBuffer;
import java.util.zip.Deflater;

/**
 * Compresses a message as permessage-deflate with no context takeover (RFC 7692 section 7.1.1.1):
 * a fresh deflate stream per message, so the compressed bytes do not depend on what the connection
 * received before and one compressed frame serves every subscriber that negotiated the extension.
 * This is what keeps the fan-out's encode-once: the broker compresses a delivery once per publish
 * and dialect ({@code Broker#publish}); Netty's {@code PerMessageDeflateEncoder}, which sets up a
 * compressor per message and per connection (netty #15750), is not used.
 *
 * <p>Each thread reuses one {@link Deflater} (reset per message), made on its first use. A message
 * shorter than {@code COMPRESSION_MIN_BYTES}, or one deflate would not make shorter, is not
 * compressed: the extension lets any message go plain (section 6). Thread-safe.
 */
public final class FrameCompressor {

    /** The first header byte's RSV1 bit: "Per-Message Compressed" (RFC 7692 section 6). */
    static final int RSV1 = 0x40;
    /** The longest header of a server frame (RFC 6455 section 5.2: no mask). */
    private static final int MAX_HEADER = 10;
    /** The empty stored block SYNC_FLUSH ends with, which section 7.2.1 removes (and 7.2.2 appends back). */
    private static final int TAIL = 4;

    private final int level;
    private final int minBytes;
    private final Metrics metrics;
    private final FastThreadLocal<Deflater> deflaters = new FastThreadLocal<>() {
        @Override
        protected Deflater initialValue() {
            return new Deflater(level, true); // raw deflate, no zlib wrapper (section 7.2.1)
        }

        @Override
        protected void onRemoval(Deflater deflater) {
            deflater.end();
        }
    };

    /**
     * @param level    {@code COMPRESSION_LEVEL}, 1 to 9
     * @param minBytes {@code COMPRESSION_MIN_BYTES}: shorter payloads are not compressed
     */
    public FrameCompressor(int level, int minBytes, Metrics metrics) {
        this.level = level;
        this.minBytes = minBytes;
        this.metrics = metrics;
    }

    /**
     * Returns {@code frame}, a complete unmasked final text or binary WebSocket frame as a dialect
     * renders it, as a compressed frame (RSV1 set) with the same opcode; or {@code null} when it is
     * not worth compressing (shorter than the minimum, or not shorter once deflated) or is not such a
     * frame. Does not take ownership of {@code frame}; the caller must release the returned buffer.
     */
    public ByteBuf compressFrame(ByteBufAllocator alloc, ByteBuf frame) {
        int start = frame.readerIndex();
        if (frame.readableBytes() < 2) {
            return null;
        }
        int first = frame.getUnsignedByte(start);
        int second = frame.getUnsignedByte(start + 1);
        // Final (0x80), no RSV bit (0x70), a data frame (opcode 1 or 2), unmasked (0x80 of the second byte).
        int opcode = first & 0x0F;
        if ((first & 0xF0) != 0x80 || opcode != 1 && opcode != 2 || (second & 0x80) != 0) {
            return null;
        }
        int len7 = second & 0x7F;
        int headerLength = len7 <= 125 ? 2 : len7 == 126 ? 4 : 10;
        int payloadLength = frame.readableBytes() - headerLength;
        if (payloadLength < minBytes || payloadLength <= 0) {
            return null;
        }
        ByteBuf out = deflate(alloc, frame, start + headerLength, payloadLength, MAX_HEADER);
        if (out == null) {
            return null;
        }
        // The header goes right in front of the compressed payload, in the room left for it.
        int compressed = out.writerIndex() - MAX_HEADER;
        int header = compressed <= 125 ? 2 : compressed <= 0xFFFF ? 4 : 10;
        int at = MAX_HEADER - header;
        out.setByte(at, first | RSV1);
        if (header == 2) {
            out.setByte(at + 1, compressed);
        } else if (header == 4) {
            out.setByte(at + 1, 126);
            out.setShort(at + 2, compressed);
        } else {
            out.setByte(at + 1, 127);
            out.setLong(at + 2, compressed);
        }
        out.readerIndex(at);
        metrics.compressedMessages.increment();
        return out;
    }

    /**
     * Returns the readable bytes of {@code payload} deflated as one permessage-deflate message, or
     * {@code null} when they are shorter than the minimum or would not get shorter. Does not take
     * ownership of {@code payload}; the caller must release the returned buffer.
     */
    public ByteBuf compressPayload(ByteBufAllocator alloc, ByteBuf payload) {
        int length = payload.readableBytes();
        if (length < minBytes || length == 0) {
            return null;
        }
        ByteBuf out = deflate(alloc, payload, payload.readerIndex(), length, 0);
        if (out != null) {
            metrics.compressedMessages.increment();
        }
        return out;
    }

    /**
     * Deflates {@code length} bytes of {@code src} from {@code index} into a new buffer, after
     * {@code headroom} bytes left for a header, without the trailing 00 00 ff ff; {@code null} when the
     * result would not be shorter than the input. The caller must release the returned buffer.
     */
    private ByteBuf deflate(ByteBufAllocator alloc, ByteBuf src, int index, int length, int headroom) {
        Deflater deflater = deflaters.get();
        deflater.reset(); // no context takeover: every message starts a new stream
        deflater.setInput(src.nioBuffer(index, length));
        // Room for as many bytes as the input and the tail: a result that needs more is not worth it.
        int room = length + TAIL;
        ByteBuf out = alloc.buffer(headroom + room, headroom + room);
        boolean release = true;
        try {
            ByteBuffer target = out.nioBuffer(headroom, room);
            deflater.deflate(target, Deflater.SYNC_FLUSH);
            // Deflater's contract: output that fills the room offered may not be complete.
            if (!target.hasRemaining() || !deflater.needsInput()) {
                return null;
            }
            int written = target.position() - TAIL;
            if (written >= length) {
                return null;
            }
            out.writerIndex(headroom + written);
            if (written < room / 2) {
                // Give the room back: the frame may wait in many subscribers' queues (one copy of the
                // compressed bytes, which are the smaller).
                out.capacity(headroom + written);
            }
            release = false;
            return out;
        } finally {
            if (release) {
                out.release();
            }
        }
    }
}
