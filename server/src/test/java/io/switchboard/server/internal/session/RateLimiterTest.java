package io.switchboard.server.internal.session;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RateLimiterTest {

    private static final long SECOND = 1_000_000_000L;

    @Test
    void allowsABurstOfOneSecondThenTheRate() {
        RateLimiter limiter = new RateLimiter(4, 0);
        for (int i = 0; i < 4; i++) {
            assertTrue(limiter.tryAcquire(0), "burst " + i);
        }
        assertFalse(limiter.tryAcquire(0));
        assertFalse(limiter.tryAcquire(SECOND / 4 - 1), "a quarter second refills one token, not before");
        assertTrue(limiter.tryAcquire(SECOND / 4));
        assertFalse(limiter.tryAcquire(SECOND / 4));
        // A long pause refills the bucket only up to its one-second capacity.
        for (int i = 0; i < 4; i++) {
            assertTrue(limiter.tryAcquire(100 * SECOND));
        }
        assertFalse(limiter.tryAcquire(100 * SECOND));
    }

    @Test
    void callsItAbuseAfterASecondsWorthOfRefusalsInARow() {
        RateLimiter limiter = new RateLimiter(2, 0);
        limiter.tryAcquire(0);
        limiter.tryAcquire(0);
        assertFalse(limiter.tryAcquire(0));
        assertFalse(limiter.isAbusive());
        assertFalse(limiter.tryAcquire(0));
        assertTrue(limiter.isAbusive());
        assertTrue(limiter.tryAcquire(SECOND), "an accepted message resets the count");
        assertFalse(limiter.isAbusive());
    }

    @Test
    void zeroMeansUnlimited() {
        RateLimiter limiter = new RateLimiter(0, 0);
        for (int i = 0; i < 1_000_000; i++) {
            assertTrue(limiter.tryAcquire(0));
        }
        assertFalse(limiter.isAbusive());
    }
}
