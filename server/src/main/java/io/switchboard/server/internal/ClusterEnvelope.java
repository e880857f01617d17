package io.switchboard.server.internal;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/**
 * A publish as it travels between nodes through Redis: neutral to dialects, so each receiving
 * node encodes the delivery its own subscribers need. Binary, big-endian:
 * <pre>
 * version (1 byte, 1) | origin node (8) | sent at, epoch ms (8) | sender length (2) | sender (UTF-8) | content (raw JSON)
 * </pre>
 * The origin lets a node ignore its own echo; the channel is the Redis channel's name.
 */
final class ClusterEnvelope {

    static final byte VERSION = 1;
    private static final int HEADER_BYTES = 1 + 8 + 8 + 2;

    final long origin;
    final long sentAt;
    final String sender;
    final byte[] bytes;
    final int contentOffset;

    private ClusterEnvelope(long origin, long sentAt, String sender, byte[] bytes, int contentOffset) {
        this.origin = origin;
        this.sentAt = sentAt;
        this.sender = sender;
        this.bytes = bytes;
        this.contentOffset = contentOffset;
    }

    int contentLength() {
        return bytes.length - contentOffset;
    }

    /** Encodes a publish. Does not take ownership of {@code content}. */
    static byte[] encode(long origin, long sentAt, byte[] senderUtf8, ByteBuf content) {
        int contentLength = content.readableBytes();
        byte[] out = new byte[HEADER_BYTES + senderUtf8.length + contentLength];
        out[0] = VERSION;
        putLong(out, 1, origin);
        putLong(out, 9, sentAt);
        out[17] = (byte) (senderUtf8.length >>> 8);
        out[18] = (byte) senderUtf8.length;
        System.arraycopy(senderUtf8, 0, out, HEADER_BYTES, senderUtf8.length);
        content.getBytes(content.readerIndex(), out, HEADER_BYTES + senderUtf8.length, contentLength);
        return out;
    }

    /** Returns the origin of an envelope, to skip this node's echo before decoding the rest. */
    static long origin(byte[] bytes) {
        checkHeader(bytes);
        return getLong(bytes, 1);
    }

    /** @throws IllegalArgumentException when {@code bytes} is not an envelope of this version */
    static ClusterEnvelope decode(byte[] bytes) {
        checkHeader(bytes);
        int senderLength = ((bytes[17] & 0xff) << 8) | (bytes[18] & 0xff);
        int contentOffset = HEADER_BYTES + senderLength;
        if (contentOffset >= bytes.length) {
            throw new IllegalArgumentException("envelope too short for its sender and content");
        }
        String sender = new String(bytes, HEADER_BYTES, senderLength, StandardCharsets.UTF_8);
        return new ClusterEnvelope(getLong(bytes, 1), getLong(bytes, 9), sender, bytes, contentOffset);
    }

    private static void checkHeader(byte[] bytes) {
        if (bytes.length < HEADER_BYTES) {
            throw new IllegalArgumentException("envelope of " + bytes.length + " bytes, shorter than its header");
        }
        if (bytes[0] != VERSION) {
            throw new IllegalArgumentException("envelope version " + bytes[0] + " (expected: " + VERSION + ")");
        }
    }

    private static void putLong(byte[] b, int at, long v) {
        for (int i = 7; i >= 0; i--) {
            b[at + i] = (byte) v;
            v >>>= 8;
        }
    }

    private static long getLong(byte[] b, int at) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[at + i] & 0xff);
        }
        return v;
    }
}
