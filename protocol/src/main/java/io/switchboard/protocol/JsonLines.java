package io.switchboard.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * JSON messages as lines: batched frames (PROTOCOL.md section 1a) carry several messages separated
 * by {@code \n}, so no message may hold a raw newline. A server message is made of our own JSON
 * (no raw newline) and a publisher's {@code content}, relayed byte for byte, which may: a
 * pretty-printed object has newlines between its tokens. {@link #compact} removes them.
 */
public final class JsonLines {

    private JsonLines() {
    }

    /** Whether {@code json}'s readable bytes hold a raw {@code \n} or {@code \r}. Does not take ownership. */
    public static boolean hasLineBreak(ByteBuf json) {
        int from = json.readerIndex();
        int to = json.writerIndex();
        return json.indexOf(from, to, (byte) '\n') >= 0 || json.indexOf(from, to, (byte) '\r') >= 0;
    }

    /**
     * Returns a new buffer holding {@code json}'s readable bytes, one well-formed JSON text, without
     * a raw line break: whitespace between tokens ({@code ' '}, {@code \t}, {@code \r}, {@code \n})
     * is removed, so the value is the same; inside a string, a raw {@code \n} or {@code \r} (which
     * a strict parser would refuse, but which must not split a line either) is written as its escape.
     * The caller releases the result; does not take ownership of {@code json}.
     */
    public static ByteBuf compact(ByteBufAllocator alloc, ByteBuf json) {
        int from = json.readerIndex();
        int to = json.writerIndex();
        ByteBuf out = alloc.directBuffer(to - from);
        boolean inString = false;
        boolean escaped = false;
        for (int i = from; i < to; i++) {
            byte b = json.getByte(i);
            if (inString) {
                if (escaped) {
                    escaped = false;
                } else if (b == '\\') {
                    escaped = true;
                } else if (b == '"') {
                    inString = false;
                } else if (b == '\n') {
                    out.writeByte('\\').writeByte('n');
                    continue;
                } else if (b == '\r') {
                    out.writeByte('\\').writeByte('r');
                    continue;
                }
                out.writeByte(b);
            } else if (b == '"') {
                inString = true;
                out.writeByte(b);
            } else if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
                out.writeByte(b);
            }
        }
        return out;
    }
}
