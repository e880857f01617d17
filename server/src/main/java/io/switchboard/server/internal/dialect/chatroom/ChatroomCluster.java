package io.switchboard.server.internal.dialect.chatroom;

import io.switchboard.protocol.chatroom.TopicChange;
import io.switchboard.protocol.chatroom.TopicType;

import java.util.concurrent.CompletableFuture;

/**
 * What the {@link Chatroom} of a cluster member asks of the others, through Redis: client and
 * request ids unique in the cluster, topic state with one order of changes, the service registry,
 * and the routing of requests and responses between nodes. Thread-safe.
 */
public interface ChatroomCluster {

    /** Makes a node's link from its chatroom. */
    interface Factory {
        ChatroomCluster create(Chatroom chatroom);
    }

    /** A new client id, unique in the cluster. */
    CompletableFuture<Long> clientId();

    /** A new request id, unique in the cluster. */
    long requestId();

    /**
     * Starts following {@code topic}: its updates from now on, then its state (created with
     * {@code type} if Redis has none), handed to {@link Topic#loaded} and {@link Topic#remote} on
     * its owner. A topic Redis cannot create (the cluster holds its most) is loaded with no
     * subscribers allowed: see the implementation.
     */
    void follow(Topic topic, TopicType type);

    /** Stops following {@code topic}, which has no subscribers on this node any more. */
    void unfollow(Topic topic);

    /**
     * Stores {@code applied} as version {@code base + 1} of {@code topic} and tells every node, if the
     * topic is still at version {@code base}. Completes with whether it was stored.
     */
    CompletableFuture<Boolean> commit(Topic topic, long base, TopicChange.Applied applied);

    /** {@code topic}'s commit lost to another node's change: make sure a newer version reaches it. */
    void awaitNewer(Topic topic, long version);

    /** {@code topic} missed updates: load its state again ({@link Topic#reset}). */
    void resync(Topic topic);

    /** Registers {@code service} for client {@code clientId}: completes with {@code null}, or who holds it. */
    CompletableFuture<String> registerService(String service, long clientId);

    void unregisterService(String service, long clientId);

    /** Sends a request to the provider of its service on another node, or fails it. */
    void forwardRequest(Chatroom.Pending request, Object args);

    /** A response to a request from another node; returns whether {@code responder} was awaited for it. */
    boolean respond(ChatroomSession responder, long requestId, Object response);

    /** {@code provider} left: fail the requests other nodes sent it. */
    void providerGone(ChatroomSession provider);

    /** Why the chatroom cannot serve in the cluster (not connected to Redis), or {@code null}. */
    String problem();

    CompletableFuture<Void> close();
}
