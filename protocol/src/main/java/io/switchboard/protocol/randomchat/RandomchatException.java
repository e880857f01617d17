package io.switchboard.protocol.randomchat;

/**
 * A request the randomchat dialect refuses: the client gets
 * {@code {"type":"error","message": getMessage(),"request": request()}}.
 */
public final class RandomchatException extends Exception {

    private static final long serialVersionUID = 1L;

    private final String request;

    /**
     * @param request the refused request's {@code type} as the client sent it, or {@code null} when
     *                it had none that could be read
     */
    public RandomchatException(String message, String request) {
        super(message, null, false, false); // an answer to a client, not a failure: no stack trace
        this.request = request;
    }

    /** The refused request's {@code type} as sent, or {@code null}. */
    public String request() {
        return request;
    }
}
