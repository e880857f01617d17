package io.switchboard.server;

/**
 * Decides whether a client may subscribe to or publish on a channel. Called on the client's event
 * loop for every subscribe and publish request (not for a repeated subscribe); it must not block.
 * A refusal reaches the client as a normal error reply,
 * {@code {"status":"error","info":{"detail":REASON,"code":"forbidden"}}}, and the connection lives on.
 */
@FunctionalInterface
public interface ChannelAuthorizer {

    /** Allows everything. */
    ChannelAuthorizer ALLOW_ALL = (operation, channelName, clientName, handshake) -> null;

    /** What a client asks to do with a channel. */
    enum Operation { SUBSCRIBE, PUBLISH }

    /**
     * Returns {@code null} to allow the operation, or the reason it is refused.
     *
     * @param handshake what the client sent to connect (headers, cookies, query, address)
     */
    String authorize(Operation operation, String channelName, String clientName, HandshakeRequest handshake);

    /**
     * What the node calls: as {@link #authorize(Operation, String, String, HandshakeRequest)}, with
     * the connection's current {@link Identity} (the one its handshake proved, or the last refresh's;
     * {@link Identity#ANONYMOUS} when the connection authorizer proves none). The default ignores it.
     */
    default String authorize(Operation operation, String channelName, String clientName, HandshakeRequest handshake,
                             Identity identity) {
        return authorize(operation, channelName, clientName, handshake);
    }
}
