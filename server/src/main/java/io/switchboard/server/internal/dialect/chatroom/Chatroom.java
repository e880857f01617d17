package io.switchboard.server.internal.dialect.chatroom;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.switchboard.protocol.chatroom.ChatroomDecoder;
import io.switchboard.protocol.chatroom.TopicType;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.metrics.Metrics;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The chatroom dialect's shared state on one node (PROTOCOL.md section 4): topics, services, the
 * requests waiting for their responses, and client ids. Its topics are a namespace of their own,
 * apart from the channels of the other dialects.
 *
 * <p>Services: a name is provided by one client; a request gets a server-unique id when it is
 * forwarded to the provider, and the response goes back to the requester under the requester's
 * own id. A request ends exactly once: by its response, its provider's departure, or the timeout.
 *
 * <p>Memory (issue 15): a value may cost at most {@link #VALUE_COST_FACTOR} times
 * {@code CHATROOM_MAX_VALUE_BYTES} of heap, and the values of all topics on the node together at
 * most {@code CHATROOM_MAX_MEMORY_BYTES}, as {@link io.switchboard.protocol.chatroom.JsonValues#heapCost}
 * estimates them; a topic without subscribers leaves the node after {@code CHATROOM_TOPIC_IDLE_TIMEOUT}
 * (single node) or at once (cluster: Redis keeps it). So a node holds at most
 * {@code min(CHATROOM_MAX_MEMORY_BYTES, CHATROOM_MAX_TOPICS × 16 × CHATROOM_MAX_VALUE_BYTES)} of
 * values, and what a client leaves behind goes.
 *
 * <p>In a cluster ({@link ChatroomCluster}) topics live in Redis and services are registered
 * there; requests and responses cross nodes through it. Thread-safe.
 */
public final class Chatroom {

    static final String RESERVED = "_chatroom/";
    static final String SERVER_STATUS = RESERVED + "server_status";
    static final String CLIENT_MESSAGE = RESERVED + "client_message/";
    /**
     * A value may cost this many times {@code CHATROOM_MAX_VALUE_BYTES} of heap: room for ordinary
     * JSON (by the estimate text costs about 3 times its JSON, lists of small objects with short
     * keys up to 16), none for the values built to cost the most per byte (a list of empty dicts,
     * 31 times).
     */
    static final int VALUE_COST_FACTOR = 16;

    public final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    public final ChatroomDecoder decoder;
    /** The 2023 client's wire ({@link TopicsyncSession}). */
    final TopicsyncWire topicsyncWire;
    /** {@code _chatroom/topic_list} of the 2023 protocol: this node's topics. */
    final TopicList topicList = new TopicList(alloc);
    final Metrics metrics;
    final int maxValueBytes;
    /** The most heap one value may cost (estimated). */
    final long maxValueCost;
    /** The most heap the values of this node's topics may cost together (estimated). */
    final long maxMemory;
    /** How long a topic without subscribers stays, in nanoseconds. */
    final long topicIdleNanos;
    private final SwitchboardConfig config;
    private final ChatroomCluster cluster;
    private final ConcurrentHashMap<String, Topic> topics = new ConcurrentHashMap<>();
    /** Topics other than the special ones, against {@code CHATROOM_MAX_TOPICS}. */
    private final AtomicInteger userTopics = new AtomicInteger();
    private final ConcurrentHashMap<Long, ChatroomSession> clients = new ConcurrentHashMap<>();
    /** Service name to its provider on this node (in a cluster, Redis knows the others'). */
    private final ConcurrentHashMap<String, ChatroomSession> services = new ConcurrentHashMap<>();
    /** Requests of this node's clients waiting for a response, by server id. */
    private final ConcurrentHashMap<Long, Pending> pending = new ConcurrentHashMap<>();
    private final AtomicLong clientIds = new AtomicLong();
    private final AtomicLong requestIds = new AtomicLong();
    public final LongAdder rejectedUpdates = new LongAdder();
    public final LongAdder ignoredResponses = new LongAdder();
    public final LongAdder expiredTopics = new LongAdder();
    /** Times a client was not read from because {@link ChatroomSession#MAX_OUTSTANDING} of its tasks were in flight. */
    public final LongAdder readPauses = new LongAdder();
    /** The estimated heap cost of every (non-special) topic's value on this node, against {@link #maxMemory}. */
    private final AtomicLong memory = new AtomicLong();

    /** A request waiting for its response. */
    public static final class Pending {
        public final long id;
        final ChatroomSession requester;
        final Object requesterId;
        public final String service;
        /** The provider on this node, or {@code null} when it is on another node. */
        final ChatroomSession provider;
        ScheduledFuture<?> timeout;

        Pending(long id, ChatroomSession requester, Object requesterId, String service, ChatroomSession provider) {
            this.id = id;
            this.requester = requester;
            this.requesterId = requesterId;
            this.service = service;
            this.provider = provider;
        }
    }

    public Chatroom(SwitchboardConfig config, Metrics metrics, ChatroomCluster.Factory cluster) {
        this.config = config;
        this.metrics = metrics;
        this.maxValueBytes = config.chatroomMaxValueBytes();
        this.maxValueCost = (long) VALUE_COST_FACTOR * maxValueBytes;
        this.maxMemory = config.chatroomMaxMemoryBytes();
        this.topicIdleNanos = config.chatroomTopicIdleTimeout().toNanos();
        this.decoder = new ChatroomDecoder(config.maxMessageBytes(), config.maxJsonDepth());
        this.topicsyncWire = new TopicsyncWire(config.maxMessageBytes(), config.maxJsonDepth());
        this.cluster = cluster == null ? null : cluster.create(this);
    }

    ChatroomCluster cluster() {
        return cluster;
    }

    /** Whether {@code topic}'s state lives in Redis (a non-special topic in a cluster). */
    boolean isReplicated(Topic topic) {
        return cluster != null && !topic.special;
    }

    // ---- Clients ----

    /** A new client's id, unique in the cluster. */
    CompletableFuture<Long> newClientId() {
        return cluster != null ? cluster.clientId() : CompletableFuture.completedFuture(clientIds.incrementAndGet());
    }

    void connected(ChatroomSession s) {
        clients.put(s.id, s);
        status(s.loop(), "[info] Client " + s.id + " connected");
    }

    /** Releases everything {@code s} held: subscriptions, services, requests. Call once, when it is gone. */
    void disconnected(ChatroomSession s) {
        clients.remove(s.id);
        for (String name : s.topics) {
            Topic t = topics.get(name);
            if (t != null) {
                s.onOwner(t, () -> t.unsubscribe(s));
            }
        }
        Topic own = topics.remove(CLIENT_MESSAGE + s.id);
        if (own != null) {
            own.run(() -> own.unsubscribe(s));
        }
        for (String service : s.services) {
            if (services.remove(service, s)) {
                if (cluster != null) {
                    cluster.unregisterService(service, s.id);
                }
                status(s.loop(), "[info] Service '" + service + "' is gone: its provider, client " + s.id
                        + ", disconnected");
            }
        }
        for (Pending p : pending.values()) {
            if (p.provider == s) {
                fail(p.id, "The provider of service '" + p.service + "' disconnected");
            } else if (p.requester == s && pending.remove(p.id, p)) {
                p.timeout.cancel(false);
            }
        }
        if (cluster != null) {
            cluster.providerGone(s);
        }
        status(s.loop(), "[info] Client " + s.id + " disconnected");
    }

    /** This node's clients, for the inspection page. */
    Collection<ChatroomSession> clients() {
        return clients.values();
    }

    ChatroomSession client(long id) {
        return clients.get(id);
    }

    // ---- Topics ----

    /**
     * Subscribes {@code s} to {@code name}, creating the topic with {@code type} if it does not
     * exist. The special topics: {@code _chatroom/server_status} and the client's own
     * {@code _chatroom/client_message/<id>}; other {@code _chatroom/} names are refused.
     */
    void subscribe(ChatroomSession s, String name, TopicType type) {
        if (name.startsWith(RESERVED) && !name.equals(SERVER_STATUS) && !name.equals(CLIENT_MESSAGE + s.id)) {
            notice(s, "[error] Cannot subscribe to '" + name + "': names starting with " + RESERVED
                    + " are reserved (" + SERVER_STATUS + " and your own " + CLIENT_MESSAGE + s.id + " are open)");
            return;
        }
        Topic t = topic(name, name.startsWith(RESERVED) ? TopicType.STRING : type, s.loop());
        if (t == null) {
            notice(s, "[error] Cannot subscribe to '" + name + "': this server holds its most topics ("
                    + config.chatroomMaxTopics() + ")");
            return;
        }
        s.topics.add(name);
        TopicType asked = name.startsWith(RESERVED) ? TopicType.STRING : type;
        s.onOwner(t, () -> t.subscribe(s, asked));
    }

    /**
     * Subscribes {@code s} to the topic {@code name} if this node holds it, with the type it has (the
     * 2023 protocol's subscribe names no type); a warning notice when it does not.
     */
    void subscribeExisting(ChatroomSession s, String name) {
        if (name.startsWith(RESERVED)) {
            subscribe(s, name, TopicType.STRING);
            return;
        }
        Topic t = topics.get(name);
        if (t == null) {
            notice(s, "[warning] Cannot subscribe to '" + name + "': there is no such topic (add it to "
                    + TopicList.NAME + " first)");
            return;
        }
        s.topics.add(name);
        TopicType type = t.type != null ? t.type : TopicType.GENERIC;
        s.onOwner(t, () -> t.subscribe(s, type));
    }

    void unsubscribe(ChatroomSession s, String name) {
        if (!s.topics.remove(name)) {
            notice(s, "[warning] Not subscribed to '" + name + "'");
            return;
        }
        Topic t = topics.get(name);
        if (t != null) {
            s.onOwner(t, () -> t.unsubscribe(s));
        }
    }

    void update(ChatroomSession s, String name, Object change) {
        if (name.startsWith(RESERVED)) {
            rejectUpdate(s, name, change, "'" + name + "' is written by the server only");
            return;
        }
        Topic t = topics.get(name);
        if (t == null || !s.topics.contains(name)) {
            rejectUpdate(s, name, change, notSubscribed(name));
            return;
        }
        s.onOwner(t, () -> t.update(s, change));
    }

    /**
     * A topic that left this node (its last subscriber here left, in a cluster; it expired, on a
     * single node): {@code s} subscribes to its successor, created with the type {@code s} asked for
     * if there is none. Refused like any subscribe when the node holds its most topics.
     */
    void resubscribe(Topic gone, ChatroomSession s, TopicType asked) {
        s.loop().execute(() -> { // the session's topics are its event loop's
            if (s.topics.contains(gone.name)) {
                Topic t = topic(gone.name, asked, s.loop());
                if (t == null) {
                    s.topics.remove(gone.name);
                    notice(s, "[error] Cannot subscribe to '" + gone.name + "': this server holds its most topics ("
                            + config.chatroomMaxTopics() + ")");
                    return;
                }
                s.onOwner(t, () -> t.subscribe(s, asked));
            }
        });
    }

    void dropReplica(Topic t) {
        if (topics.remove(t.name, t)) {
            userTopics.decrementAndGet();
            topicList.unlisted(t.name);
            cluster.unfollow(t);
        }
    }

    /** {@code t} had no subscriber for the idle timeout (single node): it leaves with its value. */
    void expired(Topic t) {
        if (topics.remove(t.name, t)) {
            userTopics.decrementAndGet();
            expiredTopics.increment();
            topicList.unlisted(t.name);
        }
    }

    /**
     * Charges {@code bytes} of estimated heap to the node's values if they stay within
     * {@link #maxMemory}; a refund (negative) always succeeds. Returns whether it was charged.
     */
    boolean reserve(long bytes) {
        for (;;) {
            long now = memory.get();
            if (bytes > 0 && now + bytes > maxMemory) {
                return false;
            }
            if (memory.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    /** Charges (or refunds) {@code bytes} whatever the budget: a value the node must hold (a new topic, another node's change). */
    void account(long bytes) {
        memory.addAndGet(bytes);
    }

    /** The estimated heap the values of this node's topics cost. */
    public long memory() {
        return memory.get();
    }

    /** The topics on this node, the special ones aside. */
    public int topicCount() {
        return userTopics.get();
    }

    void rejectUpdate(ChatroomSession s, String topic, Object change, String reason) {
        rejectedUpdates.increment();
        s.sendRejectUpdate(topic, change, reason);
    }

    static String notSubscribed(String topic) {
        return "Not subscribed to '" + topic + "': subscribe before updating";
    }

    /** The topic named {@code name}, created if needed; {@code null} when the node holds its most topics. */
    private Topic topic(String name, TopicType type, EventExecutor owner) {
        return topic(name, type, owner, null, null);
    }

    /**
     * The topic named {@code name}, created if needed, by the action {@code actionId} of the 2023
     * protocol (its change {@code changeId}) if not null; {@code null} when the node holds its most topics.
     */
    Topic topic(String name, TopicType type, EventExecutor owner, Object actionId, Object changeId) {
        Topic t = topics.get(name);
        if (t != null) {
            return t;
        }
        boolean special = name.startsWith(RESERVED);
        if (!special && userTopics.incrementAndGet() > config.chatroomMaxTopics()) {
            userTopics.decrementAndGet();
            return null;
        }
        Topic created = new Topic(this, name, special, owner);
        Topic prior = topics.putIfAbsent(name, created);
        if (prior != null) {
            if (!special) {
                userTopics.decrementAndGet();
            }
            return prior;
        }
        if (!special) {
            topicList.listed(name, type, actionId, changeId);
        }
        if (isReplicated(created)) {
            cluster.follow(created, type);
        } else {
            created.run(() -> created.loaded(type, type.emptyValue(), 0));
        }
        return created;
    }

    /** The topic named {@code name} on this node, or {@code null}. */
    public Topic topicIfPresent(String name) {
        return topics.get(name);
    }

    /** {@code s} could not subscribe to {@code name}: tell it why, and forget the subscription. */
    void subscribeFailed(ChatroomSession s, String name, String why) {
        s.loop().execute(() -> {
            s.topics.remove(name);
            notice(s, "[error] Cannot subscribe to '" + name + "': " + why);
        });
    }

    /** Every topic on this node, for the inspection page. */
    List<Topic> topics() {
        List<Topic> list = new ArrayList<>(topics.values());
        list.sort((a, b) -> a.name.compareTo(b.name));
        return list;
    }

    /** Writes {@code text} to {@code _chatroom/server_status}. */
    void status(EventExecutor near, String text) {
        Topic t = topic(SERVER_STATUS, TopicType.STRING, near);
        t.run(() -> t.write(text));
    }

    /** Writes {@code text} to {@code s}'s {@code _chatroom/client_message/<id>}. */
    void notice(ChatroomSession s, String text) {
        if (!s.isOpen()) {
            return; // its topic is gone with it
        }
        Topic t = topic(CLIENT_MESSAGE + s.id, TopicType.STRING, s.loop());
        t.run(() -> t.write(text));
    }

    // ---- Services ----

    /**
     * Makes {@code s} the provider of {@code service}. The seed gives a registration no answer, so
     * it takes effect before the client's next message is read (issue 20): on one node at once,
     * for every connection of the node; in a cluster the session pauses until Redis has it. A
     * provider that answers after any later message of its own knows every requester finds it.
     * Event loop of {@code s} only.
     */
    void registerService(ChatroomSession s, String service) {
        if (service.startsWith(RESERVED)) {
            notice(s, "[error] Cannot register service '" + service + "': names starting with " + RESERVED
                    + " are reserved");
            return;
        }
        if (s.services.contains(service)) {
            notice(s, "[warning] You provide service '" + service + "' already");
            return;
        }
        ChatroomSession current = services.putIfAbsent(service, s);
        if (current != null) {
            notice(s, "[error] Cannot register service '" + service + "': client " + current.id + " provides it");
            return;
        }
        if (cluster == null) {
            registered(s, service);
            return;
        }
        // Redis decides: nothing more is read from the client until it has, so its next message
        // (and any answer to it) comes after the registration took effect or was refused.
        s.pause();
        cluster.registerService(service, s.id).whenComplete((holder, failure) -> s.loop().execute(() -> {
            if (failure == null && holder == null) {
                registered(s, service);
            } else {
                services.remove(service, s);
                notice(s, "[error] Cannot register service '" + service + "': " + (failure != null
                        ? "the cluster is unreachable (" + rootMessage(failure) + ")" : holder + " provides it"));
            }
            s.resume(() -> { });
        }));
    }

    private void registered(ChatroomSession s, String service) {
        if (!s.isOpen()) {
            unregisterService(s, service);
            return;
        }
        s.services.add(service);
        status(s.loop(), "[info] Client " + s.id + " registered service '" + service + "'");
    }

    void unregisterService(ChatroomSession s, String service) {
        if (!s.services.remove(service) || !services.remove(service, s)) {
            notice(s, "[error] Cannot unregister service '" + service + "': you do not provide it");
            return;
        }
        if (cluster != null) {
            cluster.unregisterService(service, s.id);
        }
        status(s.loop(), "[info] Client " + s.id + " unregistered service '" + service + "'");
    }

    /** Forwards a request of {@code s} to the provider of {@code service}, or answers it with an error. */
    void request(ChatroomSession s, String service, Object args, Object requestId) {
        if (s.pendingRequests.get() >= config.chatroomMaxPendingRequests()) {
            s.sendResponse(null, requestId, "Too many requests waiting for responses (at most "
                    + config.chatroomMaxPendingRequests() + ")");
            return;
        }
        ChatroomSession provider = services.get(service);
        if (provider == null && cluster == null) {
            s.sendResponse(null, requestId, noService(service));
            return;
        }
        long id = cluster != null ? cluster.requestId() : requestIds.incrementAndGet();
        Pending p = new Pending(id, s, requestId, service, provider);
        p.timeout = s.loop().schedule(() -> fail(id, "Service '" + service + "' did not answer within "
                + config.chatroomRequestTimeout().toMillis() + " ms"), config.chatroomRequestTimeout().toNanos(),
                TimeUnit.NANOSECONDS);
        s.pendingRequests.incrementAndGet();
        pending.put(id, p); // complete: from here on any thread may end it
        if (provider != null) {
            provider.sendRequest(service, args, id);
        } else {
            cluster.forwardRequest(p, args);
        }
    }

    public static String noService(String service) {
        return "No service named '" + service + "'";
    }

    /** A response from {@code responder}: to its requester, if it is the awaited one; otherwise ignored and counted. */
    void response(ChatroomSession responder, Object requestId, Object response) {
        Long id = requestId instanceof Long ? (Long) requestId : null;
        Pending p = id == null ? null : pending.get(id);
        if (p != null && p.provider == responder) {
            complete(id, response, null);
        } else if (id == null || cluster == null || !cluster.respond(responder, id, response)) {
            ignoredResponses.increment();
        }
    }

    /** Ends request {@code id} with {@code error}, if it still waits. */
    public void fail(long id, String error) {
        complete(id, null, error);
    }

    /** Ends request {@code id} with {@code response}, or {@code error} when not null. Returns whether it waited. */
    public boolean complete(long id, Object response, String error) {
        Pending p = pending.remove(id);
        if (p == null) {
            return false;
        }
        p.timeout.cancel(false);
        p.requester.pendingRequests.decrementAndGet();
        p.requester.sendResponse(response, p.requesterId, error);
        return true;
    }

    /** Service name to its provider's client id, on this node, for the inspection page. */
    public ConcurrentHashMap<String, ChatroomSession> localServices() {
        return services;
    }

    /** The requests of this node's clients waiting for responses. */
    public int pendingCount() {
        return pending.size();
    }

    /** Why the chatroom cannot serve in the cluster, or {@code null}. */
    public String problem() {
        return cluster == null ? null : cluster.problem();
    }

    /** Leaves the cluster, if in one. */
    public CompletableFuture<Void> close() {
        return cluster == null ? CompletableFuture.completedFuture(null) : cluster.close();
    }

    public static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() != null ? root.getMessage() : root.toString();
    }
}
