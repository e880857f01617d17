package io.switchboard.protocol.disposable;

/**
 * A client frame the disposable dialect refuses; its message is the {@code error} frame's text,
 * in the seed's words where the seed has them, and its {@link #kind} says which rule it broke.
 */
public final class DisposableException extends Exception {

    private static final long serialVersionUID = 1L;

    /** Which rule a refused frame broke. */
    public enum Kind {
        /** An empty, missing or {@code null} {@code text}. */
        EMPTY,
        /** A {@code text} over {@link DisposableDecoder#MAX_TEXT_CHARACTERS} characters. */
        TOO_LONG,
        /** Not one JSON object, or a {@code text} that is not a string. */
        INVALID,
        /** A string with an unpaired surrogate. */
        NOT_UNICODE
    }

    private final Kind kind;

    public DisposableException(Kind kind, String text) {
        super(text, null, false, false); // an answer to a client, not a failure: no stack trace
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
