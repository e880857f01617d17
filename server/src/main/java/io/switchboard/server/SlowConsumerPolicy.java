package io.switchboard.server;

/** What happens to a subscriber whose outbound buffer is over its soft limit. */
public enum SlowConsumerPolicy {
    /**
     * Close it when its buffer stays over the soft limit longer than the soft limit's time, with
     * 1008 "slow consumer" behind what is pending (cut off after the ping timeout if it still does
     * not read). At the hard limit, under either policy, it is closed at once without a close frame.
     * The default: a subscriber either keeps up or reconnects, and never misses messages silently.
     */
    CLOSE,
    /** Skip its deliveries while its buffer is over the soft limit; it stays connected. */
    DROP
}
