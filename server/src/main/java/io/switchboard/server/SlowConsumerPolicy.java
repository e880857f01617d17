package io.switchboard.server;

/** What happens to a subscriber whose outbound buffer is over its soft limit. */
public enum SlowConsumerPolicy {
    /**
     * Close it with 1008 "slow consumer" when its buffer passes the hard limit, or stays over the
     * soft limit longer than the soft limit's time. The default: a subscriber either keeps up or
     * reconnects, and never misses messages silently.
     */
    CLOSE,
    /** Skip its deliveries while its buffer is over the soft limit; it stays connected. */
    DROP
}
