package io.switchboard.server.internal.dialect.randomchat;

/** What the randomchat tests outside this package may ask a node's hub. */
public final class RandomchatProbe {

    private RandomchatProbe() {
    }

    /**
     * How many sessions of {@code phone} {@code hub} holds whose logout the store has not recorded:
     * it falls as the closes of the user's connections on that node are handled.
     */
    public static int sessions(RandomchatHub hub, String phone) {
        return hub.sessionCount(phone);
    }
}
