/**
 * Token auth (PROTOCOL.md section 1a, issue 19): JWT verification with nimbus-jose-jwt (an optional
 * dependency, used only in this package), the keys it trusts, and the channel patterns of a token's
 * {@code switchboard} claim. {@code io.switchboard.server.TokenAuth} is its public face.
 *
 * <p>Internal: may change at any time.
 */
package io.switchboard.server.internal.auth;
