package io.switchboard.server.internal.cluster;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.switchboard.server.internal.broker.ChannelEvent;
import io.switchboard.server.internal.broker.Dialect;
import io.switchboard.server.internal.broker.Dialects;

import java.nio.charset.StandardCharsets;

/**
 * A {@link ChannelEvent} as it travels between nodes through Redis: neutral to dialects, so each
 * receiving node has its own subscribers' dialects render it. Binary, big-endian:
 * <pre>
 * version (1 byte, 2) | kind (1) | author's dialect (1) | origin node (8) | sent at, epoch ms (8)
 *   | sender id length (2) | sender id (UTF-8) | sender name length (2) | sender name (UTF-8)
 *   | content (raw JSON; empty for presence)
 * </pre>
 * The origin lets a node ignore its own echo; the channel is the Redis channel's name. A sender id
 * equal to the name is sent empty.
 */
public final class ClusterEnvelope {

    static final byte VERSION = 2;
    private static final int FIXED_BYTES = 1 + 1 + 1 + 8 + 8 + 2 + 2;
    private static final int ORIGIN_AT = 3;

    final long origin;
    final ChannelEvent.Kind kind;
    final Dialect dialect;
    final long sentAt;
    final String senderId;
    final String sender;
    final byte[] bytes;
    final int contentOffset;

    private ClusterEnvelope(long origin, ChannelEvent.Kind kind, Dialect dialect, long sentAt, String senderId,
                            String sender, byte[] bytes, int contentOffset) {
        this.origin = origin;
        this.kind = kind;
        this.dialect = dialect;
        this.sentAt = sentAt;
        this.senderId = senderId;
        this.sender = sender;
        this.bytes = bytes;
        this.contentOffset = contentOffset;
    }

    int contentLength() {
        return bytes.length - contentOffset;
    }

    /** The event this envelope carries; its content is a view of {@link #bytes}. */
    ChannelEvent event() {
        return ChannelEvent.received(kind, dialect, senderId, sender, sentAt,
                Unpooled.wrappedBuffer(bytes, contentOffset, contentLength()));
    }

    /** Encodes an event. Does not take ownership of its content. */
    static byte[] encode(long origin, ChannelEvent event) {
        byte[] name = event.senderName.getBytes(StandardCharsets.UTF_8);
        byte[] id = event.senderId.equals(event.senderName) ? new byte[0]
                : event.senderId.getBytes(StandardCharsets.UTF_8);
        ByteBuf content = event.content;
        int contentLength = content.readableBytes();
        byte[] out = new byte[FIXED_BYTES + id.length + name.length + contentLength];
        out[0] = VERSION;
        out[1] = (byte) event.kind.code;
        out[2] = (byte) event.dialect.code();
        putLong(out, ORIGIN_AT, origin);
        putLong(out, ORIGIN_AT + 8, event.sentAt);
        int at = ORIGIN_AT + 16;
        at = putString(out, at, id);
        at = putString(out, at, name);
        content.getBytes(content.readerIndex(), out, at, contentLength);
        return out;
    }

    /** Returns the origin of an envelope, to skip this node's echo before decoding the rest. */
    static long origin(byte[] bytes) {
        checkHeader(bytes);
        return getLong(bytes, ORIGIN_AT);
    }

    /**
     * Decodes an envelope; its dialect is looked up by code in {@code dialects}.
     *
     * @throws IllegalArgumentException when {@code bytes} is not an envelope of this version, or names a
     *                                  dialect this node does not know
     */
    public static ClusterEnvelope decode(byte[] bytes, Dialects dialects) {
        checkHeader(bytes);
        ChannelEvent.Kind kind = ChannelEvent.Kind.of(bytes[1]);
        Dialect dialect = dialects.byCode(bytes[2]);
        int at = ORIGIN_AT + 16;
        int idLength = getShort(bytes, at);
        at += 2;
        String id = string(bytes, at, idLength);
        at += idLength;
        if (at + 2 > bytes.length) {
            throw new IllegalArgumentException("envelope too short for its sender");
        }
        int nameLength = getShort(bytes, at);
        at += 2;
        String name = string(bytes, at, nameLength);
        at += nameLength;
        if (at > bytes.length || kind == ChannelEvent.Kind.MESSAGE && at == bytes.length) {
            throw new IllegalArgumentException("envelope too short for its sender and content");
        }
        return new ClusterEnvelope(getLong(bytes, ORIGIN_AT), kind, dialect, getLong(bytes, ORIGIN_AT + 8),
                id.isEmpty() ? name : id, name, bytes, at);
    }

    private static void checkHeader(byte[] bytes) {
        if (bytes.length < FIXED_BYTES) {
            throw new IllegalArgumentException("envelope of " + bytes.length + " bytes, shorter than its header");
        }
        if (bytes[0] != VERSION) {
            throw new IllegalArgumentException("envelope version " + bytes[0] + " (expected: " + VERSION + ")");
        }
    }

    private static String string(byte[] bytes, int at, int length) {
        if (at + length > bytes.length) {
            throw new IllegalArgumentException("envelope too short for its sender");
        }
        return new String(bytes, at, length, StandardCharsets.UTF_8);
    }

    private static int putString(byte[] out, int at, byte[] s) {
        out[at] = (byte) (s.length >>> 8);
        out[at + 1] = (byte) s.length;
        System.arraycopy(s, 0, out, at + 2, s.length);
        return at + 2 + s.length;
    }

    private static int getShort(byte[] b, int at) {
        return ((b[at] & 0xff) << 8) | (b[at + 1] & 0xff);
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
