package io.switchboard.server.internal.session;

/**
 * A token bucket: {@code ratePerSecond} tokens a second, holding at most one second's worth, so a
 * client may burst up to its rate and then keeps to it.
 *
 * <p>Not thread-safe; one per connection, used from the connection's event loop.
 */
public final class RateLimiter {

    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final int ratePerSecond;
    private double tokens;
    private long lastRefill;
    private int refusedInARow;

    /** @param ratePerSecond tokens per second; 0 means unlimited */
    public RateLimiter(int ratePerSecond, long nowNanos) {
        this.ratePerSecond = ratePerSecond;
        this.tokens = ratePerSecond;
        this.lastRefill = nowNanos;
    }

    /** Takes a token; returns {@code false} when the bucket is empty. */
    public boolean tryAcquire(long nowNanos) {
        if (ratePerSecond == 0) {
            return true;
        }
        long elapsed = nowNanos - lastRefill;
        if (elapsed > 0) {
            tokens = Math.min(ratePerSecond, tokens + (double) elapsed * ratePerSecond / NANOS_PER_SECOND);
            lastRefill = nowNanos;
        }
        if (tokens >= 1) {
            tokens -= 1;
            refusedInARow = 0;
            return true;
        }
        refusedInARow++;
        return false;
    }

    /**
     * Whether the client has gone on sending a full second's worth of messages after being told
     * to slow down: abuse, not a burst.
     */
    public boolean isAbusive() {
        return ratePerSecond > 0 && refusedInARow >= ratePerSecond;
    }
}
