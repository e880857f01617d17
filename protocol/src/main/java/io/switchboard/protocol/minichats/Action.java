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
    REFRESH,
    /** {@code history}: a channel's kept publications (PROTOCOL.md section 1a, issue 18). */
    HISTORY,
    /** {@code presence}: the members of a channel on every node (PROTOCOL.md section 1a, issue 18). */
    PRESENCE;

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
            case "history":
                return HISTORY;
            case "presence":
                return PRESENCE;
            default:
                return null;
        }
    }
}
