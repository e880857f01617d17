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

    MinichatsRequest(Action action, String channelName, ByteBuf content, byte[] requestId) {
        this.action = action;
        this.channelName = channelName;
        this.content = content;
        this.requestId = requestId;
    }

    public Action action() {
        return action;
    }

    /** The validated channel name; {@code null} for {@link Action#LIST_CHANNELS} and {@link Action#LIST}. */
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
}
