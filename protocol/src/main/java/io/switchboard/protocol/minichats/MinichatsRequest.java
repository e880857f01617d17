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
    private final boolean positions;
    private final boolean joinLeave;
    private final StreamPosition recover;
    private final int limit;
    private final StreamPosition since;

    MinichatsRequest(Action action, String channelName, ByteBuf content, byte[] requestId) {
        this(action, channelName, content, requestId, null);
    }

    MinichatsRequest(Action action, String channelName, ByteBuf content, byte[] requestId, String token) {
        this(action, channelName, content, requestId, token, false, false, null, 0, null);
    }

    MinichatsRequest(Action action, String channelName, ByteBuf content, byte[] requestId, String token,
                     boolean positions, boolean joinLeave, StreamPosition recover, int limit, StreamPosition since) {
        this.action = action;
        this.channelName = channelName;
        this.content = content;
        this.requestId = requestId;
        this.token = token;
        this.positions = positions;
        this.joinLeave = joinLeave;
        this.recover = recover;
        this.limit = limit;
        this.since = since;
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

    /**
     * Whether a {@link Action#SUBSCRIBE} asked for positions ({@code "positions": true}, or a
     * {@code recover}, which implies them; PROTOCOL.md section 1a).
     */
    public boolean positions() {
        return positions || recover != null;
    }

    /** Whether a {@link Action#SUBSCRIBE} asked for join and leave events ({@code "join_leave": true}). */
    public boolean joinLeave() {
        return joinLeave;
    }

    /** The position a {@link Action#SUBSCRIBE} recovers from, or {@code null}. */
    public StreamPosition recover() {
        return recover;
    }

    /** A {@link Action#HISTORY}'s {@code limit} (at least 1), or 0 when absent. */
    public int limit() {
        return limit;
    }

    /** A {@link Action#HISTORY}'s {@code since}, or {@code null}. */
    public StreamPosition since() {
        return since;
    }
}
