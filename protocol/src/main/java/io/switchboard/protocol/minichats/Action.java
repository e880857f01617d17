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
    LIST;

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
            default:
                return null;
        }
    }
}
