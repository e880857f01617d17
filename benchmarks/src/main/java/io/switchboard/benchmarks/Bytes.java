package io.switchboard.benchmarks;

import io.netty.buffer.ByteBuf;

/** Finding a short ASCII key in a message, fast: loadgen's protocols and the bare floor's requests. */
public final class Bytes {

    private Bytes() {
    }

    /**
     * The first index of {@code needle} in {@code haystack}'s readable bytes, or -1. Finds each
     * candidate by the needle's first letter or digit (a JSON key's quote is on every key, its
     * first letter on few) with {@link ByteBuf#indexOf(int, int, byte)}, a word at a time, and
     * compares the whole needle there. ByteBufUtil.indexOf on a wrapped needle cost 80% of
     * loadgen's CPU in a fan-out (reference-count checks on every byte of both buffers), and
     * stopping at every quote half of what was left: docs/benchmarks.md.
     */
    public static int indexOf(ByteBuf haystack, byte[] needle) {
        int anchor = anchor(needle);
        int first = haystack.readerIndex() + anchor;
        int last = haystack.writerIndex() - needle.length + anchor;
        for (int from = first; from <= last; ) {
            int at = haystack.indexOf(from, last + 1, needle[anchor]);
            if (at < 0) {
                return -1;
            }
            if (matches(haystack, at - anchor, needle)) {
                return at - anchor;
            }
            from = at + 1;
        }
        return -1;
    }

    /** The index of {@code needle}'s first letter or digit; 0 if it has none. */
    private static int anchor(byte[] needle) {
        for (int i = 0; i < needle.length; i++) {
            if (Character.isLetterOrDigit(needle[i])) {
                return i;
            }
        }
        return 0;
    }

    /** Whether {@code bytes} are at index {@code at} of {@code buf} (which holds at least that many from there). */
    public static boolean matches(ByteBuf buf, int at, byte[] bytes) {
        for (int i = 0; i < bytes.length; i++) {
            if (buf.getByte(at + i) != bytes[i]) {
                return false;
            }
        }
        return true;
    }
}
