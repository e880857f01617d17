package io.switchboard.server.internal.compression;

import io.netty.handler.codec.TooLongFrameException;

/**
 * A compressed message that inflates to more than {@code MAX_MESSAGE_BYTES}: a decompression bomb,
 * or just too large a message. The session closes the connection with 1009, as for any message over
 * the limit, and counts it as {@code decompression_bomb}. No stack trace: it says what the peer sent,
 * not where a bug is.
 */
public final class InflatedTooLargeException extends TooLongFrameException {

    private static final long serialVersionUID = 1L;

    InflatedTooLargeException(int maxMessageBytes) {
        super("Message inflates to more than " + maxMessageBytes + " bytes");
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}
