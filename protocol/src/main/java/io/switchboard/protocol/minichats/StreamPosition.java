package io.switchboard.protocol.minichats;

/**
 * A position in a channel's stream (PROTOCOL.md section 1a): the {@code offset} of a publish (0:
 * before the first) within the stream's {@code epoch}. What a client sends in {@code recover} and
 * {@code since}; the decoder has checked that the offset is not negative and the epoch is 1 to
 * {@link #MAX_EPOCH_LENGTH} characters.
 */
public record StreamPosition(long offset, String epoch) {

    /** The longest epoch a request may carry; the node's own are far shorter. */
    public static final int MAX_EPOCH_LENGTH = 64;
}
