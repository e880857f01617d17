package io.switchboard.server.internal.auth;

import java.util.ArrayList;
import java.util.List;

/**
 * A channel pattern of a token's {@code switchboard} claim: {@code *} matches any run of characters
 * (none included, {@code /} included); every other character matches itself, byte for byte as
 * PROTOCOL.md compares names. Immutable and thread-safe.
 */
public final class ChannelPattern {

    private final String pattern;
    /** The literal parts between the stars; a pattern without a star has one part. */
    private final String[] parts;

    private ChannelPattern(String pattern) {
        this.pattern = pattern;
        List<String> split = new ArrayList<>();
        int from = 0;
        for (int i = pattern.indexOf('*'); i >= 0; i = pattern.indexOf('*', from)) {
            split.add(pattern.substring(from, i));
            from = i + 1;
        }
        split.add(pattern.substring(from));
        this.parts = split.toArray(new String[0]);
    }

    public static ChannelPattern compile(String pattern) {
        return new ChannelPattern(pattern);
    }

    /** Whether {@code channel} matches: the first part starts it, the last ends it, the others follow in order between. */
    public boolean matches(String channel) {
        if (parts.length == 1) {
            return channel.equals(parts[0]);
        }
        String first = parts[0];
        String last = parts[parts.length - 1];
        if (channel.length() < first.length() + last.length() || !channel.startsWith(first)
                || !channel.endsWith(last)) {
            return false;
        }
        int at = first.length();
        int end = channel.length() - last.length();
        for (int i = 1; i < parts.length - 1; i++) {
            // Taking each middle part at its first fit leaves the most room for the rest.
            int found = channel.indexOf(parts[i], at);
            if (found < 0 || found + parts[i].length() > end) {
                return false;
            }
            at = found + parts[i].length();
        }
        return true;
    }

    /** Whether any of {@code patterns} matches {@code channel}; {@code null} (no list in the token) allows every channel. */
    public static boolean anyMatches(List<ChannelPattern> patterns, String channel) {
        if (patterns == null) {
            return true;
        }
        for (ChannelPattern p : patterns) {
            if (p.matches(channel)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return pattern;
    }
}
