package io.switchboard.protocol.minichats;

/** The actions of the minichats dialect. */
public enum Action {
    SUBSCRIBE,
    UNSUBSCRIBE,
    PUBLISH,
    /** {@code list_channels}, or its alias {@code list}. */
    LIST_CHANNELS;

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
            case "list":
                return LIST_CHANNELS;
            default:
                return null;
        }
    }
}
