package io.switchboard.protocol.disposable;

import io.switchboard.protocol.JsonStrings;

import java.util.regex.Pattern;

/**
 * The handshake's query parameters: {@code name} and {@code room}, 3 to 30 characters after
 * trimming, {@code room} only {@code [a-zA-Z0-9_-]} (PROTOCOL.md section 2).
 */
public final class DisposableParams {

    public static final int MIN_LENGTH = 3;
    public static final int MAX_LENGTH = 30;
    /** The seed's answer to every invalid handshake, word for word. */
    public static final String INVALID = "Provide `name` and `room` query parameters, with size between 3 and 30 "
            + "characters. `room` must contain only alphanumeric, hyphen and underscore characters.";
    private static final Pattern ROOM = Pattern.compile("[a-zA-Z0-9_-]+");

    private DisposableParams() {
    }

    /** Trims a parameter as the seed does (leading and trailing white space); {@code null} stays {@code null}. */
    public static String trim(String value) {
        return value == null ? null : value.strip();
    }

    /**
     * Returns {@code null} when the trimmed {@code name} and {@code room} are valid, or the reason
     * the client is told with HTTP 400: the seed's text, then what exactly is wrong.
     */
    public static String check(String name, String room) {
        String problem = problem("name", name);
        if (problem == null) {
            problem = problem("room", room);
        }
        if (problem == null && !ROOM.matcher(room).matches()) {
            problem = "`room` has a character other than a-z, A-Z, 0-9, '-' and '_'";
        }
        if (problem == null) {
            problem = name.chars().anyMatch(Character::isISOControl) ? "`name` has a control character" : null;
        }
        if (problem == null && JsonStrings.unpairedSurrogate(name) >= 0) {
            problem = "`name` has an unpaired surrogate";
        }
        return problem == null ? null : INVALID + " (" + problem + ")";
    }

    private static String problem(String what, String value) {
        if (value == null || value.isEmpty()) {
            return "`" + what + "` is missing";
        }
        int length = value.codePointCount(0, value.length());
        if (length < MIN_LENGTH || length > MAX_LENGTH) {
            return "`" + what + "` has " + length + " characters";
        }
        return null;
    }
}
