package io.switchboard.protocol.line;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;

/**
 * The texts the line dialect sends, word for word as PROTOCOL.md section 3 has them. Every line
 * ends with {@code \n}. Methods returning a buffer return a new one that the caller must release
 * (or pass on to a write, which releases it). Stateless and thread-safe.
 */
public final class LineMessages {

    /** The longest line a client may send, in bytes, line end excluded. */
    public static final int MAX_LINE_BYTES = 4096;
    /** The line that ends the chat, when the server allows it. */
    public static final String SHUTDOWN_COMMAND = "SHUTDOWN";

    private LineMessages() {
    }

    /** The three lines a client gets when it joins; {@code clients} counts it too. */
    public static String welcome(String id, int clients) {
        return "Congratulations! You've successfully joined the chat server.\n"
                + "Your id is: '" + id + "'.\n"
                + "There are " + clients + " client(s) connected to this server.\n";
    }

    /** To the others when a client joins. */
    public static String joined(String id) {
        return "A new client has connected to the chat: id = " + id + "\n";
    }

    /** To the others when a client leaves. */
    public static String left(String id) {
        return id + " has left the chat\n";
    }

    /** To everyone when the chat is shut down. */
    public static String shutdown() {
        return "The chat has been shut down\n";
    }

    /** To a client that sent {@code SHUTDOWN} to a server that does not allow it. */
    public static String shutdownRefused() {
        return "SHUTDOWN is not allowed on this server (LINE_ALLOW_SHUTDOWN=false)\n";
    }

    /** To a client refused because the chat is full. */
    public static String full(int maxClients) {
        return "The chat server is full (" + maxClients + " clients): try again later\n";
    }

    /** To a client whose line was longer than {@link #MAX_LINE_BYTES}; the line is dropped. */
    public static String tooLong() {
        return "Your line was longer than " + MAX_LINE_BYTES + " bytes and was not sent\n";
    }

    /**
     * Encodes {@code name: text} as one line. Line breaks and other control characters of
     * {@code text} (a message from another dialect may hold them) become spaces, so one message
     * is one line and cannot pass for lines of others.
     */
    public static ByteBuf message(ByteBufAllocator alloc, String name, String text) {
        ByteBuf out = alloc.directBuffer(ByteBufUtil.utf8MaxBytes(name) + ByteBufUtil.utf8MaxBytes(text) + 3);
        ByteBufUtil.writeUtf8(out, name);
        out.writeByte(':').writeByte(' ');
        ByteBufUtil.writeUtf8(out, sanitize(text));
        return out.writeByte('\n');
    }

    /** Encodes {@code text}, one or more complete lines, for a write. */
    public static ByteBuf encode(ByteBufAllocator alloc, String text) {
        return ByteBufUtil.writeUtf8(alloc, text);
    }

    private static CharSequence sanitize(String text) {
        int i = 0;
        while (i < text.length() && !isBreaking(text.charAt(i))) {
            i++;
        }
        if (i == text.length()) {
            return text;
        }
        StringBuilder b = new StringBuilder(text);
        for (; i < b.length(); i++) {
            if (isBreaking(b.charAt(i))) {
                b.setCharAt(i, ' ');
            }
        }
        return b;
    }

    private static boolean isBreaking(char c) {
        return c != '\t' && Character.isISOControl(c) || c == '\u2028' || c == '\u2029';
    }
}
