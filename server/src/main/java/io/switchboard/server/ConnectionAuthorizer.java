package io.switchboard.server;

/**
 * Decides, at the WebSocket handshake, whether a client may connect. Called on the connection's
 * event loop once the path and the upgrade are checked, before the dialect's own checks
 * ({@code client_name}, disposable {@code name} and {@code room}, {@code Origin}), so that the
 * {@link Identity} it proves can name the client: it must not block (look up what it needs ahead of
 * time, or keep it in memory). {@link TokenAuth} is a ready one for JWTs.
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

    /**
     * What the node calls at the handshake: the {@link Identity} the request proves, or a refusal.
     * The default asks {@link #authorize} and proves nothing ({@link Identity#ANONYMOUS}); an
     * authorizer that verifies a credential (such as {@link TokenAuth}'s) overrides it to name the
     * client and bound the connection's life. Same threading as {@link #authorize}.
     */
    default Verdict verify(HandshakeRequest request) {
        Rejection rejection = authorize(request);
        return rejection == null ? Verdict.accept(Identity.ANONYMOUS) : Verdict.refuse(rejection);
    }

    /**
     * Checks a new credential a connected client sends to extend its connection (the minichats
     * {@code refresh} action): the identity that replaces {@code current}, or a refusal whose reason
     * the client reads as an {@code unauthorized} error reply (its status is not used) while the
     * connection keeps {@code current}. Called on the connection's event loop; must not block. The
     * default refuses: this authorizer takes no refresh.
     */
    default Verdict refresh(Identity current, String credential) {
        return Verdict.refuse(new Rejection(400, "This connection has nothing to refresh"));
    }

    /** An accepted request's {@link Identity}, or the {@link Rejection} of a refused one: exactly one is set. */
    record Verdict(Identity identity, Rejection rejection) {
        public Verdict {
            if ((identity == null) == (rejection == null)) {
                throw new IllegalArgumentException("exactly one of identity and rejection (expected: one non-null)");
            }
        }

        public static Verdict accept(Identity identity) {
            return new Verdict(java.util.Objects.requireNonNull(identity, "identity"), null);
        }

        public static Verdict refuse(Rejection rejection) {
            return new Verdict(null, java.util.Objects.requireNonNull(rejection, "rejection"));
        }

        public boolean accepted() {
            return identity != null;
        }
    }

    /**
     * An HTTP refusal: a status code from 400 to 599 and a reason the client reads, in the JSON body
     * {@code {"status":"error","info":{"detail":REASON,"code":C}}} with {@code C} {@code unauthorized}
     * for 401 and {@code forbidden} for every other status.
     */
    record Rejection(int status, String reason) {
        public Rejection {
            if (status < 400 || status > 599) {
                throw new IllegalArgumentException("status: " + status + " (expected: 400 to 599)");
            }
            java.util.Objects.requireNonNull(reason, "reason");
        }
    }
}
