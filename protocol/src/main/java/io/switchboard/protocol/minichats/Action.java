package io.switchboard.protocol.minichats;

/** The actions of the minichats dialect. */
public enum Action {
    SUBSCRIBE,
    UNSUBSCRIBE,
    PUBLISH,
    /** {@code list_channels}: every channel with its subscriber count. */
    LIST_CHANNELS,
    /**
     * {@code list}: the names of the channels this connection is subscribed to (the Mini Chats
     * project's own client reads them as strings; issue 20).
     */
    LIST,
    /**
     * {@code refresh}: a new token for the same {@code sub} extends a token-authenticated connection
     * (PROTOCOL.md section 1a, issue 19).
     */
    REFRESH;

    /** Returns the action named {@code name} on the wire, or {@code null} if there is none. */
    static Action forWireName(String name) {
        switch (name) {
            case "subscribe":
                return SUBSCRIBE;
            case "unsubscribe":
                return UNSUBSCRIBE;
            case "publish":
                return PUBLISH;
            case "list_channels":
                return LIST_CHANNELS;
            case "list":
                return LIST;
            case "refresh":
                return REFRESH;
            default:
                return null;
        }
    }
}
