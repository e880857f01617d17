package io.switchboard.benchmarks.loadgen;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/**
 * The content every protocol carries, the same bytes in each: {@code SEQ:SENT:} (the publish's
 * sequence number on its channel and its intended send time in {@link System#nanoTime()}, both in
 * hex), padded with {@code x} to the requested size. ASCII only, so it needs no JSON escaping.
 */
final class Content {

    /** The most bytes the sequence number and send time take: two 16-digit numbers and two colons. */
    static final int MAX_HEAD = 34;

    private Content() {
    }

    /** Writes a content of {@code bytes} bytes (at least its head) into {@code out}; releases nothing. */
    static void write(ByteBuf out, long seq, long intendedNanos, int bytes) {
        int start = out.writerIndex();
        out.writeCharSequence(Long.toHexString(seq), StandardCharsets.US_ASCII);
        out.writeByte(':');
        out.writeCharSequence(Long.toHexString(intendedNanos), StandardCharsets.US_ASCII);
        out.writeByte(':');
        for (int i = out.writerIndex() - start; i < bytes; i++) {
            out.writeByte('x');
        }
    }

    /** The length of a content of {@code bytes} bytes, whatever its head: never less than the head. */
    static int length(long seq, long intendedNanos, int bytes) {
        int head = Long.toHexString(seq).length() + Long.toHexString(intendedNanos).length() + 2;
        return Math.max(head, bytes);
    }

    /**
     * A parsed content: reads the head starting at {@code at} in {@code buf} (not released) into
     * {@code into[0]} (sequence) and {@code into[1]} (send time). Returns false if it is not one.
     */
    static boolean parse(ByteBuf buf, int at, long[] into) {
        int end = buf.writerIndex();
        long seq = 0;
        int i = at;
        byte b;
        int digits = 0;
        while (i < end && (b = buf.getByte(i++)) != ':') {
            int d = Character.digit(b, 16);
            if (d < 0 || ++digits > 16) {
                return false;
            }
            seq = (seq << 4) + d;
        }
        long sent = 0;
        int sentDigits = 0;
        boolean colon = false;
        while (i < end) {
            b = buf.getByte(i++);
            if (b == ':') {
                colon = true;
                break;
            }
            int d = Character.digit(b, 16);
            if (d < 0 || ++sentDigits > 16) {
                return false;
            }
            sent = (sent << 4) + d;
        }
        if (!colon || digits == 0 || sentDigits == 0) {
            return false;
        }
        into[0] = seq;
        into[1] = sent;
        return true;
    }
}
