package io.switchboard.server.internal.dialect.randomchat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.switchboard.protocol.WebSocketFrames;
import io.switchboard.protocol.randomchat.RandomchatDecoder;
import io.switchboard.protocol.randomchat.RandomchatEncoder;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.broker.Connection;
import io.switchboard.server.internal.broker.Fanout;
import io.switchboard.server.internal.broker.FrameVariants;
import io.switchboard.server.internal.broker.LoopTable;
import io.switchboard.server.internal.broker.Targets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The randomchat dialect of one node (PROTOCOL.md section 5): its {@link RandomchatStore}, and the
 * registry of the live connections of each user on this node, through which the events of a chat
 * reach its members. A user may hold several connections at once (devices); each gets every event.
 *
 * <p>An event is rendered once, as a complete WebSocket frame, and handed to the broker's
 * {@link Fanout}: one task per event loop with recipients, carrying a duplicate of the frame and
 * the recipients' connections, whose sessions write it (DESIGN.md: one task per loop, not per
 * recipient). In a cluster the store hands it to the nodes of
 * the other recipients, whose hubs deliver it the same way ({@link #deliverLocal}).
 *
 * <p>Thread-safe.
 */
public final class RandomchatHub {

    private static final Logger logger = LoggerFactory.getLogger(RandomchatHub.class);

    private final RandomchatStore store;
    private final RandomchatDecoder decoder;
    private final ByteBufAllocator alloc;
    private final ConcurrentHashMap<String, Set<RandomchatSession>> sessions = new ConcurrentHashMap<>();
    /** Sessions that logged in or are logging in and have not recorded their logout yet. */
    private final AtomicInteger active = new AtomicInteger();
    /** The node is stopping: a logout that fails is not tried again. */
    private volatile boolean stopping;

    /**
     * @param stores opens the dialect's store for this hub: SQLite in {@code DATA_DIR} on one node,
     *               Redis in a cluster (the node chooses)
     */
    public RandomchatHub(SwitchboardConfig config, ByteBufAllocator alloc,
                         Function<RandomchatHub, RandomchatStore> stores) {
        this.alloc = alloc;
        this.decoder = new RandomchatDecoder(config.maxMessageBytes(), config.maxJsonDepth(),
                config.maxClientNameBytes(), config.maxChannelNameBytes(), config.randomchatMaxTextBytes());
        this.store = stores.apply(this);
    }

    RandomchatStore store() {
        return store;
    }

    RandomchatDecoder decoder() {
        return decoder;
    }

    /** Adds a session of {@code phone}: from now on it receives the user's events. */
    void register(String phone, RandomchatSession session) {
        active.incrementAndGet();
        // Added inside compute, atomically with an unregister that removes an emptied set: adding to
        // a set that was just taken out of the map would lose a live connection.
        sessions.compute(phone, (p, set) -> {
            Set<RandomchatSession> s = set != null ? set : ConcurrentHashMap.newKeySet();
            s.add(session);
            return s;
        });
    }

    /**
     * How many sessions of {@code phone} are registered here: those that logged in (or are logging
     * in) and whose logout the store has not recorded yet. For tests, to wait until a close is handled.
     */
    int sessionCount(String phone) {
        Set<RandomchatSession> set = sessions.get(phone);
        return set == null ? 0 : set.size();
    }

    /** Hands back a message that did not reach a session of {@code phone} that is closed already. */
    public void requeue(String phone, RandomchatStore.Pending message) {
        routeAgain(store.requeue(phone, message));
    }

    /** Removes a session of {@code phone} (its login was refused, or it logged out). */
    void unregister(String phone, RandomchatSession session) {
        sessions.computeIfPresent(phone, (p, set) -> {
            set.remove(session);
            return set.isEmpty() ? null : set;
        });
        active.decrementAndGet();
    }

    /**
     * Returns {@code operation}'s outcome once its event has been handed to the members' sessions,
     * so that the requester's own copy is queued on its event loop before the answer to its request.
     */
    CompletableFuture<RandomchatStore.Outcome> dispatch(CompletableFuture<RandomchatStore.Outcome> operation) {
        return operation.thenApply(outcome -> {
            deliver(outcome);
            return outcome;
        });
    }

    /**
     * Records that the user's {@code connection} closed, with the messages that did not reach it,
     * after which the session no longer receives events. The session stays registered until the
     * store has recorded the logout: an event routed to the user meanwhile still finds it, and the
     * closed session hands it back behind its logout; unregistered earlier, the event would be
     * handed back as for a connection the store still counts online, and dropped.
     */
    void logout(String phone, long connection, RandomchatSession session, List<RandomchatStore.Pending> missed,
                List<Long> delivered) {
        logoutUntilRecorded(phone, connection, session, missed, delivered, System.currentTimeMillis(), 0);
    }

    /**
     * A logout that fails (the store cannot write) is tried again until it is recorded, or the node
     * stops: else the user would stay online for good, and what it missed would be lost. A logout is
     * idempotent: the failed attempt changed nothing.
     */
    private void logoutUntilRecorded(String phone, long connection, RandomchatSession session,
                                     List<RandomchatStore.Pending> missed, List<Long> delivered, long now,
                                     int attempt) {
        store.logout(phone, connection, missed, delivered, now).whenComplete((outcomes, failure) -> {
            if (failure == null) {
                unregister(phone, session);
                outcomes.forEach(this::deliver);
                return;
            }
            if (stopping) {
                logger.warn("randomchat: could not record the logout of {} before the stop: {}", phone, failure.toString());
                unregister(phone, session);
                return;
            }
            long delayMillis = Math.min(5_000L, 100L << Math.min(attempt, 6));
            logger.warn("randomchat: could not record the logout of {}, trying again in {} ms: {}", phone, delayMillis,
                    failure.toString());
            GlobalEventExecutor.INSTANCE.schedule(() -> logoutUntilRecorded(phone, connection, session, missed,
                    delivered, now, attempt + 1), delayMillis, TimeUnit.MILLISECONDS);
        });
    }

    private void routeAgain(CompletableFuture<List<RandomchatStore.Outcome>> handedBack) {
        handedBack.whenComplete((outcomes, failure) -> {
            if (failure != null) {
                logger.warn("randomchat: could not settle undelivered messages: {}", failure.toString());
            } else {
                outcomes.forEach(this::deliver);
            }
        });
    }

    private void deliver(RandomchatStore.Outcome outcome) {
        ByteBuf frame = render(outcome);
        try {
            deliverLocal(outcome.local(), frame, outcome.message());
            if (!outcome.remote().isEmpty()) {
                store.forward(outcome.remote(), frame, outcome.message());
            }
        } finally {
            frame.release();
        }
    }

    /**
     * Hands {@code frame}, a complete WebSocket text frame, to every session of each of
     * {@code phones} on this node, through the broker's {@link Fanout}: one task per event loop with
     * recipients there, each session taking it with {@code message} as the fan-out's tag
     * ({@link RandomchatSession}'s receiver makes the write promise that says whether a message got
     * through). A message ({@code message} not {@code null}) for a user with no session here any more,
     * or whose sessions' loop is shutting down, goes back to the store, to be kept unless the user is
     * online elsewhere. Does not take ownership of {@code frame}.
     */
    public void deliverLocal(List<String> phones, ByteBuf frame, RandomchatStore.Pending message) {
        // Each loop's recipients, and the phone of each, for a message its loop cannot take.
        Map<LoopTable, Recipients> byLoop = new LinkedHashMap<>();
        // Compressed once, for the recipients that negotiated permessage-deflate on every loop.
        FrameVariants frames = new FrameVariants(frame);
        for (String phone : phones) {
            Set<RandomchatSession> set = sessions.get(phone);
            if (set == null || set.isEmpty()) {
                if (message != null) {
                    routeAgain(store.requeue(phone, message));
                }
                continue;
            }
            for (RandomchatSession session : set) {
                Recipients r = byLoop.computeIfAbsent(session.connection.loop, l -> new Recipients());
                r.connections.add(session.connection);
                r.phones.add(phone);
            }
        }
        try {
            for (Map.Entry<LoopTable, Recipients> e : byLoop.entrySet()) {
                Recipients r = e.getValue();
                Targets targets = Targets.of(e.getKey(), r.connections.toArray(new Connection[0]));
                if (!Fanout.send(null, targets, frames, null, message) && message != null) {
                    for (String phone : r.phones) {
                        routeAgain(store.requeue(phone, message)); // its event loop is shutting down
                    }
                }
            }
        } finally {
            frames.release();
        }
    }

    /** One event loop's recipients of an event: their connections, and the phone of each. */
    private static final class Recipients {
        final List<Connection> connections = new ArrayList<>(4);
        final List<String> phones = new ArrayList<>(4);
    }

    /** The outcome's event as its members receive it. The caller must release the returned frame. */
    private ByteBuf render(RandomchatStore.Outcome o) {
        ByteBuf payload;
        switch (o.event()) {
            case NEW_MEMBER:
                payload = RandomchatEncoder.newMember(alloc, o.chat(), o.user());
                break;
            case MESSAGE:
                payload = RandomchatEncoder.message(alloc, o.chat(), o.user(), o.message().date(), o.message().text());
                break;
            case CHAT_DELETED:
                payload = RandomchatEncoder.chatDeleted(alloc, o.chat());
                break;
            case MEMBER_REMOVED:
                payload = RandomchatEncoder.memberRemoved(alloc, o.chat(), o.user());
                break;
            default:
                throw new IllegalStateException("Unhandled event: " + o.event());
        }
        return frame(alloc, payload);
    }

    /**
     * Returns {@code payload} as one complete, unmasked WebSocket text frame, whose bytes serve every
     * recipient. Takes ownership of {@code payload}; the caller must release the returned buffer.
     */
    static ByteBuf frame(ByteBufAllocator alloc, ByteBuf payload) {
        try {
            int length = payload.readableBytes();
            ByteBuf frame = alloc.directBuffer(WebSocketFrames.textHeaderLength(length) + length);
            WebSocketFrames.writeTextHeader(frame, length);
            return frame.writeBytes(payload);
        } finally {
            payload.release();
        }
    }

    /** Why randomchat cannot serve, or {@code null}. */
    public String problem() {
        return store.problem();
    }

    /**
     * Closes the store once every session closed by the stop has recorded its logout (for at most
     * {@code grace}), so that the users' disconnection dates and their missed messages are kept.
     */
    public CompletableFuture<Void> close(long graceMillis) {
        stopping = true;
        CompletableFuture<Void> idle = new CompletableFuture<>();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(graceMillis);
        waitIdle(idle, deadline);
        return idle.thenCompose(ignored -> store.close());
    }

    private void waitIdle(CompletableFuture<Void> idle, long deadline) {
        if (active.get() <= 0 || System.nanoTime() - deadline > 0) {
            idle.complete(null);
            return;
        }
        GlobalEventExecutor.INSTANCE.schedule(() -> waitIdle(idle, deadline), 10, TimeUnit.MILLISECONDS);
    }
}
