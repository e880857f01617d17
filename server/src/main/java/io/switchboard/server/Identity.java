package io.switchboard.server;

import java.time.Instant;

/**
 * Who a {@link ConnectionAuthorizer} found a client to be, and for how long: what a verified token
 * proves. Immutable; safe to keep and to read from any thread.
 *
 * @param name       the client's name, used instead of the one the dialect would give (minichats
 *                   {@code client_name}, disposable {@code name}); {@code null} keeps the dialect's
 * @param expiresAt  when the node ends the connection (close 1008 "token expired") unless a
 *                   refresh extends it; {@code null}: never
 * @param attachment what the authorizer that made this identity keeps with it for its
 *                   {@link ChannelAuthorizer} (a token's claims, say); opaque to Switchboard, may be {@code null}
 */
public record Identity(String name, Instant expiresAt, Object attachment) {

    /** No name, no expiry: what an authorizer that proves nothing gives. */
    public static final Identity ANONYMOUS = new Identity(null, null, null);
}
