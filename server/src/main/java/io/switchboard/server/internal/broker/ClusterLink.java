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
     * The disposable members of {@code room} on the other nodes, for a {@code welcome}; the future
     * completes at once on a single node. It never completes exceptionally (on trouble: none).
     */
    default CompletableFuture<List<RosterMember>> remoteMembers(String room) {
        return NO_MEMBERS;
    }

    /** Notes a disposable member of {@code room} on this node, for the other nodes' welcomes. */
    default void memberJoined(String room, RosterMember member) {
    }

    /** Notes that a disposable member of {@code room} on this node left. */
    default void memberLeft(String room, RosterMember member) {
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
