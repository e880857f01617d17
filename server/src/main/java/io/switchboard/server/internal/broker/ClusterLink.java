package io.switchboard.server.internal.broker;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * What the {@link Broker} tells the other nodes of a cluster and asks of them. {@link #NONE} is a
 * single node's: nothing to tell, nobody else. Thread-safe.
 */
public interface ClusterLink {

    /** The link of a node on its own. */
    ClusterLink NONE = new ClusterLink() {
    };

    CompletableFuture<Void> READY = CompletableFuture.completedFuture(null);

    CompletableFuture<List<RosterMember>> NO_MEMBERS = CompletableFuture.completedFuture(List.of());

    /** What {@link #remoteMembers} completes with when the other nodes' members could not be read. */
    CompletableFuture<List<RosterMember>> MEMBERS_UNKNOWN = CompletableFuture.completedFuture(null);

    /**
     * Notes that {@code channel}'s local subscriber count changed. Called by the broker under its
     * lock; {@code first} when the channel just got its first local subscriber. Returns a future
     * that completes once this node receives the other nodes' publishes to {@code channel}
     * (completed at once when it already does, or when the cluster is unreachable).
     */
    default CompletableFuture<Void> localCountChanged(String channel, boolean first) {
        return READY;
    }

    /** Forwards an event to the other nodes' subscribers of {@code channel}. */
    default void publish(String channel, ChannelEvent event) {
    }

    /**
     * The members of {@code channel} on the other nodes that are alive, of every dialect, for presence
     * and a disposable {@code welcome}; the future completes at once on a single node (none). It
     * completes with {@code null} when they could not be read (the link is down, or Redis failed or
     * did not answer in time), never exceptionally; it may complete on any thread.
     */
    default CompletableFuture<List<RosterMember>> remoteMembers(String channel) {
        return NO_MEMBERS;
    }

    /** Notes a member of {@code channel} on this node, for the other nodes' presence. */
    default void memberJoined(String channel, RosterMember member) {
    }

    /** Notes that a member of {@code channel} on this node left. */
    default void memberLeft(String channel, RosterMember member) {
    }

    /**
     * How {@link #readKept} reads a channel's stream: its position only; all the publishes after an
     * offset or none when more than a count ({@code recover}); at most a count after an offset
     * ({@code history} with {@code since}); the newest count ({@code history}).
     */
    enum ReadMode {
        POSITION, RECOVER, SINCE, NEWEST
    }

    /**
     * A channel's stream as the cluster keeps it (issue 18): its epoch and latest offset, and the
     * publishes read, in offset order, the first at {@code firstOffset}.
     */
    record StreamRead(String epoch, long top, long firstOffset, List<History.Kept> publications) {
    }

    /**
     * Appends a message (history on) to its channel's stream in Redis and publishes it to every node,
     * this one included, numbered: the node delivers its own publishes when they come back
     * ({@link Broker#deliverKept}). Returns {@code false} when it cannot (the link is down, or
     * this is a single node): the caller then delivers locally, unnumbered.
     */
    default boolean publishKept(String channel, ChannelEvent event) {
        return false;
    }

    /**
     * Reads {@code channel}'s stream (see {@link ReadMode}); completes with {@code null} when the
     * cluster cannot be asked (the link is down). Never completes exceptionally.
     */
    default CompletableFuture<StreamRead> readKept(String channel, ReadMode mode, long after, int count) {
        return CompletableFuture.completedFuture(null);
    }

    /** Subscribers of {@code channel} on the other nodes. */
    default int remoteSubscribers(String channel) {
        return 0;
    }

    /** Channel to subscribers on the other nodes, for channels that have some; a live view. */
    default Map<String, Integer> remoteTotals() {
        return Map.of();
    }

    /** Publishes that did not reach the other nodes, since the start. */
    default long unforwarded() {
        return 0;
    }

    /** Other nodes forgotten because they went silent for the node timeout, since the start. */
    default long nodesExpired() {
        return 0;
    }

    /**
     * This node's name in the cluster, under which it keeps its Redis hash alive while it runs;
     * {@code null} on a single node.
     */
    default String nodeName() {
        return null;
    }

    /** Why the node is not fully serving, for {@code /health}; {@code null} when it is. */
    default String problem() {
        return null;
    }

    /**
     * Leaves the cluster: this node's subscribers stop being counted elsewhere. The future
     * completes when the link's resources are released.
     */
    default CompletableFuture<Void> close() {
        return READY;
    }
}
