package io.switchboard.server.internal.auth;

import java.time.Instant;
import java.util.List;

/**
 * What a verified token says, as a connection keeps it: its subject, when it ends, and the channel
 * patterns of its {@code switchboard} claim ({@code null} lists allow every channel). Immutable.
 *
 * @param expiresAt the token's {@code exp} plus the leeway: when the connection ends; {@code null} without {@code exp}
 */
public record TokenClaims(String subject, Instant expiresAt, List<ChannelPattern> subscribe,
                          List<ChannelPattern> publish) {
}
