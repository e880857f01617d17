package io.switchboard.protocol.minichats;

/** The machine-readable {@code code} of a minichats error reply (PROTOCOL.md section 1). */
public enum ErrorCode {
    /** The text frame is not JSON. */
    INVALID_JSON("invalid_json"),
    /** The JSON is not a request: not an object, {@code action} missing or not a string, and so on. */
    INVALID_REQUEST("invalid_request"),
    /** {@code action} names no action of the dialect. */
    UNKNOWN_ACTION("unknown_action"),
    /** A parameter the action needs is absent. */
    MISSING_PARAM("missing_param"),
    /** A parameter has the wrong type or breaks a rule (length, characters). */
    INVALID_PARAM("invalid_param"),
    /** Unsubscribe or publish on a channel the connection is not subscribed to. */
    NOT_SUBSCRIBED("not_subscribed"),
    /** The delivery a publish would produce is larger than the message size limit. */
    MESSAGE_TOO_LARGE("message_too_large"),
    /** The connection sends faster than its rate limit allows. */
    RATE_LIMITED("rate_limited"),
    /** A binary frame: the dialect speaks JSON text frames only. */
    UNSUPPORTED_FRAME("unsupported_frame"),
    /**
     * An embedding application's authorization hook refused the subscribe or publish. An extension
     * of PROTOCOL.md's list, sent only where such a hook is installed.
     */
    FORBIDDEN("forbidden"),
    /**
     * The HTTP API's key is missing or wrong; with token auth (PROTOCOL.md section 1a) a handshake
     * without a valid token (HTTP 401) or a refused {@code refresh}.
     */
    UNAUTHORIZED("unauthorized"),
    /**
     * The node does not offer what the request asks for: history, positions and recovery with
     * {@code HISTORY_SIZE} 0 (PROTOCOL.md section 1a).
     */
    NOT_AVAILABLE("not_available"),
    /** The server failed while handling a valid request. */
    INTERNAL("internal");

    private final String wireName;

    ErrorCode(String wireName) {
        this.wireName = wireName;
    }

    /** The code as it appears on the wire, e.g. {@code invalid_json}. */
    public String wireName() {
        return wireName;
    }
}
