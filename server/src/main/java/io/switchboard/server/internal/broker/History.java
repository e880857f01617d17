package io.switchboard.server.internal.broker;

import io.netty.buffer.ByteBufUtil;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.server.SwitchboardConfig;

import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The node's channel streams (PROTOCOL.md section 1a, issue 18): each channel keeps its last
 * {@code HISTORY_SIZE} publishes, numbered by offset within an epoch, for {@code history} and for
 * recovery after a reconnect.
 *
 * <p>Bounds, each counted in {@link #evictions}: a stream keeps at most {@code HISTORY_SIZE}
 * publishes ({@link Eviction#SIZE}) and none older than {@code HISTORY_TTL} ({@link Eviction#TTL});
 * the node keeps at most {@code HISTORY_MAX_BYTES} (content, sender and a fixed overhead per
 * publish) over all streams: an append that takes it past drops the oldest publishes of its own
 * channel until the node is back under or the channel keeps only the new one
 * ({@link Eviction#MEMORY}), so the busy channels pay for their own memory and the quiet ones leave
 * by their TTL. Expired publishes are dropped when their stream is read or appended to, and by a
 * sweep over all streams at most once a second, run by the publish that finds it due (a node that
 * stops publishing keeps what it had, within the bound, until then). A stream with nothing kept
 * and no local subscriber is forgotten, and with it its epoch: a later publish starts a new one.
 *
 * <p>Thread-safe. A stream's state is guarded by the stream itself; the {@link Broker} holds that
 * lock while it assigns an offset and hands the publish to the event loops, so that every loop
 * receives a channel's publishes in offset order, and while it adds a subscriber with positions, so
 * that the subscriber's position and the deliveries it will get agree.
 */
public final class History {

    /** Why kept publishes were dropped. */
    public enum Eviction {
        /** Past {@code HISTORY_SIZE} in its channel. */
        SIZE,
        /** Older than {@code HISTORY_TTL}. */
        TTL,
        /** Past {@code HISTORY_MAX_BYTES} on the node. */
        MEMORY
    }

    /** What one kept publish costs beyond its content and sender name: the object, its queue node. */
    static final int OVERHEAD_BYTES = 96;

    private final int size;
    private final long ttlMillis;
    private final int recoveryMax;
    private final long maxBytes;
    private final LongSupplier clock;
    private final SecureRandom random = new SecureRandom();
    private final ConcurrentHashMap<String, ChannelStream> streams = new ConcurrentHashMap<>();
    private final AtomicLong bytes = new AtomicLong();
    /** When the next sweep is due, {@link #clock} milliseconds. */
    private final AtomicLong nextSweep = new AtomicLong();
    private final LongAdder kept = new LongAdder();
    public final LongAdder[] evictions = {new LongAdder(), new LongAdder(), new LongAdder()};
    /** Recoveries answered {@code recovered:true} and {@code recovered:false}. */
    public final LongAdder recovered = new LongAdder();
    public final LongAdder notRecovered = new LongAdder();

    /** History as {@code config} sets it, or {@code null} when {@code HISTORY_SIZE} is 0. */
    public static History of(SwitchboardConfig config) {
        return config.historySize() == 0 ? null : new History(config.historySize(), config.historyTtl().toMillis(),
                config.recoveryMax(), config.historyMaxBytes(), System::currentTimeMillis);
    }

    History(int size, long ttlMillis, int recoveryMax, long maxBytes, LongSupplier clock) {
        this.size = size;
        this.ttlMillis = ttlMillis;
        this.recoveryMax = recoveryMax;
        this.maxBytes = maxBytes;
        this.clock = clock;
    }

    /** A publish kept in a stream. Immutable. */
    public static final class Kept {
        public final long offset;
        /** The sender's name as a JSON literal. */
        public final byte[] quotedSender;
        public final long sentAt;
        /** The content, one JSON value, byte for byte as published. */
        public final byte[] content;
        final long keptAt;

        /** A publish read back from the cluster's stream (kept there, not here). */
        public Kept(long offset, byte[] quotedSender, long sentAt, byte[] content) {
            this(offset, quotedSender, sentAt, content, 0);
        }

        Kept(long offset, byte[] quotedSender, long sentAt, byte[] content, long keptAt) {
            this.offset = offset;
            this.quotedSender = quotedSender;
            this.sentAt = sentAt;
            this.content = content;
            this.keptAt = keptAt;
        }

        int bytes() {
            return OVERHEAD_BYTES + quotedSender.length + content.length;
        }
    }

    /**
     * One channel's stream. Guarded by itself. In a cluster it is this node's copy of the end of the
     * stream Redis keeps, as received: its epoch changes when Redis's does.
     */
    static final class ChannelStream {
        final String name;
        String epoch;
        byte[] quotedEpoch;
        /** The latest publish's offset; 0 before the first. */
        long top;
        final ArrayDeque<Kept> kept = new ArrayDeque<>();
        /** Set once the stream left {@link #streams}: whoever finds it so looks it up again. */
        boolean removed;
        /** Incremented whenever this copy starts afresh (a cluster's new epoch, or a rollback). */
        int generation;

        ChannelStream(String name, String epoch) {
            this.name = name;
            this.epoch = epoch;
            this.quotedEpoch = JsonStrings.quote(epoch);
        }
    }

    /** Where a stream stands: its epoch (quoted) and latest offset. */
    public record Position(String epoch, byte[] quotedEpoch, long offset) {
    }

    /**
     * What a recovery found: whether it recovered and, when it did, the publishes after the client's
     * position, oldest first (empty when it missed nothing).
     */
    public record Recovery(boolean recovered, List<Kept> missed) {
        static final Recovery FAILED = new Recovery(false, List.of());
    }

    /**
     * What {@code history} answers: the stream's position and the publishes asked for, oldest first;
     * {@code publications} {@code null} when the request's {@code since} is of another epoch.
     */
    public record Listing(Position position, List<Kept> publications) {
    }

    /** The stream of {@code channel}, made (with a new epoch) if it has none; locked by the caller. */
    ChannelStream stream(String channel) {
        return streams.computeIfAbsent(channel, c -> new ChannelStream(c, newEpoch()));
    }

    private String newEpoch() {
        // 60 random bits in base 36: unguessable enough that a client cannot hit a future epoch.
        return Long.toString(random.nextLong() >>> 4, 36);
    }

    /**
     * Keeps {@code event} in {@code s} as its next publish and sets the event's offset; drops what the
     * bounds say must go. The caller holds {@code s}'s lock, and calls {@link #sweepIfDue} after
     * releasing it.
     */
    void append(ChannelStream s, ChannelEvent event) {
        long now = clock.getAsLong();
        expire(s, now);
        event.offset = s.top + 1;
        event.generation = s.generation;
        keep(s, event, now);
    }

    /**
     * Keeps {@code event} as {@code s}'s newest publish, at its offset, and drops what the size and
     * memory bounds say must go. The caller holds {@code s}'s lock.
     */
    private void keep(ChannelStream s, ChannelEvent event, long now) {
        s.top = event.offset;
        Kept k = new Kept(event.offset, event.quotedName(), event.sentAt, ByteBufUtil.getBytes(event.content), now);
        s.kept.addLast(k);
        bytes.addAndGet(k.bytes());
        kept.increment();
        while (s.kept.size() > size) {
            drop(s.kept.pollFirst(), Eviction.SIZE);
        }
        while (bytes.get() > maxBytes && s.kept.size() > 1) {
            drop(s.kept.pollFirst(), Eviction.MEMORY);
        }
    }

    /**
     * In a cluster: notes a publish numbered by Redis ({@code offset} in {@code event}, of
     * {@code epoch}) as this node receives it, in the order Redis published them, and sets the
     * event's generation. A new epoch (the stream expired, or Redis lost it) starts the copy afresh
     * in a new generation, as does an offset at or below the copy's (Redis rolled back to a snapshot:
     * pub/sub never repeats a message, and a node's own publishes reach it only this way), so the
     * floors of subscribers of the old one do not skip the new one; a gap (pub/sub lost messages
     * while the node reconnected) starts the copy afresh in the same generation. The caller holds
     * {@code s}'s lock.
     */
    void record(ChannelStream s, String epoch, ChannelEvent event) {
        long offset = event.offset;
        boolean sameEpoch = s.epoch.equals(epoch);
        long now = clock.getAsLong();
        if (!sameEpoch || offset != s.top + 1) {
            Kept k;
            while ((k = s.kept.pollFirst()) != null) {
                drop(k, Eviction.SIZE);
            }
            if (!sameEpoch || offset <= s.top) {
                s.generation++;
            }
            if (!sameEpoch) {
                s.epoch = epoch;
                s.quotedEpoch = JsonStrings.quote(epoch);
            }
        } else {
            expire(s, now);
        }
        event.generation = s.generation;
        keep(s, event, now);
    }

    /**
     * In a cluster: what a subscriber at {@code after} needs of this node's copy of {@code s} up to
     * its top, when the cluster's own read ended at {@code readTop} of epoch {@code epoch}: the kept
     * publishes after {@code max(after, readTop)}, or {@code null} when the copy does not have them
     * all (another epoch, or not kept since). The caller holds {@code s}'s lock.
     */
    List<Kept> tail(ChannelStream s, String epoch, long after) {
        if (!s.epoch.equals(epoch)) {
            return null;
        }
        if (after >= s.top) {
            return List.of();
        }
        Kept first = s.kept.peekFirst();
        if (first == null || first.offset > after + 1) {
            return null;
        }
        List<Kept> out = new ArrayList<>((int) (s.top - after));
        for (Kept k : s.kept) {
            if (k.offset > after) {
                out.add(k);
            }
        }
        return out;
    }

    /** Counts a recovery's result (a cluster's, which {@link #recover} does not see). */
    void counted(boolean wasRecovered) {
        (wasRecovered ? recovered : notRecovered).increment();
    }

    /** Drops {@code s}'s publishes older than {@code HISTORY_TTL}. The caller holds its lock. */
    private void expire(ChannelStream s, long now) {
        long expiredBefore = now - ttlMillis;
        Kept first;
        while ((first = s.kept.peekFirst()) != null && first.keptAt <= expiredBefore) {
            drop(s.kept.pollFirst(), Eviction.TTL);
        }
    }

    private void drop(Kept k, Eviction why) {
        bytes.addAndGet(-k.bytes());
        kept.decrement();
        evictions[why.ordinal()].increment();
    }

    /**
     * At most once a second: drops the expired publishes of every stream and forgets the streams left
     * with nothing kept whose channel has no subscriber here ({@code subscribed} tells). Call
     * without holding any stream's lock.
     */
    void sweepIfDue(Predicate<String> subscribed) {
        long now = clock.getAsLong();
        long due = nextSweep.get();
        if (now < due || !nextSweep.compareAndSet(due, now + 1000)) {
            return;
        }
        for (ChannelStream s : streams.values()) {
            synchronized (s) {
                expire(s, now);
                if (s.kept.isEmpty() && !s.removed && !subscribed.test(s.name)) {
                    s.removed = true;
                    streams.remove(s.name, s);
                }
            }
        }
    }

    /**
     * Forgets {@code channel}'s stream when it keeps nothing and the channel has no subscriber here
     * ({@code subscribed} tells, under the stream's lock, which a subscribe with positions holds).
     */
    void forgetIfEmpty(String channel, Predicate<String> subscribed) {
        ChannelStream s = streams.get(channel);
        if (s == null) {
            return;
        }
        synchronized (s) {
            if (s.kept.isEmpty() && !s.removed && !subscribed.test(channel)) {
                s.removed = true;
                streams.remove(channel, s);
            }
        }
    }

    /** Where {@code s} stands. The caller holds its lock. */
    static Position position(ChannelStream s) {
        return new Position(s.epoch, s.quotedEpoch, s.top);
    }

    /**
     * What a client at {@code offset} of {@code epoch} missed in {@code s}: all of it, or
     * {@link Recovery#FAILED} when that is not possible (another epoch, an offset past the stream's,
     * a publish after it no longer kept, or more than {@code RECOVERY_MAX} missed): recovery is never
     * partial. The caller holds {@code s}'s lock.
     */
    Recovery recover(ChannelStream s, long offset, String epoch) {
        expire(s, clock.getAsLong());
        if (!s.epoch.equals(epoch) || offset > s.top || s.top - offset > recoveryMax) {
            notRecovered.increment();
            return Recovery.FAILED;
        }
        if (offset == s.top) {
            recovered.increment();
            return new Recovery(true, List.of());
        }
        Kept first = s.kept.peekFirst();
        if (first == null || first.offset > offset + 1) {
            notRecovered.increment();
            return Recovery.FAILED;
        }
        List<Kept> missed = new ArrayList<>((int) (s.top - offset));
        for (Kept k : s.kept) {
            if (k.offset > offset) {
                missed.add(k);
            }
        }
        recovered.increment();
        return new Recovery(true, missed);
    }

    /**
     * The publishes {@code history} lists (PROTOCOL.md section 1a): without {@code since}, the newest
     * {@code limit} kept (all without a limit); with it, those after its offset, at most {@code limit};
     * oldest first; no publications ({@code null}) when {@code since} names another epoch. The caller
     * holds {@code s}'s lock.
     *
     * @param limit      at most this many; 0: no limit
     * @param sinceEpoch {@code null}: no {@code since}
     */
    Listing list(ChannelStream s, int limit, long sinceOffset, String sinceEpoch) {
        if (sinceEpoch != null && !s.epoch.equals(sinceEpoch)) {
            return new Listing(position(s), null);
        }
        expire(s, clock.getAsLong());
        List<Kept> all = new ArrayList<>(s.kept.size());
        for (Kept k : s.kept) {
            if (sinceEpoch == null || k.offset > sinceOffset) {
                all.add(k);
            }
        }
        List<Kept> chosen = all;
        if (limit > 0 && all.size() > limit) {
            chosen = sinceEpoch == null ? all.subList(all.size() - limit, all.size()) : all.subList(0, limit);
        }
        return new Listing(position(s), List.copyOf(chosen));
    }

    /** Channels with a stream on this node. */
    public int streamCount() {
        return streams.size();
    }

    /** Publishes kept over all streams. */
    public long keptCount() {
        return kept.sum();
    }

    /** Bytes kept, by the estimate {@code HISTORY_MAX_BYTES} bounds. */
    public long keptBytes() {
        return bytes.get();
    }

    /** Counts of kept publishes dropped for {@code why}. */
    public long evicted(Eviction why) {
        return evictions[why.ordinal()].sum();
    }

    /** The most publishes one recovery replays. */
    public int recoveryMax() {
        return recoveryMax;
    }

    /** For tests: every stream's kept publishes, checked for contiguous offsets. */
    boolean consistent() {
        for (ChannelStream s : streams.values()) {
            synchronized (s) {
                long expect = -1;
                for (Iterator<Kept> it = s.kept.iterator(); it.hasNext(); ) {
                    Kept k = it.next();
                    if (expect >= 0 && k.offset != expect) {
                        return false;
                    }
                    expect = k.offset + 1;
                }
                if (expect >= 0 && expect - 1 != s.top) {
                    return false;
                }
            }
        }
        return true;
    }
}
