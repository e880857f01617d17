package io.switchboard.server.internal.broker;

import io.netty.buffer.Unpooled;
import io.switchboard.server.internal.dialect.minichats.MinichatsDialect;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link History}'s own rules, with a clock of the test's: offsets, the three bounds, recovery and listing. */
class HistoryTest {

    private final AtomicLong now = new AtomicLong(1_000_000);

    private History history(int size, long ttlMillis, int recoveryMax, long maxBytes) {
        return new History(size, ttlMillis, recoveryMax, maxBytes, now::get);
    }

    private static ChannelEvent message(String content) {
        return ChannelEvent.message(MinichatsDialect.DIALECT, "s", "s", null, 0,
                Unpooled.wrappedBuffer(content.getBytes(StandardCharsets.UTF_8)), null);
    }

    private static long append(History h, History.ChannelStream s, String content) {
        ChannelEvent e = message(content);
        synchronized (s) {
            h.append(s, e);
        }
        return e.offset;
    }

    @Test
    void offsetsCountFromOneAndTheOldestGoPastTheSize() {
        History h = history(3, 60_000, 100, 1 << 20);
        History.ChannelStream s = h.stream("c");
        for (int i = 1; i <= 5; i++) {
            assertEquals(i, append(h, s, "\"" + i + "\""));
        }
        assertEquals(3, h.keptCount());
        assertEquals(2, h.evicted(History.Eviction.SIZE));
        synchronized (s) {
            assertEquals(List.of(3L, 4L, 5L), h.list(s, 0, 0, null).publications().stream().map(k -> k.offset).toList());
        }
        assertTrue(h.consistent());
    }

    @Test
    void publishesExpireAfterTheTtlAndAStreamWithNothingKeptAndNoSubscriberIsForgotten() {
        History h = history(10, 1000, 100, 1 << 20);
        History.ChannelStream s = h.stream("c");
        append(h, s, "1");
        String epoch = s.epoch;
        now.addAndGet(1000);
        synchronized (s) {
            assertTrue(h.list(s, 0, 0, null).publications().isEmpty());
            assertEquals(1, h.evicted(History.Eviction.TTL));
            assertFalse(h.recover(s, 0, epoch).recovered(), "offset 1 is gone");
            assertTrue(h.recover(s, 1, epoch).recovered(), "nothing missed");
        }
        h.sweepIfDue(name -> true);
        assertEquals(1, h.streamCount(), "kept while subscribed");
        now.addAndGet(1000);
        h.sweepIfDue(name -> false);
        assertEquals(0, h.streamCount());
        assertNotEquals(epoch, h.stream("c").epoch, "a new stream, a new epoch");
    }

    @Test
    void theAppendingChannelPaysForTheNodesMemoryButKeepsItsNewest() {
        History h = history(100, 60_000, 100, 3 * (History.OVERHEAD_BYTES + 3 + 1));
        History.ChannelStream quiet = h.stream("quiet");
        History.ChannelStream busy = h.stream("busy");
        append(h, quiet, "q");
        for (int i = 0; i < 10; i++) {
            append(h, busy, "b");
        }
        assertTrue(h.keptBytes() <= 3 * (History.OVERHEAD_BYTES + 4));
        synchronized (quiet) {
            assertEquals(1, h.list(quiet, 0, 0, null).publications().size(), "the quiet channel keeps its own");
        }
        synchronized (busy) {
            assertEquals(10, h.list(busy, 0, 0, null).publications().get(1).offset);
        }
        assertEquals(8, h.evicted(History.Eviction.MEMORY));
    }

    @Test
    void recoveryIsAllOrNothingAndListingFollowsSinceAndLimit() {
        History h = history(5, 60_000, 3, 1 << 20);
        History.ChannelStream s = h.stream("c");
        for (int i = 0; i < 10; i++) {
            append(h, s, "1");
        }
        synchronized (s) {
            History.Recovery r = h.recover(s, 7, s.epoch);
            assertTrue(r.recovered());
            assertEquals(List.of(8L, 9L, 10L), r.missed().stream().map(k -> k.offset).toList());
            assertFalse(h.recover(s, 6, s.epoch).recovered(), "4 missed, RECOVERY_MAX 3");
            assertFalse(h.recover(s, 11, s.epoch).recovered(), "past the stream");
            assertFalse(h.recover(s, 9, "other").recovered(), "another epoch");
            assertEquals(1, h.recovered.sum());
            assertEquals(3, h.notRecovered.sum());
            assertEquals(List.of(9L, 10L), h.list(s, 2, 0, null).publications().stream().map(k -> k.offset).toList());
            assertEquals(List.of(7L, 8L), h.list(s, 2, 6, s.epoch).publications().stream().map(k -> k.offset).toList());
            assertNull(h.list(s, 2, 6, "other").publications(), "another epoch: no publications");
            assertEquals(10, h.list(s, 0, 0, null).position().offset());
        }
    }
}
