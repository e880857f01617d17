package io.switchboard.server.internal.auth;

import java.util.Locale;

/**
 * Why a token was refused, as {@code switchboard_auth_failures_total{reason}} counts it. The
 * details the client reads name the reason and never the token.
 */
public enum TokenFailure {
    /** No token in the query, the {@code Authorization} header or the cookie. */
    MISSING,
    /** Not a compact signed JWT, or claims that are not a JSON object. */
    MALFORMED,
    /** {@code alg: none}: an unsigned token. */
    ALG_NONE,
    /** An algorithm no configured key verifies (an HS256 token where only an RSA key is set, say). */
    ALG_NOT_CONFIGURED,
    /** A {@code kid} the JWK set does not hold. */
    UNKNOWN_KEY,
    BAD_SIGNATURE,
    EXPIRED,
    NOT_YET_VALID,
    WRONG_AUDIENCE,
    WRONG_ISSUER,
    /** No {@code sub}, or a {@code switchboard} claim not of the documented shape. */
    INVALID_CLAIMS,
    /** A {@code refresh} token for another {@code sub} than the connection's. */
    OTHER_SUBJECT;

    /** The label in metrics, e.g. {@code bad_signature}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
