package io.switchboard.protocol;

/**
 * The rule every name on the wire follows (client names, channel names): 1 to {@code maxBytes}
 * bytes of UTF-8, no control characters and no unpaired surrogates (which UTF-8 cannot encode: a
 * JSON escape such as {@code "\\ud800"} reads as one). Names are compared byte for byte (PROTOCOL.md).
 */
public final class Names {

    private Names() {
    }

    /**
     * Checks {@code name} and returns {@code null} when it is valid, or the reason it is not, in
     * the words a client sees: {@code "'channel_name' must not be empty"}.
     *
     * @param what the name's field as the client knows it, e.g. {@code channel_name}
     */
    public static String check(String what, String name, int maxBytes) {
        if (name.isEmpty()) {
            return "'" + what + "' must not be empty";
        }
        if (JsonStrings.unpairedSurrogate(name) >= 0) {
            return "'" + what + "' must not contain an unpaired surrogate";
        }
        if (JsonStrings.utf8Length(name) > maxBytes) {
            return "'" + what + "' is longer than " + maxBytes + " bytes";
        }
        for (int i = 0; i < name.length(); i++) {
            if (Character.isISOControl(name.charAt(i))) {
                return "'" + what + "' must not contain control characters";
            }
        }
        return null;
    }
}
