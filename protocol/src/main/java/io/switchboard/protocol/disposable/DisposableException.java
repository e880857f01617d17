package io.switchboard.protocol.disposable;

/**
 * A client frame the disposable dialect refuses; its message is the {@code error} frame's text,
 * in the seed's words where the seed has them.
 */
public final class DisposableException extends Exception {

    private static final long serialVersionUID = 1L;

    public DisposableException(String text) {
        super(text, null, false, false); // an answer to a client, not a failure: no stack trace
    }
}
