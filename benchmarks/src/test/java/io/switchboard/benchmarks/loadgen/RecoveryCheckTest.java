package io.switchboard.benchmarks.loadgen;

import io.switchboard.benchmarks.loadgen.RecoveryCheck.Tally;
import io.switchboard.benchmarks.loadgen.RecoveryCheck.Verdict;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The reconnect-storm checker on synthetic sequences: what counts as a gap, a loss excused by
 * {@code recovered:false}, a miss while connected, a duplicate and an out-of-order delivery, per
 * publisher, including the tail published after a publisher's last delivery.
 */
class RecoveryCheckTest {

    @Test
    void anUnbrokenSequenceAcrossRecoveredReconnectsCountsNothingWrong() {
        RecoveryCheck c = started(1);
        deliver(c, 0, 0, 1, 2);
        c.reconnected(true);
        deliver(c, 0, 3, 4);
        c.reconnected(true);
        c.reconnected(true); // dropped again before anything arrived
        deliver(c, 0, 5);
        assertEquals(new Tally(6, 0, 0, 0, 0, 0), c.tally(new long[] {6}));
    }

    @Test
    void aSkipAcrossARecoveredReconnectIsAGap() {
        RecoveryCheck c = started(1);
        deliver(c, 0, 0, 1);
        c.reconnected(true);
        assertEquals(Verdict.AFTER_HOLE, c.delivered(0, 4, false)); // 2 and 3 never replayed
        deliver(c, 0, 5);
        assertEquals(new Tally(4, 0, 2, 0, 0, 0), c.tally(new long[] {6}));
        assertEquals(2, c.tally(new long[] {6}).owed());
    }

    @Test
    void aSkipAcrossAnUnrecoveredReconnectIsLostAndExcused() {
        RecoveryCheck c = started(1);
        deliver(c, 0, 0, 1);
        c.reconnected(true);
        deliver(c, 0, 2);
        c.reconnected(false);
        c.reconnected(true); // a recovered reconnect after it does not make the earlier loss a gap
        deliver(c, 0, 9, 10);
        Tally t = c.tally(new long[] {11});
        assertEquals(new Tally(5, 0, 0, 6, 0, 0), t);
        assertEquals(0, t.owed());
    }

    @Test
    void aSkipWithoutAReconnectIsMissing() {
        RecoveryCheck c = started(1);
        deliver(c, 0, 0, 1, 3);
        c.reconnected(false);
        deliver(c, 0, 7, 8, 10); // lost 4..6 to the reconnect; 9 while connected
        assertEquals(new Tally(6, 2, 0, 3, 0, 0), c.tally(new long[] {11}));
    }

    @Test
    void aSkipInAReplayOrRightAfterItIsAGapNotAMissWhileConnected() {
        RecoveryCheck c = started(1);
        deliver(c, 0, 0, 1);
        c.reconnected(true);
        assertEquals(Verdict.IN_ORDER, c.delivered(0, 2, true));
        assertEquals(Verdict.AFTER_HOLE, c.delivered(0, 4, true)); // 3 left out of the replay
        assertEquals(Verdict.AFTER_HOLE, c.delivered(0, 6, false)); // 5, the replay's last, left out
        assertEquals(Verdict.AFTER_HOLE, c.delivered(0, 8, false)); // 7 lost live: not the recovery's
        assertEquals(new Tally(6, 1, 2, 0, 0, 0), c.tally(new long[] {9}));
        c.reconnected(true);
        c.delivered(0, 9, true);
        c.delivered(0, 10, true);
        assertEquals(new Tally(8, 1, 3, 0, 0, 0), c.tally(new long[] {12}), "a replay's missing tail is a gap");
    }

    @Test
    void aRepeatIsADuplicateAndALateFillIsOutOfOrderNotAGap() {
        RecoveryCheck c = started(1);
        deliver(c, 0, 0, 1, 2);
        c.reconnected(true);
        assertEquals(Verdict.DUPLICATE, c.delivered(0, 2, true)); // replayed from one too early
        assertEquals(Verdict.IN_ORDER, c.delivered(0, 3, true));
        assertEquals(Verdict.AFTER_HOLE, c.delivered(0, 6, false)); // a live one before the replay ended
        assertEquals(Verdict.OUT_OF_ORDER, c.delivered(0, 5, true));
        assertEquals(Verdict.OUT_OF_ORDER, c.delivered(0, 4, true));
        assertEquals(Verdict.DUPLICATE, c.delivered(0, 4, false));
        assertEquals(Verdict.DUPLICATE, c.delivered(0, 6, false));
        assertEquals(new Tally(7, 0, 0, 0, 3, 2), c.tally(new long[] {7}));
    }

    @Test
    void aHoleFilledInTheMiddleLeavesItsTwoEnds() {
        RecoveryCheck c = started(1);
        deliver(c, 0, 0, 10);
        assertEquals(Verdict.OUT_OF_ORDER, c.delivered(0, 5, false));
        assertEquals(Verdict.OUT_OF_ORDER, c.delivered(0, 1, false));
        assertEquals(Verdict.OUT_OF_ORDER, c.delivered(0, 9, false));
        assertEquals(new Tally(5, 6, 0, 0, 0, 3), c.tally(new long[] {11}));
    }

    @Test
    void theTailIsJudgedByWhatHappenedAfterThePublishersLastDelivery() {
        // Published up to 9; received up to 4: missing while connected, a gap after a recovered
        // reconnect, lost after an unrecovered one.
        RecoveryCheck connected = started(1);
        deliver(connected, 0, 0, 1, 2, 3, 4);
        assertEquals(new Tally(5, 5, 0, 0, 0, 0), connected.tally(new long[] {10}));
        connected.reconnected(true);
        assertEquals(new Tally(5, 0, 5, 0, 0, 0), connected.tally(new long[] {10}));
        connected.reconnected(false);
        assertEquals(new Tally(5, 0, 0, 5, 0, 0), connected.tally(new long[] {10}));
        deliver(connected, 0, 9);
        assertEquals(new Tally(6, 0, 0, 4, 0, 0), connected.tally(new long[] {10}),
                "earlier tallies left no holes behind");
    }

    @Test
    void publishersOfOneChannelAreCheckedApart() {
        RecoveryCheck c = started(3);
        deliver(c, 0, 0, 1);
        deliver(c, 1, 0);
        c.reconnected(true);
        deliver(c, 1, 1, 2); // slot 1 went on where it stopped
        deliver(c, 0, 3); // slot 0 skipped 2
        deliver(c, 2, 0, 0); // slot 2 once twice
        assertEquals(Verdict.FOREIGN, c.delivered(3, 0, false)); // not one of the run's publishers
        assertEquals(new Tally(7, 0, 1, 0, 1, 0), c.tally(new long[] {4, 3, 1}));
    }

    @Test
    void aSubscriberThatJoinedMidRunStartsWhereThePublisherWasAndTakesALateEarlierOne() {
        RecoveryCheck c = new RecoveryCheck(1);
        c.expectFrom(0, 100);
        assertEquals(Verdict.IN_ORDER, c.delivered(0, 99, false)); // published before the join was counted
        deliver(c, 0, 100, 101);
        assertEquals(new Tally(3, 0, 0, 0, 0, 0), c.tally(new long[] {102}));
        assertEquals(Verdict.DUPLICATE, c.delivered(0, 98, false)); // once one came, the start holds
    }

    private static RecoveryCheck started(int slots) {
        RecoveryCheck c = new RecoveryCheck(slots);
        for (int s = 0; s < slots; s++) {
            c.expectFrom(s, 0);
        }
        return c;
    }

    private static void deliver(RecoveryCheck c, int slot, long... seqs) {
        for (long seq : seqs) {
            c.delivered(slot, seq, false);
        }
    }
}
