package io.switchboard.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Writes the header of an unmasked, final WebSocket text frame (RFC 6455 section 5.2), so that a
 * server message can be encoded once into a buffer holding the whole frame and the same bytes
 * written to any number of connections. Server-to-client frames are never masked (section 5.1),
 * which is what makes the bytes shareable.
 */
public final class WebSocketFrames {

    private static final int FIN_TEXT = 0x81;

    private WebSocketFrames() {
    }

    /** Returns the number of header bytes of a text frame carrying {@code payloadLength} bytes. */
    public static int textHeaderLength(int payloadLength) {
        if (payloadLength < 0) {
            throw new IllegalArgumentException("payloadLength: " + payloadLength + " (expected: >= 0)");
        }
        if (payloadLength <= 125) {
            return 2;
        }
        return payloadLength <= 0xFFFF ? 4 : 10;
    }

    /**
     * Writes the header of a final, unmasked text frame whose payload of {@code payloadLength}
     * bytes the caller writes next. Does not take ownership of {@code out}.
     */
    public static void writeTextHeader(ByteBuf out, int payloadLength) {
        if (payloadLength < 0) {
            throw new IllegalArgumentException("payloadLength: " + payloadLength + " (expected: >= 0)");
        }
        out.writeByte(FIN_TEXT);
        if (payloadLength <= 125) {
            out.writeByte(payloadLength);
        } else if (payloadLength <= 0xFFFF) {
            out.writeByte(126);
            out.writeShort(payloadLength);
        } else {
            out.writeByte(127);
            out.writeLong(payloadLength);
        }
    }
}
