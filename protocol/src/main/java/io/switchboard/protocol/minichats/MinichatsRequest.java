package io.switchboard.protocol.minichats;

import io.netty.buffer.ByteBuf;

/**
 * One decoded minichats request. The {@link #content()} is a slice of the frame it was decoded
 * from, not retained: it is valid only while the caller holds that frame, and is never released
 * through this object.
 */
public final class MinichatsRequest {

    private final Action action;
    private final String channelName;
    private final ByteBuf content;
    private final byte[] requestId;
    private final String token;

    MinichatsRequest(Action action, String channelName, ByteBuf content, byte[] requestId) {
        this(action, channelName, content, requestId, null);
    }

    MinichatsRequest(Action action, String channelName, ByteBuf content, byte[] requestId, String token) {
        this.action = action;
        this.channelName = channelName;
        this.content = content;
        this.requestId = requestId;
        this.token = token;
    }

    public Action action() {
        return action;
    }

    /**
     * The validated channel name; {@code null} for {@link Action#LIST_CHANNELS}, {@link Action#LIST}
     * and {@link Action#REFRESH}.
     */
    public String channelName() {
        return channelName;
    }

    /**
     * The raw JSON of {@code content}, byte for byte as the client sent it, for
     * {@link Action#PUBLISH}; {@code null} otherwise. Borrowed from the frame: do not release.
     */
    public ByteBuf content() {
        return content;
    }

    /** The raw JSON of {@code request_id} (a string or a number), or {@code null} when absent. */
    public byte[] requestId() {
        return requestId;
    }

    /** The new token of a {@link Action#REFRESH} (never empty); {@code null} for every other action. */
    public String token() {
        return token;
    }
}
