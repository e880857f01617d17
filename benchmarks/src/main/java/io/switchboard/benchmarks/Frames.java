package io.switchboard.benchmarks;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;

/** Client-side WebSocket bytes (RFC 6455): the upgrade request and masked frames. */
public final class Frames {

    /** FIN and the opcode of a final text frame. */
    public static final int TEXT = 0x81;
    /** FIN and the opcode of a pong. */
    public static final int PONG = 0x8A;

    private Frames() {
    }

    /** An upgrade request for {@code target} (path and query), as a browser would send it. */
    public static byte[] upgradeRequest(String host, int port, String target) {
        return upgradeRequest(host, port, target, null);
    }

    /**
     * {@link #upgradeRequest(String, int, String)} with a {@code Sec-WebSocket-Extensions} offer
     * ({@code null}: none), e.g. {@code permessage-deflate}.
     */
    public static byte[] upgradeRequest(String host, int port, String target, String extensions) {
        return ("GET " + target + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + (extensions == null ? "" : "Sec-WebSocket-Extensions: " + extensions + "\r\n")
                + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * Writes a frame carrying {@code payload}, masked with {@code mask} as a client must
     * (section 5.3), into {@code out} and returns {@code out}. Does not release {@code payload}.
     */
    public static ByteBuf masked(ByteBuf out, int firstByte, ByteBuf payload, int mask) {
        int length = payload.readableBytes();
        out.writeByte(firstByte);
        if (length <= 125) {
            out.writeByte(0x80 | length);
        } else if (length <= 0xFFFF) {
            out.writeByte(0x80 | 126).writeShort(length);
        } else {
            out.writeByte(0x80 | 127).writeLong(length);
        }
        out.writeInt(mask);
        int from = payload.readerIndex();
        for (int i = 0; i < length; i++) {
            out.writeByte(payload.getByte(from + i) ^ (mask >>> (24 - 8 * (i & 3))));
        }
        return out;
    }

    /** A final text frame of {@code text}, masked with a fixed key so it can be built once and sent often. */
    public static byte[] maskedText(String text) {
        ByteBuf payload = Unpooled.wrappedBuffer(text.getBytes(StandardCharsets.UTF_8));
        ByteBuf frame = masked(Unpooled.buffer(payload.readableBytes() + 14), TEXT, payload, 0x12345678);
        byte[] bytes = new byte[frame.readableBytes()];
        frame.readBytes(bytes);
        return bytes;
    }

    /** The length of a server (unmasked) frame carrying {@code payloadLength} bytes. */
    public static int serverFrameLength(int payloadLength) {
        return payloadLength + (payloadLength <= 125 ? 2 : payloadLength <= 0xFFFF ? 4 : 10);
    }
}
