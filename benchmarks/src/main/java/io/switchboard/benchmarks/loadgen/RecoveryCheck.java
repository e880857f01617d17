package io.switchboard.benchmarks.loadgen;

import java.util.Map;
import java.util.TreeMap;

/**
 * What one subscriber received from each publisher of its channel across reconnects (the
 * reconnect storms of issue 18): every publisher's sequence numbers must arrive once and in order,
 * except those a reconnect answered with {@code recovered:false} left out. A publisher is a slot
 * of the channel (one, or P/C with fan-in); its sequence numbers count from 0.
 *
 * <p>A delivery after the next one expected leaves a hole, which is judged by what happened since
 * that publisher's previous delivery: a reconnect that said {@code recovered:false} makes it
 * <em>lost</em> (allowed: recovery is all or nothing); a reconnect that said {@code recovered:true},
 * or a replay on either side of the hole, and nothing worse makes it a <em>gap</em> (a broken
 * promise); otherwise it is <em>missing</em> (lost while connected). A hole filled later is an
 * out-of-order delivery, no longer a hole; one below the next expected that is no hole is a
 * duplicate. What was published after a publisher's last delivery (the tail) is judged the same way
 * by {@link #tally(long[])}.
 *
 * <p>Not thread-safe: all methods must be called from the subscriber's event loop.
 */
final class RecoveryCheck {

    /** How a delivery compared with what was expected of its publisher. */
    enum Verdict { IN_ORDER, AFTER_HOLE, OUT_OF_ORDER, DUPLICATE, FOREIGN }

    /** Why something expected did not arrive. */
    enum Hole { MISSING, GAP, LOST }

    /** One subscriber's counts; {@link #owed()} is what it should have received and did not. */
    record Tally(long unique, long missing, long gaps, long lost, long duplicates, long outOfOrder) {

        static final Tally ZERO = new Tally(0, 0, 0, 0, 0, 0);

        /** Expected and not received, not excused by {@code recovered:false}: missing plus gaps. */
        long owed() {
            return missing + gaps;
        }

        Tally plus(Tally t) {
            return new Tally(unique + t.unique, missing + t.missing, gaps + t.gaps, lost + t.lost,
                    duplicates + t.duplicates, outOfOrder + t.outOfOrder);
        }
    }

    /** Per slot: the next sequence number expected; -1 until {@link #expectFrom} or a first delivery. */
    private final long[] next;
    /** Per slot: whether a delivery came (until then a late one may lower the start). */
    private final boolean[] delivered;
    /** Per slot: the session of its last delivery (or of {@link #expectFrom}). */
    private final int[] lastSession;
    /** Per slot: whether its last delivery was replayed by a recovery. */
    private final boolean[] lastReplayed;
    /** Per slot: holes by their first sequence number, each {end (exclusive), Hole ordinal}. */
    private final TreeMap<Long, long[]>[] holes;
    /** Connections so far minus one: 0 until the first reconnect. */
    private int session;
    /** The latest session that began with {@code recovered:false}; -1: none. */
    private int lastUnrecovered = -1;
    private final long[] inHoles = new long[Hole.values().length];
    private long unique;
    private long duplicates;
    private long outOfOrder;

    @SuppressWarnings("unchecked")
    RecoveryCheck(int slots) {
        next = new long[slots];
        java.util.Arrays.fill(next, -1);
        delivered = new boolean[slots];
        lastSession = new int[slots];
        lastReplayed = new boolean[slots];
        holes = new TreeMap[slots];
        for (int i = 0; i < slots; i++) {
            holes[i] = new TreeMap<>();
        }
    }

    /**
     * The first sequence number owed from {@code slot}: what it had published when this subscriber
     * joined. Until its first delivery a lower one may still come (published before the join was
     * counted, delivered after): the start then moves down to it. Ignored once a delivery from the
     * slot came (one that overtook the subscribe's answer): the start is that delivery.
     */
    void expectFrom(int slot, long seq) {
        if (!delivered[slot]) {
            next[slot] = seq;
            lastSession[slot] = session;
        }
    }

    /** A new connection subscribed again; {@code recovered}: what its {@code recover} said. */
    void reconnected(boolean recovered) {
        session++;
        if (!recovered) {
            lastUnrecovered = session;
        }
    }

    /**
     * Judges the delivery of {@code seq} from {@code slot}; {@code replayed}: it is part of the
     * replay that followed a {@code recovered:true} (its offset at most the one that ok reported).
     */
    Verdict delivered(int slot, long seq, boolean replayed) {
        if (slot < 0 || slot >= next.length || seq < 0) {
            return Verdict.FOREIGN;
        }
        long n = next[slot];
        if (n < 0 || !delivered[slot] && seq < n) {
            n = seq; // the first: where this subscriber starts, or a late one from before its join
        }
        Verdict v;
        if (seq == n) {
            v = Verdict.IN_ORDER;
        } else if (seq > n) {
            Hole kind = kind(slot, replayed);
            holes[slot].put(n, new long[] {seq, kind.ordinal()});
            inHoles[kind.ordinal()] += seq - n;
            v = Verdict.AFTER_HOLE;
        } else if (fill(slot, seq)) {
            unique++;
            outOfOrder++;
            return Verdict.OUT_OF_ORDER;
        } else {
            duplicates++;
            return Verdict.DUPLICATE;
        }
        next[slot] = seq + 1;
        delivered[slot] = true;
        lastSession[slot] = session;
        lastReplayed[slot] = replayed;
        unique++;
        return v;
    }

    /**
     * What a hole of {@code slot} opened now is, by what happened since its last delivery and
     * whether the delivery that opens it was {@code replayed}.
     */
    private Hole kind(int slot, boolean replayed) {
        if (lastUnrecovered > lastSession[slot]) {
            return Hole.LOST;
        }
        return session > lastSession[slot] || replayed || lastReplayed[slot] ? Hole.GAP : Hole.MISSING;
    }

    /** Removes {@code seq} from the holes of {@code slot}; false when it is in none. */
    private boolean fill(int slot, long seq) {
        Map.Entry<Long, long[]> e = holes[slot].floorEntry(seq);
        if (e == null || seq >= e.getValue()[0]) {
            return false;
        }
        long start = e.getKey();
        long end = e.getValue()[0];
        long kind = e.getValue()[1];
        holes[slot].remove(start);
        if (start < seq) {
            holes[slot].put(start, new long[] {seq, kind});
        }
        if (seq + 1 < end) {
            holes[slot].put(seq + 1, new long[] {end, kind});
        }
        inHoles[(int) kind]--;
        return true;
    }

    /**
     * The counts so far, with each slot's tail: {@code published[slot]} is how many that publisher
     * published (its next sequence number); those after the slot's next expected one count as holes
     * opened now. Changes nothing.
     */
    Tally tally(long[] published) {
        long[] held = inHoles.clone();
        for (int slot = 0; slot < next.length && slot < published.length; slot++) {
            if (next[slot] >= 0 && published[slot] > next[slot]) {
                held[kind(slot, false).ordinal()] += published[slot] - next[slot];
            }
        }
        return new Tally(unique, held[Hole.MISSING.ordinal()], held[Hole.GAP.ordinal()], held[Hole.LOST.ordinal()],
                duplicates, outOfOrder);
    }
}
