package io.switchboard.server;

/**
 * Decides, at the WebSocket handshake, whether a client may connect. Called on the connection's
 * event loop, after the path and {@code client_name} are validated: it must not block (look up
 * what it needs ahead of time, or keep it in memory).
 */
@FunctionalInterface
public interface ConnectionAuthorizer {

    /** Lets every connection in. */
    ConnectionAuthorizer ALLOW_ALL = request -> null;

    /**
     * Returns {@code null} to accept the connection, or the refusal the client gets as its HTTP
     * response instead of the upgrade.
     */
    Rejection authorize(HandshakeRequest request);

    /** An HTTP refusal: a status code from 400 to 599 and a reason the client reads. */
    record Rejection(int status, String reason) {
        public Rejection {
            if (status < 400 || status > 599) {
                throw new IllegalArgumentException("status: " + status + " (expected: 400 to 599)");
            }
            java.util.Objects.requireNonNull(reason, "reason");
        }
    }
}
