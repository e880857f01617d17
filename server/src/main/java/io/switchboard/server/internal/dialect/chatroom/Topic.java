package io.switchboard.server.internal.dialect.chatroom;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.switchboard.protocol.chatroom.ChangeRejected;
import io.switchboard.protocol.chatroom.ChatroomEncoder;
import io.switchboard.protocol.chatroom.JsonValues;
import io.switchboard.protocol.chatroom.TopicChange;
import io.switchboard.protocol.chatroom.TopicType;
import io.switchboard.server.internal.broker.Fanout;
import io.switchboard.server.internal.broker.FrameVariants;
import io.switchboard.server.internal.broker.LoopTable;
import io.switchboard.server.internal.broker.Targets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One chatroom topic on this node (PROTOCOL.md section 4): its type, value and version, and its
 * subscribers here. Every change of a topic is applied by one thread, its {@link #owner}, in the
 * order the owner takes them, so all subscribers see the same versions in the same order.
 *
 * <p>An applied change is encoded once into a frame and handed to the broker's {@link Fanout} with
 * each event loop's subscribers: one task per loop that has subscribers, carrying a duplicate of the
 * frame, and the loop writes it to each (into its cork: no encoding per subscriber). A new subscriber's
 * snapshot is sent the same way, so it reaches the subscriber before any later update. Always as a
 * task, also to the owner's own loop (no origin given to the fan-out): no subscriber is written to
 * while the topic walks its state, and an update keeps its place behind what the owner's loop
 * already had to run, as before the fan-out was shared.
 *
 * <p>In a cluster, Redis holds the value and decides the order: a change is committed there only
 * if the topic is still at the version it was validated against ({@link ChatroomCluster#commit}),
 * and the other nodes apply it from Redis's update stream. Until the topic's state is loaded, and
 * while a change of this node waits for Redis, the topic's work waits in a queue.
 *
 * <p>Memory (issue 15): the value's estimated heap cost ({@link JsonValues#heapCost}) is kept
 * beside its JSON size and charged to the node's total ({@link Chatroom#reserve}); a change that
 * would make the value, or the node's values together, cost more than allowed is rejected. On a
 * single node a topic without subscribers for {@code CHATROOM_TOPIC_IDLE_TIMEOUT} leaves the node
 * with its value ({@link #expireIfIdle}); in a cluster a node drops its copy when its last
 * subscriber here leaves, and Redis keeps the value. Either way the topic is then
 * {@link #dropped}: whatever still reaches it (a subscribe or change that looked it up just before)
 * goes to its successor, so a subscribe after the expiry creates the topic anew, empty.
 *
 * <p>Thread-safety: everything runs on {@link #owner}; the fields the inspection page reads are
 * volatile, and values are never modified once set ({@link TopicChange} copies).
 */
public final class Topic {

    private static final Logger logger = LoggerFactory.getLogger(Topic.class);
    private static final ChatroomSession[] NONE = new ChatroomSession[0];

    public final String name;
    final EventExecutor owner;
    /** Written by the server only, and never shared with other nodes. */
    final boolean special;
    private final Chatroom room;

    public volatile TopicType type;
    volatile Object value;
    public volatile long version;
    /** Copy-on-write, for the inspection page. */
    volatile ChatroomSession[] subscribers = NONE;

    /** Each event loop's subscribers, as snapshots (copy-on-write): a fan-out task holds the one it was given. */
    private final Map<LoopTable, Targets> byLoop = new LinkedHashMap<>();
    /** Work that waits for the state to load or for this node's change to be committed. */
    private final ArrayDeque<Runnable> waiting = new ArrayDeque<>();
    /** The value's size as JSON, -1 until a change measured it. */
    private long size = -1;
    /** The value's estimated heap cost, as charged to the node (special topics: not counted, 0). */
    private long cost;
    /** When the last subscriber left ({@link System#nanoTime}); meaningful while there are none. */
    private long idleSince;
    /** The pending check for {@link #expireIfIdle}, or {@code null}. */
    private ScheduledFuture<?> expiry;
    private boolean loaded;
    private boolean committing;
    /** Held by an action of the 2023 protocol ({@link Transition}): other work waits until it is released. */
    private boolean held;
    /** {@link #drain} is running (on the owner): a nested call leaves the work to it. */
    private boolean draining;
    /** Set when the topic left the node's map: what still reaches it goes to its successor. */
    private boolean dropped;
    /** Why the cluster could not load the topic; {@code null} while it could. */
    private String unavailable;

    Topic(Chatroom room, String name, boolean special, EventExecutor owner) {
        this.room = room;
        this.name = name;
        this.special = special;
        this.owner = owner;
    }

    /** Runs {@code task} on the owner: inline when called from it. */
    public void run(Runnable task) {
        if (owner.inEventLoop()) {
            task.run();
        } else {
            try {
                owner.execute(task);
            } catch (RejectedExecutionException e) {
                logger.debug("Topic {}: its owner is shutting down; dropped a task", name);
            }
        }
    }

    /** Sets the state the topic starts from (a new topic's empty value, or what Redis holds) and serves what waited. */
    public void loaded(TopicType type, Object value, long version) {
        this.type = type;
        this.value = value;
        this.version = version;
        this.size = -1;
        cost(value);
        this.loaded = true;
        if (subscribers.length == 0) {
            idle(); // until its first subscriber lands
        }
        drain();
    }

    /** The cluster cannot load the topic: those who wait are told, and the topic leaves the node. */
    public void unavailable(String why) {
        unavailable = why;
        loaded = true;
        dropped = true;
        room.dropReplica(this);
        for (Runnable r = waiting.poll(); r != null; r = waiting.poll()) {
            r.run();
        }
    }

    /**
     * Adds {@code s} to the subscribers and sends it the current value as a {@code set} update; a
     * subscriber subscribing again gets the current value again. {@code asked} is the type {@code s}
     * asked for: the type of a successor it creates, should this topic have left the node.
     */
    void subscribe(ChatroomSession s, TopicType asked) {
        if (unavailable != null) {
            room.subscribeFailed(s, name, unavailable);
            return;
        }
        if (dropped) {
            room.resubscribe(this, s, asked);
            return;
        }
        if (!loaded || committing || held) {
            waiting.add(() -> subscribe(s, asked));
            return;
        }
        if (!isSubscriber(s)) {
            add(s);
        }
        if (s instanceof TopicsyncSession) {
            s.send(TopicsyncWire.init(room.alloc, name, type, value, version));
            return;
        }
        Map<String, Object> set = new LinkedHashMap<>();
        set.put("type", "set");
        set.put("value", value);
        ByteBuf frame = render(set);
        FrameVariants frames = new FrameVariants(frame);
        try {
            Fanout.send(null, Targets.of(s.connection.loop, s.connection), frames, null, null);
        } finally {
            frames.release();
            frame.release();
        }
    }

    void unsubscribe(ChatroomSession s) {
        if (dropped && !isSubscriber(s)) {
            return;
        }
        if (!loaded || committing || held) {
            waiting.add(() -> unsubscribe(s));
            return;
        }
        if (!isSubscriber(s)) {
            return;
        }
        ChatroomSession[] now = subscribers;
        ChatroomSession[] next = new ChatroomSession[now.length - 1];
        for (int i = 0, j = 0; i < now.length; i++) {
            if (now[i] != s) {
                next[j++] = now[i];
            }
        }
        subscribers = next;
        LoopTable loop = s.connection.loop;
        Targets rest = s instanceof TopicsyncSession ? null : byLoop.get(loop).without(s.connection);
        if (rest == null) {
            // written one by one, in its own protocol (install)
        } else if (rest.isEmpty()) {
            byLoop.remove(loop);
        } else {
            byLoop.put(loop, rest);
        }
        if (next.length == 0 && room.isReplicated(this)) {
            // Redis keeps the value; this node stops following the topic until someone here subscribes again.
            dropped = true;
            cost(null);
            room.dropReplica(this);
        } else if (next.length == 0) {
            idle();
        }
    }

    /** The last subscriber left: on a single node the topic expires unless one comes within the idle timeout. */
    private void idle() {
        if (special || room.isReplicated(this)) {
            return;
        }
        idleSince = System.nanoTime();
        if (expiry == null) {
            schedule(room.topicIdleNanos);
        }
    }

    private void schedule(long nanos) {
        try {
            expiry = owner.schedule(this::expireIfIdle, nanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            logger.debug("Topic {}: its owner is shutting down; not expiring it", name);
        }
    }

    /**
     * Drops the topic and its value if it has had no subscriber for the idle timeout (one timer a
     * topic at a time: a topic idle again since the timer was set waits out the rest). On the owner,
     * so no subscribe or change of the topic interleaves: those queued behind it find it dropped and
     * go to a successor.
     */
    private void expireIfIdle() {
        expiry = null;
        if (dropped || subscribers.length > 0) {
            return;
        }
        long left = idleSince + room.topicIdleNanos - System.nanoTime();
        if (left > 0) {
            schedule(left);
            return;
        }
        if (!loaded || committing || held || !waiting.isEmpty()) {
            idle(); // work in hand: not idle yet
            return;
        }
        dropped = true;
        cost(null);
        room.expired(this);
    }

    /** Charges the node (or refunds it) for {@code newValue} in place of the current value; special topics are free. */
    private void cost(Object newValue) {
        if (special) {
            return;
        }
        long newCost = JsonValues.heapCost(newValue);
        room.account(newCost - cost);
        cost = newCost;
    }

    /**
     * Applies {@code change} (as the client sent it) from {@code s}: every subscriber gets the
     * {@code update}, or {@code s} alone the {@code reject_update}.
     */
    void update(ChatroomSession s, Object change) {
        if (dropped) {
            // Left the node after the session looked it up: its successor (if any) takes the change.
            s.loop().execute(() -> room.update(s, name, change));
            return;
        }
        if (!loaded || committing || held) {
            waiting.add(() -> update(s, change));
            return;
        }
        if (!isSubscriber(s)) {
            room.rejectUpdate(s, name, change, Chatroom.notSubscribed(name));
            return;
        }
        TopicChange.Applied applied;
        try {
            applied = TopicChange.apply(type, value, size, cost, change, room.maxValueBytes, room.maxValueCost);
        } catch (ChangeRejected e) {
            room.rejectUpdate(s, name, change, e.getMessage());
            return;
        }
        long grows = applied.cost() - cost;
        if (!room.reserve(grows)) {
            room.rejectUpdate(s, name, change, "The server holds its most chatroom data (" + room.maxMemory
                    + " bytes of memory for every topic's value): this change would add about " + grows);
            return;
        }
        if (!room.isReplicated(this)) {
            cost = applied.cost(); // charged by reserve
            install(applied.value(), applied.size(), version + 1, applied.change());
            return;
        }
        long base = version;
        committing = true;
        room.cluster().commit(this, base, applied).whenComplete((outcome, failure) -> run(() -> {
            committing = false;
            if (outcome == null || !outcome || version != base || dropped) {
                room.account(-grows); // not installed by this change: whatever is installed has been charged
            }
            if (failure != null) {
                room.rejectUpdate(s, name, change, "The change could not be stored in the cluster: "
                        + Chatroom.rootMessage(failure));
            } else if (outcome) {
                if (version == base && !dropped) {
                    cost = applied.cost(); // charged by reserve
                    install(applied.value(), applied.size(), base + 1, applied.change());
                } // else: Redis's stream got here first and has applied it already
            } else {
                // Another node's change came first: try again on top of it, once it is here.
                waiting.addFirst(() -> update(s, change));
                if (version == base) {
                    room.cluster().awaitNewer(this, base);
                    return;
                }
            }
            drain();
        }));
    }

    /** A change committed by another node, as Redis's update stream carries it. */
    public void remote(long newVersion, Map<String, Object> change) {
        if (!loaded) {
            waiting.add(() -> remote(newVersion, change));
            return;
        }
        if (dropped || newVersion <= version) {
            return; // seen already (this node's own, or from the snapshot)
        }
        if (newVersion != version + 1) {
            room.cluster().resync(this);
            return;
        }
        try {
            TopicChange.Applied applied = TopicChange.apply(type, value, size, cost, change, Integer.MAX_VALUE,
                    Long.MAX_VALUE);
            room.account(applied.cost() - cost); // committed by another node: applied even past the node's budget
            cost = applied.cost();
            install(applied.value(), applied.size(), newVersion, applied.change());
        } catch (ChangeRejected e) {
            logger.warn("Topic {}: version {} from the cluster does not apply here ({}); reloading", name, newVersion,
                    e.getMessage());
            room.cluster().resync(this);
            return;
        }
        if (!committing) {
            drain();
        }
    }

    /** Replaces the state with what Redis holds, after updates were missed: subscribers get it as a {@code set}. */
    public void reset(TopicType type, Object value, long newVersion) {
        if (dropped || newVersion <= version && loaded) {
            return;
        }
        this.type = type;
        Map<String, Object> set = new LinkedHashMap<>();
        set.put("type", "set");
        set.put("value", value);
        cost(value);
        install(value, -1, newVersion, set);
        if (!committing) {
            drain();
        }
    }

    /** Sets a special topic's value (a string the server writes) and tells its subscribers. */
    void write(String text) {
        if (!loaded) {
            waiting.add(() -> write(text));
            return;
        }
        Map<String, Object> set = new LinkedHashMap<>();
        set.put("type", "set");
        set.put("value", text);
        install(text, -1, version + 1, set);
    }

    private void install(Object newValue, long newSize, long newVersion, Map<String, Object> change) {
        install(newValue, newSize, newVersion, change, true);
    }

    /**
     * Installs the new state and tells the subscribers: those of PROTOCOL.md section 4 through the
     * fan-out, those of the 2023 protocol each with its own {@code update} when {@code toTopicsync}
     * (an action's {@link Transition} gathers theirs into one message per client instead).
     */
    private void install(Object newValue, long newSize, long newVersion, Map<String, Object> change,
                         boolean toTopicsync) {
        value = newValue;
        size = newSize;
        version = newVersion;
        if (toTopicsync) {
            ByteBuf sync = null;
            try {
                for (ChatroomSession s : subscribers) {
                    if (s instanceof TopicsyncSession) {
                        if (sync == null) {
                            sync = TopicsyncWire.update(room.alloc, List.of(TopicsyncWire.render(name, type,
                                    change, newValue, newVersion)), TopicsyncWire.CHATROOM_ACTION);
                        }
                        s.send(sync.retainedDuplicate());
                    }
                }
            } finally {
                if (sync != null) {
                    sync.release();
                }
            }
        }
        if (byLoop.isEmpty()) {
            return;
        }
        ByteBuf frame = render(change);
        // Compressed once, for the members that negotiated permessage-deflate on every loop.
        FrameVariants frames = new FrameVariants(frame);
        try {
            for (Targets members : byLoop.values()) {
                Fanout.send(null, members, frames, null, null);
            }
        } finally {
            frames.release();
            frame.release();
        }
    }

    // ---- Actions of the 2023 protocol (Transition) ----

    /**
     * Holds the topic for an action on the owner: {@code then} runs with {@code true} once no other
     * work of the topic is under way, and the topic's work waits until {@link #release}; with
     * {@code false} when the topic has left the node. Owner only.
     */
    void hold(Consumer<Boolean> then) {
        if (dropped || unavailable != null) {
            then.accept(false);
            return;
        }
        if (!loaded || committing || held) {
            waiting.add(() -> hold(then));
            return;
        }
        held = true;
        then.accept(true);
    }

    /** Ends a {@link #hold} and serves what waited. Owner only (or a thread the holder handed the topic to). */
    void release() {
        held = false;
        drain();
    }

    /** The value's size as JSON (-1 unknown), while held. */
    long size() {
        return size;
    }

    /** The value's estimated heap cost as charged, while held. */
    long cost() {
        return cost;
    }

    /**
     * Installs a change of an action while the topic is held (the node was charged for it), and
     * tells the subscribers of section 4; returns the new version. Those of the 2023 protocol are
     * the {@link Transition}'s to tell.
     */
    long installHeld(TopicChange.Applied applied) {
        cost = applied.cost();
        install(applied.value(), applied.size(), version + 1, applied.change(), false);
        return version;
    }

    /**
     * Serves what waited, in order, until the topic is busy again. Not re-entered: a task that frees
     * the topic at once (an action held and released on this thread) leaves the rest to the loop
     * already running, so the stack does not grow with the queue.
     */
    private void drain() {
        if (draining) {
            return;
        }
        draining = true;
        try {
            while (!waiting.isEmpty() && !committing && !held && loaded && !dropped) {
                waiting.poll().run();
            }
            if (dropped) {
                for (Runnable r = waiting.poll(); r != null; r = waiting.poll()) {
                    r.run(); // each finds the topic dropped and goes to its successor
                }
            }
        } finally {
            draining = false;
        }
    }

    /** The update frame of {@code change} at the current version; the caller releases it. */
    private ByteBuf render(Map<String, Object> change) {
        ByteBuf payload = ChatroomEncoder.updatePayload(room.alloc, name, change, version);
        try {
            return ChatroomEncoder.frame(room.alloc, payload);
        } finally {
            payload.release();
        }
    }

    private boolean isSubscriber(ChatroomSession s) {
        for (ChatroomSession x : subscribers) {
            if (x == s) {
                return true;
            }
        }
        return false;
    }

    private void add(ChatroomSession s) {
        ChatroomSession[] now = subscribers;
        ChatroomSession[] next = Arrays.copyOf(now, now.length + 1);
        next[now.length] = s;
        subscribers = next;
        if (s instanceof TopicsyncSession) {
            return; // written one by one, in its own protocol (install)
        }
        LoopTable loop = s.connection.loop;
        byLoop.put(loop, byLoop.getOrDefault(loop, Targets.none(loop)).with(s.connection));
    }
}
