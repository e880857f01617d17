package io.switchboard.protocol.minichats;

/**
 * A request that cannot be served, with what the client is told: an {@link ErrorCode}, a human
 * readable detail and the request's {@code request_id} when one could be read. Carries no stack
 * trace: it is an answer, not a bug.
 */
public final class MinichatsException extends Exception {

    private final ErrorCode code;
    private final byte[] requestId;

    public MinichatsException(ErrorCode code, String detail, byte[] requestId) {
        super(detail, null, false, false);
        this.code = code;
        this.requestId = requestId;
    }

    public ErrorCode code() {
        return code;
    }

    /** The detail the client reads. */
    public String detail() {
        return getMessage();
    }

    /** The raw JSON of the request's {@code request_id} (a string or number), or {@code null}. */
    public byte[] requestId() {
        return requestId;
    }
}
