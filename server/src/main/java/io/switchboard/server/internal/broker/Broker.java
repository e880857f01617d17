package io.switchboard.server.internal.broker;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.concurrent.EventExecutor;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.server.SlowConsumerPolicy;
import io.switchboard.server.internal.compression.FrameCompressor;
import io.switchboard.server.internal.metrics.Metrics;
import io.switchboard.server.internal.transport.Backpressure;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Routes published messages to the subscribers of a channel (DESIGN.md, "the fan-out hot path").
 *
 * <p>The registry (channel name to {@link ChannelEntry}) is the only structure shared between
 * event loops. Subscribe and unsubscribe change it under one lock, so counts and the set of
 * loops with subscribers always agree; publish takes no lock: it reads the entry's groups and
 * sends one task per other loop that has subscribers, each carrying a retained duplicate of the
 * one encoded frame, and fans out inline on its own loop. Every loop writes to its own
 * subscribers only ({@link LoopTable}, {@link LocalGroup}).
 *
 * <p>In a cluster the broker tells its {@link ClusterLink} of every change of a channel's local
 * count; subscriber counts it reports are the local count plus the other nodes'.
 *
 * <p>Thread-safe. Methods taking a {@link Connection} or {@link Subscription} must be called from
 * that connection's event loop.
 */
public final class Broker {

    /**
     * Frames are encoded with the pooled allocator, not Netty 4.2's default adaptive one: a frame
     * is one small buffer per publish and dialect, freed by the loop that took it, which the
     * pooled allocator's thread caches serve best. A subscriber takes a copy of it into its cork
     * ({@code CORK_FRAMES}) or a duplicate, a young object with the recycler off (Main).
     */
    private final ByteBufAllocator frameAllocator = PooledByteBufAllocator.DEFAULT;
    private final ConcurrentHashMap<String, ChannelEntry> channels = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<EventExecutor, LoopTable> loops = new ConcurrentHashMap<>();
    private final Object lock = new Object();
    private final ClusterLink cluster;
    private final Metrics metrics;
    private final Dialects dialects;
    /** Compresses a delivery for the subscribers that negotiated permessage-deflate (issue 19). */
    private final FrameCompressor compressor;

    /** The channels' streams (issue 18), or {@code null} with history off. */
    private final History history;

    /** A single node's broker; {@code history} {@code null} with history off. */
    public Broker(Metrics metrics, Dialects dialects, FrameCompressor compressor, History history) {
        this.metrics = metrics;
        this.dialects = dialects;
        this.compressor = compressor;
        this.history = history;
        this.cluster = ClusterLink.NONE;
    }

    /**
     * A cluster member's broker; {@code link} makes its link to the others from the broker. With
     * {@code history} (not {@code null}), the streams are the cluster's, in Redis, and
     * {@code history} is this node's copy of their ends, as received.
     */
    public Broker(Metrics metrics, Dialects dialects, FrameCompressor compressor, History history,
                  Function<Broker, ClusterLink> link) {
        this.metrics = metrics;
        this.dialects = dialects;
        this.compressor = compressor;
        this.history = history;
        this.cluster = link.apply(this);
    }

    /** The channels' streams, or {@code null} with history off. */
    public History history() {
        return history;
    }

    /** The node's dialects, by the code a cluster envelope carries. */
    public Dialects dialects() {
        return dialects;
    }

    public ClusterLink cluster() {
        return cluster;
    }

    /** The allocator deliveries must be encoded with. */
    public ByteBufAllocator frameAllocator() {
        return frameAllocator;
    }

    /**
     * Returns the broker's view of a new connection, whose deliveries are written through
     * {@code backpressure}'s context and limits. Call from the connection's event loop.
     */
    public Connection connect(Backpressure backpressure, Dialect dialect, SlowConsumerPolicy policy) {
        LoopTable loop = loops.computeIfAbsent(backpressure.context().executor(), e -> new LoopTable(e, metrics, compressor));
        return new Connection(backpressure, loop, dialect, policy);
    }

    /**
     * The outcome of a subscribe: the membership, the channel's count right after it, and when the
     * node receives the other nodes' publishes to the channel ({@link ClusterLink#READY} on a
     * single node).
     */
    public record Joined(Subscription subscription, int totalSubscribers, CompletableFuture<Void> receiving) {
    }

    /**
     * Adds {@code connection} to the subscribers of {@code channelName}, creating the channel if
     * needed. The caller makes sure the connection is not subscribed already.
     */
    public Joined subscribe(Connection connection, String channelName) {
        return subscribe(connection, channelName, connection.dialect);
    }

    /**
     * {@link #subscribe(Connection, String)}, rendered as {@code renderAs}: a variant of the
     * connection's dialect that shows events its own way (minichats subscriptions with positions).
     */
    public Joined subscribe(Connection connection, String channelName, Dialect renderAs) {
        LoopTable loop = connection.loop;
        Map<String, LocalGroup> groups = loop.groups(renderAs);
        LocalGroup group = groups.get(channelName);
        int local;
        CompletableFuture<Void> receiving;
        synchronized (lock) {
            if (group == null) {
                ChannelEntry entry = channels.computeIfAbsent(channelName, ChannelEntry::new);
                group = new LocalGroup(loop, entry, renderAs);
                entry.addGroup(group);
                groups.put(channelName, group);
            }
            // A group with members keeps its entry registered, so group.entry is the current one.
            local = ++group.entry.subscribers;
            receiving = cluster.localCountChanged(channelName, local == 1);
        }
        metrics.subscriptions.increment();
        return new Joined(group.add(connection), local + cluster.remoteSubscribers(channelName), receiving);
    }

    /** Removes a membership; the channel disappears with its last subscriber. */
    public void unsubscribe(Subscription subscription) {
        metrics.subscriptions.decrement();
        LocalGroup group = subscription.group;
        group.remove(subscription);
        ChannelEntry entry = group.entry;
        synchronized (lock) {
            if (group.isEmpty()) {
                entry.removeGroup(group);
                group.loop.groups(group.dialect).remove(entry.name);
            }
            if (--entry.subscribers == 0) {
                channels.remove(entry.name, entry);
            }
            cluster.localCountChanged(entry.name, false);
        }
        if (history != null && entry.subscribers == 0) {
            history.forgetIfEmpty(entry.name, channels::containsKey);
        }
    }

    /**
     * Where a subscription with positions starts (PROTOCOL.md section 1a): the stream's position when
     * it joined, and what a {@code recover} found ({@code null} without one).
     */
    public record Positioned(Joined joined, History.Position position, History.Recovery recovery) {
    }

    /**
     * A subscribe with positions under way: its subscription, the connection's from now on (so a close
     * ends it), and when its position is known.
     */
    public record Positioning(Subscription subscription, CompletableFuture<Positioned> positioned) {
    }

    /**
     * Subscribes {@code connection} to {@code channelName} rendered as {@code renderAs} (a variant
     * whose deliveries carry their offset) at the channel's current position, and, with
     * {@code recoverEpoch} not {@code null}, finds what a client at {@code recoverOffset} of that epoch
     * missed. Done under the stream's lock: the subscription gets exactly the publishes after the
     * returned position, in offset order, however many are on their way to its loop now, so the
     * caller, on the connection's loop, writes its reply and the missed publishes before returning
     * and the live ones follow with no gap and no duplicate. History must be on.
     */
    public Positioning subscribePositioned(Connection connection, String channelName,
                                           Dialect renderAs, long recoverOffset, String recoverEpoch) {
        if (cluster != ClusterLink.NONE) {
            return subscribePositionedInCluster(connection, channelName, renderAs, recoverOffset, recoverEpoch);
        }
        while (true) {
            History.ChannelStream s = history.stream(channelName);
            synchronized (s) {
                if (s.removed) {
                    continue; // forgotten meanwhile: make it anew
                }
                Joined joined = subscribe(connection, channelName, renderAs);
                joined.subscription().skipUpTo(s.top, s.generation);
                History.Recovery recovery = recoverEpoch == null ? null
                        : history.recover(s, recoverOffset, recoverEpoch);
                return new Positioning(joined.subscription(),
                        CompletableFuture.completedFuture(new Positioned(joined, History.position(s), recovery)));
            }
        }
    }

    /**
     * {@link #subscribePositioned} in a cluster, whose streams are in Redis: the subscription joins at
     * once but skips every publish until its position is known; once the node receives the channel's
     * publishes from every node, the stream is read from Redis, and then, on the connection's loop and
     * under this node's copy's lock, the position is the later of Redis's and the copy's, the missed
     * publishes are Redis's up to its read and the copy's after it, and the subscription skips up to
     * the position. The future completes on the connection's loop, in the task that fixed the
     * position: the caller must write its reply and the missed publishes in that task (a callback
     * added before it completes runs there), since fan-outs of later publishes queue behind it.
     * With the link down, the position is the copy's and a recovery fails.
     */
    private Positioning subscribePositionedInCluster(Connection connection, String channelName,
                                                     Dialect renderAs, long recoverOffset, String recoverEpoch) {
        Joined joined = subscribe(connection, channelName, renderAs);
        joined.subscription().skipUpTo(Long.MAX_VALUE, 0);
        ClusterLink.ReadMode mode = recoverEpoch == null ? ClusterLink.ReadMode.POSITION : ClusterLink.ReadMode.RECOVER;
        return new Positioning(joined.subscription(), joined.receiving()
                .exceptionally(failure -> null)
                .thenCompose(ignored -> cluster.readKept(channelName, mode, recoverOffset, history.recoveryMax()))
                .thenApplyAsync(read -> positionedAt(joined, read, recoverOffset, recoverEpoch),
                        connection.loop.executor));
    }

    private Positioned positionedAt(Joined joined, ClusterLink.StreamRead read, long recoverOffset, String recoverEpoch) {
        String channelName = joined.subscription().entry().name;
        while (true) {
            History.ChannelStream s = history.stream(channelName);
            synchronized (s) {
                if (s.removed) {
                    continue;
                }
                History.Position at;
                History.Recovery recovery = null;
                if (read == null) {
                    at = History.position(s);
                    if (recoverEpoch != null) {
                        recovery = History.Recovery.FAILED;
                    }
                } else {
                    long top = s.epoch.equals(read.epoch()) ? Math.max(read.top(), s.top) : read.top();
                    at = new History.Position(read.epoch(), JsonStrings.quote(read.epoch()), top);
                    if (recoverEpoch != null) {
                        recovery = recoveryOf(s, read, top, recoverOffset, recoverEpoch);
                    }
                }
                if (recovery != null) {
                    history.counted(recovery.recovered());
                }
                // A floor of Redis's position when the copy is of another epoch: the copy starts afresh,
                // in a new generation, at the first publish of this epoch it receives.
                joined.subscription().skipUpTo(at.offset(),
                        read == null || s.epoch.equals(read.epoch()) ? s.generation : s.generation + 1);
                return new Positioned(joined, at, recovery);
            }
        }
    }

    /**
     * What a client at {@code offset} of {@code epoch} missed up to {@code top}: Redis's publishes up
     * to its read, then this node's copy's; all or nothing. The caller holds {@code s}'s lock.
     */
    private History.Recovery recoveryOf(History.ChannelStream s, ClusterLink.StreamRead read, long top, long offset,
                                        String epoch) {
        if (!read.epoch().equals(epoch) || offset > top || top - offset > history.recoveryMax()) {
            return History.Recovery.FAILED;
        }
        List<History.Kept> missed = new ArrayList<>();
        if (offset < read.top()) {
            if (read.firstOffset() != offset + 1 || read.publications().size() != read.top() - offset) {
                return History.Recovery.FAILED; // no longer kept, or the read was refused as too long
            }
            missed.addAll(read.publications());
        }
        if (top > Math.max(offset, read.top())) {
            List<History.Kept> tail = history.tail(s, read.epoch(), Math.max(offset, read.top()));
            if (tail == null) {
                return History.Recovery.FAILED;
            }
            missed.addAll(tail);
        }
        return new History.Recovery(true, missed);
    }

    /**
     * What {@code history} lists of {@code channelName} (see {@link History#list}): without
     * publications when {@code sinceEpoch} is not the stream's; in a cluster read from Redis, failing
     * when the link is down. A channel without a stream gets one, so the epoch it answers is the one
     * its next publishes carry. History must be on.
     */
    public CompletableFuture<History.Listing> history(String channelName, int limit, long sinceOffset,
                                                      String sinceEpoch) {
        if (cluster != ClusterLink.NONE) {
            ClusterLink.ReadMode mode = sinceEpoch == null ? ClusterLink.ReadMode.NEWEST : ClusterLink.ReadMode.SINCE;
            return cluster.readKept(channelName, mode, sinceOffset, limit).thenApply(read -> {
                if (read == null) {
                    throw new IllegalStateException("the cluster's history is out of reach: Redis is down");
                }
                History.Position at = new History.Position(read.epoch(), JsonStrings.quote(read.epoch()), read.top());
                return new History.Listing(at, sinceEpoch != null && !sinceEpoch.equals(read.epoch()) ? null
                        : read.publications());
            });
        }
        History.Listing listing = null;
        while (listing == null) {
            History.ChannelStream s = history.stream(channelName);
            synchronized (s) {
                if (!s.removed) {
                    listing = history.list(s, limit, sinceOffset, sinceEpoch);
                }
            }
        }
        history.sweepIfDue(channels::containsKey); // a node without publishes sweeps here too
        return CompletableFuture.completedFuture(listing);
    }

    /**
     * Makes {@code member}, whose connection holds {@code subscription}, present in the subscription's
     * channel (PROTOCOL.md section 1a, "Presence"): listed by {@link #presence} here, noted for the
     * other nodes by the cluster link, and announced to the channel on every node as a
     * {@link ChannelEvent.Kind#JOINED} event, which each dialect renders its own way. Call from the
     * connection's event loop right after {@link #subscribe}, once the dialect wrote what must precede
     * the announcement (disposable's {@code welcome}).
     */
    public void join(Subscription subscription, RosterMember member) {
        ChannelEntry entry = subscription.group.entry;
        Connection connection = subscription.connection;
        entry.roster.put(member.id(), member);
        cluster.memberJoined(entry.name, member);
        ChannelEvent joined = ChannelEvent.presence(ChannelEvent.Kind.JOINED, member.dialect(), member.id(),
                member.name(), connection);
        publish(connection.loop, entry, joined);
        forward(entry.name, joined);
    }

    /**
     * Ends a membership {@link #join} began: unsubscribes, drops {@code member} from the channel's
     * presence here and in the cluster, and announces {@code kind} ({@link ChannelEvent.Kind#LEFT},
     * or {@link ChannelEvent.Kind#LEFT_UNANNOUNCED}) to the channel on every node. Call from the
     * connection's event loop.
     */
    public void leave(Subscription subscription, RosterMember member, ChannelEvent.Kind kind) {
        ChannelEntry entry = subscription.group.entry;
        entry.roster.remove(member.id(), member);
        unsubscribe(subscription);
        cluster.memberLeft(entry.name, member);
        // The channel may be gone here with its last local member; the other nodes still hear of it.
        publishEverywhere(subscription.connection.loop, entry.name,
                ChannelEvent.presence(kind, member.dialect(), member.id(), member.name(), null));
    }

    /**
     * The members of a channel on every node, and whether that is all of them ({@code false}: the
     * other nodes' could not be read, and {@link #members} are this node's only).
     */
    public record Presence(List<RosterMember> members, boolean complete) {
    }

    /**
     * The members of {@code channelName} on this node and, in a cluster, on the other live nodes
     * (PROTOCOL.md section 1a, "Presence"); in no particular order. Completes at once on a single node;
     * in a cluster, when Redis answered (on one of the link's threads) or, with this node's members
     * only, when it cannot. Never completes exceptionally. Any thread.
     */
    public CompletableFuture<Presence> presence(String channelName) {
        metrics.presenceRequests.increment();
        CompletableFuture<List<RosterMember>> remote = cluster.remoteMembers(channelName);
        return remote.thenApply(others -> {
            ChannelEntry entry = channels.get(channelName);
            List<RosterMember> members = new ArrayList<>(entry == null ? List.of() : entry.roster.values());
            if (others == null) {
                metrics.presencePartial.increment();
                return new Presence(members, false);
            }
            members.addAll(others);
            return new Presence(members, true);
        });
    }

    /** Runs {@code action} under the broker's lock if no channel named {@code name} exists. */
    public void ifNoChannel(String name, Runnable action) {
        synchronized (lock) {
            if (!channels.containsKey(name)) {
                action.run();
            }
        }
    }

    /** The channel's subscribers on every node. */
    public int totalSubscribers(ChannelEntry entry) {
        return entry.subscribers + cluster.remoteSubscribers(entry.name);
    }

    /** Hands an event to the other nodes; a no-op on a single node. */
    public void forward(String channel, ChannelEvent event) {
        if (!event.sharedKept) {
            cluster.publish(channel, event);
        }
    }

    /**
     * Publishes {@code event} to {@code channelName} here and on the other nodes: the delivery
     * path of events that are not on a hot path (presence), whose channel may be gone here.
     * Must be called from {@code origin}'s event loop, or with {@code origin} {@code null}.
     */
    public void publishEverywhere(LoopTable origin, String channelName, ChannelEvent event) {
        if (kept(event)) {
            publishKept(channelName, event);
        } else {
            ChannelEntry entry = channels.get(channelName);
            if (entry != null) {
                publish(origin, entry, event);
            }
        }
        forward(channelName, event);
    }

    /** Whether {@code event} goes into its channel's stream: a message not numbered yet, with history on. */
    private boolean kept(ChannelEvent event) {
        return history != null && event.kind == ChannelEvent.Kind.MESSAGE && event.offset < 0 && !event.sharedKept;
    }

    /**
     * Appends a message to its channel's stream and hands it to every loop with subscribers, under
     * the stream's lock and always in a task, the publisher's own loop too: so every loop receives
     * the channel's publishes in offset order, whichever loops they come from.
     */
    private void publishKept(String channelName, ChannelEvent event) {
        if (cluster != ClusterLink.NONE) {
            // A line client's own lines must not come back to it, and one that comes back from Redis
            // has no author on this node: in a cluster the line chat's lines are not kept (unnumbered).
            if (event.dialect.echo() && cluster.publishKept(channelName, event)) {
                event.sharedKept = true; // numbered by Redis, delivered here too when it comes back
                return;
            }
            // The link is down: delivered here, unnumbered, and kept nowhere.
            ChannelEntry entry = channels.get(channelName);
            if (entry != null) {
                fanOut(null, entry, event);
            }
            return;
        }
        while (true) {
            History.ChannelStream s = history.stream(channelName);
            synchronized (s) {
                if (s.removed) {
                    continue;
                }
                history.append(s, event);
                ChannelEntry entry = channels.get(channelName);
                if (entry != null) {
                    fanOut(null, entry, event);
                }
                break;
            }
        }
        history.sweepIfDue(channels::containsKey);
    }

    /**
     * Delivers {@code event} to every subscriber of {@code entry}: each dialect present renders it
     * once ({@link Dialect#render}) into a buffer whose bytes all its subscribers get; when some of
     * them negotiated permessage-deflate, that frame is also compressed, once, and they all get the
     * compressed bytes (the others the plain ones). Must be
     * called from {@code origin}'s event loop, whose subscribers are served inline; with
     * {@code origin} {@code null} (a publish from outside the loops) every loop gets a task.
     * Does not take ownership of the event's content.
     */
    public void publish(LoopTable origin, ChannelEntry entry, ChannelEvent event) {
        if (kept(event)) {
            publishKept(entry.name, event);
            return;
        }
        fanOut(origin, entry, event);
    }

    /**
     * In a cluster with history: delivers a message Redis numbered ({@code event.offset}, of
     * {@code epoch}), received from the cluster, this node's own included, after noting it in this
     * node's copy of the stream. Called by the cluster link, in the order Redis published them.
     */
    public void deliverKept(String channelName, String epoch, ChannelEvent event) {
        while (true) {
            History.ChannelStream s = history.stream(channelName);
            synchronized (s) {
                if (s.removed) {
                    continue;
                }
                history.record(s, epoch, event);
                ChannelEntry entry = channels.get(channelName);
                if (entry != null) {
                    fanOut(null, entry, event);
                }
                break;
            }
        }
        history.sweepIfDue(channels::containsKey);
    }

    /**
     * Delivers an event received from another node, as it is: never kept here (a message of a node
     * without history, in a cluster whose nodes disagree on it, goes out unnumbered). Called by the
     * cluster link. Does not take ownership of the event's content.
     */
    public void deliverReceived(ChannelEntry entry, ChannelEvent event) {
        fanOut(null, entry, event);
    }

    /** {@link #publish} without the stream: the frames rendered and handed to every group. */
    private void fanOut(LoopTable origin, ChannelEntry entry, ChannelEvent event) {
        // One frame per dialect, rendered on first need, so a channel of one dialect renders once; and
        // its compressed variant, made on the first group that has a member wanting it.
        FrameVariants[] frames = null;
        int rendered = 0;
        LocalGroup[] groups = entry.groups;
        LocalGroup local = null;
        FrameVariants localFrames = null;
        try {
            for (LocalGroup group : groups) {
                Dialect d = group.dialect;
                int code = d.code();
                if ((rendered & (1 << code)) == 0) {
                    rendered |= 1 << code;
                    if (frames == null) {
                        frames = new FrameVariants[Dialect.MAX_CODE + 1];
                    }
                    ByteBuf frame = d.render(frameAllocator, entry, event);
                    frames[code] = frame == null ? null : new FrameVariants(frame);
                }
                FrameVariants f = frames[code];
                if (f == null) {
                    continue; // this dialect does not show the event
                }
                if (group.loop == origin && local == null) {
                    // The publisher's loop is served last, once the other loops have their tasks.
                    local = group;
                    localFrames = f;
                } else {
                    send(origin, group, f, event);
                }
            }
            if (local != null) {
                send(origin, local, localFrames, event);
            }
        } finally {
            if (frames != null) {
                for (FrameVariants f : frames) {
                    if (f != null) {
                        f.frame().release();
                        f.release();
                    }
                }
            }
        }
    }

    /** Sends a publish to one group: compressed to its members that negotiated permessage-deflate, if any. */
    private void send(LoopTable origin, LocalGroup group, FrameVariants frames, ChannelEvent event) {
        ByteBuf deflated = group.deflating != 0 ? frames.deflated(compressor) : null;
        // The batched payload (no raw newline) once per publish, and only if some member is batched.
        ByteBuf batched = group.batching != 0 ? frames.batched() : null;
        Fanout.send(origin, group.targets, frames.frame(), deflated, batched, skip(group.dialect, event), null,
                event.offset, event.generation);
    }

    /**
     * The connection of {@code dialect}'s group an event must not reach: its author when the dialect
     * does not echo (line), or, for a presence event, when the group is not of the author's own
     * dialect (a minichats member's join does not reach its own {@code join_leave} subscription, while a
     * disposable member gets its own {@code info}); {@code null} otherwise.
     */
    private static Connection skip(Dialect dialect, ChannelEvent event) {
        boolean echo = dialect.echo() && (event.kind == ChannelEvent.Kind.MESSAGE || dialect == event.dialect);
        return echo ? null : event.author;
    }

    /** The channels with subscribers on this node. */
    public int localChannelCount() {
        return channels.size();
    }

    /** Returns the channel named {@code name}, or {@code null}. */
    public ChannelEntry channel(String name) {
        return channels.get(name);
    }

    /** Returns the channels whose local subscriber counts are not 0, with their counts. */
    public Map<String, Integer> localCounts() {
        Map<String, Integer> counts = new HashMap<>();
        for (ChannelEntry e : channels.values()) {
            int n = e.subscribers;
            if (n > 0) {
                counts.put(e.name, n);
            }
        }
        return counts;
    }

    /** Returns a snapshot of every channel of the cluster with its total count, ordered by name (UTF-8 bytes). */
    public List<Listed> channels() {
        Map<String, Integer> remote = cluster.remoteTotals();
        List<Listed> list = new ArrayList<>(channels.size() + remote.size());
        for (ChannelEntry e : channels.values()) {
            int total = e.subscribers + cluster.remoteSubscribers(e.name);
            if (total > 0) {
                list.add(new Listed(e.name, e.utf8Name, e.quotedName(), total));
            }
        }
        for (Map.Entry<String, Integer> r : remote.entrySet()) {
            if (!channels.containsKey(r.getKey())) {
                String name = r.getKey();
                list.add(new Listed(name, name.getBytes(StandardCharsets.UTF_8), JsonStrings.quote(name), r.getValue()));
            }
        }
        list.sort((a, b) -> Arrays.compareUnsigned(a.utf8Name, b.utf8Name));
        return list;
    }

    /** A channel as listed: its name and its subscribers on every node. */
    public record Listed(String name, byte[] utf8Name, byte[] quotedName, int totalSubscribers) {
    }
}
