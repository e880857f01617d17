package io.switchboard.server.internal.dialect.chatroom.redis;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.netty.buffer.ByteBuf;
import io.switchboard.protocol.chatroom.ChatroomEncoder;
import io.switchboard.protocol.chatroom.ChatroomException;
import io.switchboard.protocol.chatroom.ChatroomMessage;
import io.switchboard.protocol.chatroom.JsonValues;
import io.switchboard.protocol.chatroom.TopicChange;
import io.switchboard.protocol.chatroom.TopicType;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.broker.ClusterLink;
import io.switchboard.server.internal.cluster.LuaScripts;
import io.switchboard.server.internal.cluster.RedisConnections;
import io.switchboard.server.internal.dialect.chatroom.Chatroom;
import io.switchboard.server.internal.dialect.chatroom.ChatroomCluster;
import io.switchboard.server.internal.dialect.chatroom.ChatroomSession;
import io.switchboard.server.internal.dialect.chatroom.Topic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The chatroom's cluster link (PROTOCOL.md section 4; docs/cluster.md): Redis holds every topic
 * (a hash of type, value and version) and orders its changes, registers services, and carries
 * requests and responses between nodes.
 *
 * <p>A change is validated against this node's copy at version V, then committed by a script that
 * stores it only if Redis still holds V, and publishes it on the topic's channel in the same step;
 * every node applies the channel's updates in version order. A node whose commit lost the race
 * gets the winner from the channel and tries again on top of it. A node that sees a gap in the
 * versions reloads the topic.
 *
 * <p>Keys, under {@code REDIS_KEY_PREFIX + "chatroom:"}: {@code client_id} and {@code node_seq}
 * (counters), {@code topics} (the set of topic names, against the bound), {@code topic:<name>}
 * (hash, and the channel of its updates), {@code services} (hash: service to {@code node TAB
 * client}), {@code node:<node>} (the channel of a node's requests and responses). A service whose
 * node's cluster hash has expired (the node died) may be registered by another client.
 *
 * <p>Connects through the node's {@link RedisConnections}; its timers and connecting run on a lane
 * of theirs. Thread-safe.
 */
public final class RedisChatroom implements ChatroomCluster {

    private static final Logger logger = LoggerFactory.getLogger(RedisChatroom.class);

    /** KEYS: topic hash, topics set. ARGV: type, empty value, max topics, name. Returns type, value, version; {} when full. */
    private static final String FOLLOW = LuaScripts.load(RedisChatroom.class, "follow_topic.lua");
    /** KEYS: topic hash. ARGV: base version, new value, channel, update, new version. Returns 1 if stored. */
    private static final String COMMIT = LuaScripts.load(RedisChatroom.class, "commit_change.lua");
    /** KEYS: services hash. ARGV: service, holder, node key prefix. Returns the live holder, or nil once registered. */
    private static final String REGISTER = LuaScripts.load(RedisChatroom.class, "register_service.lua");
    /** KEYS: services hash. ARGV: service, holder. */
    private static final String UNREGISTER = LuaScripts.load(RedisChatroom.class, "unregister_service.lua");
    /** KEYS: services hash. ARGV: service, node key prefix, node channel prefix, message. Returns the holder, or nil. */
    private static final String ROUTE = LuaScripts.load(RedisChatroom.class, "route_request.lua");

    private final Chatroom room;
    private final ClusterLink link;
    private final Duration requestTimeout;
    private final int maxTopics;
    private final String prefix;
    private final String nodeKeyPrefix;
    private final String topicPrefix;
    private final String nodeChannelPrefix;
    private final String servicesKey;
    private final RedisConnections redis;
    private final RedisConnections.Lane lane;
    /** Set once connected; Lettuce reconnects them (and resubscribes) after a drop. */
    private volatile StatefulRedisConnection<String, String> commands;
    private volatile StatefulRedisPubSubConnection<String, String> pubsub;
    private volatile boolean closed;
    private int failedConnects;
    private final AtomicLong requests = new AtomicLong();
    private volatile long requestBase;
    /** Requests from other nodes' clients that a provider here has yet to answer, by id. */
    private final ConcurrentHashMap<Long, Forwarded> forwarded = new ConcurrentHashMap<>();

    /** A request another node sent to a provider here. */
    private record Forwarded(String node, ChatroomSession provider, String service) {
    }

    private RedisChatroom(SwitchboardConfig config, Chatroom room, ClusterLink link, RedisConnections redis) {
        this.room = room;
        this.link = link;
        this.requestTimeout = config.chatroomRequestTimeout();
        this.maxTopics = config.chatroomMaxTopics();
        this.prefix = config.redisKeyPrefix() + "chatroom:";
        this.nodeKeyPrefix = config.redisKeyPrefix() + "node:";
        this.topicPrefix = prefix + "topic:";
        this.nodeChannelPrefix = prefix + "node:";
        this.servicesKey = prefix + "services";
        this.redis = redis;
        this.lane = redis.lane("Chatroom cluster");
    }

    /**
     * Returns the chatroom link of a cluster member, which connects to Redis in the background (and
     * keeps trying); until it is connected, chatroom clients are refused ({@link #clientId}).
     */
    public static ChatroomCluster start(SwitchboardConfig config, Chatroom room, ClusterLink link,
                                        RedisConnections redis) {
        RedisChatroom cluster = new RedisChatroom(config, room, link, redis);
        cluster.schedule(cluster::connect, 0);
        return cluster;
    }

    /** Connects, on the lane; tries again after the node's reconnect delay until Redis answers. */
    private void connect() {
        if (closed) {
            return;
        }
        StatefulRedisConnection<String, String> c = null;
        StatefulRedisPubSubConnection<String, String> p = null;
        try {
            c = redis.commands(StringCodec.UTF8, true);
            p = redis.pubsub(StringCodec.UTF8);
            p.addListener(new Listener());
            p.sync().subscribe(nodeChannel(link.nodeName()));
            requestBase = c.sync().incr(prefix + "node_seq") << 32;
            pubsub = p;
            commands = c;
        } catch (RuntimeException e) {
            if (p != null) {
                p.closeAsync();
            }
            if (c != null) {
                c.closeAsync();
            }
            logger.debug("Chatroom: cannot connect to Redis yet: {}", e.toString());
            schedule(this::connect, RedisConnections.retryDelay(++failedConnects).toMillis());
        }
    }

    /** The commands connection, or a failure while there is none yet. */
    private StatefulRedisConnection<String, String> commands() {
        StatefulRedisConnection<String, String> c = commands;
        if (c == null) {
            throw new IllegalStateException("not connected to Redis yet");
        }
        return c;
    }

    private static <T> CompletableFuture<T> notConnected() {
        return CompletableFuture.failedFuture(new IllegalStateException("not connected to Redis yet"));
    }

    @Override
    public CompletableFuture<Long> clientId() {
        StatefulRedisConnection<String, String> c = commands;
        return c == null ? notConnected() : c.async().incr(prefix + "client_id").toCompletableFuture();
    }

    @Override
    public long requestId() {
        return requestBase + requests.incrementAndGet();
    }

    // ---- Topics ----

    @Override
    public void follow(Topic topic, TopicType type) {
        String key = topicPrefix + topic.name;
        StatefulRedisPubSubConnection<String, String> p = pubsub;
        (p == null ? CompletableFuture.<Void>failedFuture(new IllegalStateException("not connected to Redis yet"))
                : p.async().subscribe(key).toCompletableFuture())
                .thenCompose(ignored -> commands().async().<List<String>>eval(FOLLOW, ScriptOutputType.MULTI,
                        new String[] {key, prefix + "topics"}, type.wireName(), JsonValues.toJson(type.emptyValue()),
                        String.valueOf(maxTopics), topic.name).toCompletableFuture())
                .whenComplete((state, failure) -> {
                    if (failure != null) {
                        topic.run(() -> topic.unavailable("the cluster is unreachable (" + Chatroom.rootMessage(failure) + ")"));
                    } else if (state.isEmpty()) {
                        topic.run(() -> topic.unavailable("the cluster holds its most topics (" + maxTopics + ")"));
                    } else {
                        load(topic, state, false);
                    }
                });
    }

    /** Hands the state Redis holds ({@code type, value, version}) to {@code topic}. */
    private void load(Topic topic, List<String> state, boolean reset) {
        TopicType type = TopicType.of(state.get(0));
        Object value;
        long version;
        try {
            value = JsonValues.parse(state.get(1));
            version = Long.parseLong(state.get(2));
        } catch (IOException | RuntimeException e) {
            topic.run(() -> topic.unavailable("its state in Redis is unreadable (" + e.getMessage() + ")"));
            return;
        }
        if (type == null) {
            topic.run(() -> topic.unavailable("its type in Redis is unknown (" + state.get(0) + ")"));
        } else if (reset) {
            topic.run(() -> topic.reset(type, value, version));
        } else {
            topic.run(() -> topic.loaded(type, value, version));
        }
    }

    @Override
    public void unfollow(Topic topic) {
        StatefulRedisPubSubConnection<String, String> p = pubsub;
        if (p != null) {
            p.async().unsubscribe(topicPrefix + topic.name);
        }
    }

    @Override
    public CompletableFuture<Boolean> commit(Topic topic, long base, TopicChange.Applied applied) {
        String update;
        ByteBuf payload = ChatroomEncoder.updatePayload(room.alloc, topic.name, applied.change(), base + 1);
        try {
            update = payload.toString(StandardCharsets.UTF_8);
        } finally {
            payload.release();
        }
        String key = topicPrefix + topic.name;
        StatefulRedisConnection<String, String> c = commands;
        if (c == null) {
            return notConnected();
        }
        return c.async().<Long>eval(COMMIT, ScriptOutputType.INTEGER, new String[] {key}, String.valueOf(base),
                JsonValues.toJson(applied.value()), key, update, String.valueOf(base + 1)).toCompletableFuture()
                .thenApply(stored -> stored == 1L);
    }

    @Override
    public void awaitNewer(Topic topic, long version) {
        // The winner's update is on its way on the channel; should it have been lost, reload.
        schedule(() -> topic.run(() -> {
            if (topic.version <= version) {
                resync(topic);
            }
        }), 500);
    }

    @Override
    public void resync(Topic topic) {
        String key = topicPrefix + topic.name;
        StatefulRedisConnection<String, String> c = commands;
        if (c == null) {
            schedule(() -> resync(topic), 1000);
            return;
        }
        c.async().<List<String>>eval(FOLLOW, ScriptOutputType.MULTI, new String[] {key, prefix + "topics"},
                        topic.type.wireName(), JsonValues.toJson(topic.type.emptyValue()), String.valueOf(maxTopics), topic.name)
                .whenComplete((state, failure) -> {
                    if (failure != null || state.isEmpty()) {
                        logger.warn("Chatroom: could not reload topic '{}': {}", topic.name,
                                failure != null ? Chatroom.rootMessage(failure) : "the cluster holds its most topics");
                        schedule(() -> resync(topic), 1000);
                    } else {
                        load(topic, state, true);
                    }
                });
    }

    // ---- Services ----

    private String holder(long clientId) {
        return link.nodeName() + "\t" + clientId;
    }

    @Override
    public CompletableFuture<String> registerService(String service, long clientId) {
        StatefulRedisConnection<String, String> c = commands;
        if (c == null) {
            return notConnected();
        }
        return c.async().<String>eval(REGISTER, ScriptOutputType.VALUE, new String[] {servicesKey}, service,
                holder(clientId), nodeKeyPrefix).toCompletableFuture()
                .thenApply(current -> current == null ? null : "client " + current.substring(current.indexOf('\t') + 1));
    }

    @Override
    public void unregisterService(String service, long clientId) {
        unregister(service, clientId);
    }

    private CompletableFuture<?> unregister(String service, long clientId) {
        StatefulRedisConnection<String, String> c = commands;
        if (c == null) {
            return CompletableFuture.completedFuture(null);
        }
        return c.async().eval(UNREGISTER, ScriptOutputType.INTEGER, new String[] {servicesKey}, service,
                holder(clientId)).toCompletableFuture();
    }

    @Override
    public void forwardRequest(Chatroom.Pending request, Object args) {
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("kind", "request");
        message.put("from", link.nodeName());
        message.put("id", request.id);
        message.put("service", request.service);
        message.put("args", args);
        StatefulRedisConnection<String, String> c = commands;
        if (c == null) {
            room.fail(request.id, "The cluster is unreachable: not connected to Redis yet");
            return;
        }
        c.async().<String>eval(ROUTE, ScriptOutputType.VALUE, new String[] {servicesKey}, request.service,
                nodeKeyPrefix, nodeChannelPrefix, JsonValues.toJson(message)).whenComplete((holder, failure) -> {
                    if (failure != null) {
                        room.fail(request.id, "The cluster is unreachable: " + Chatroom.rootMessage(failure));
                    } else if (holder == null) {
                        room.fail(request.id, Chatroom.noService(request.service));
                    }
                });
    }

    @Override
    public boolean respond(ChatroomSession responder, long requestId, Object response) {
        Forwarded f = forwarded.get(requestId);
        if (f == null || f.provider() != responder || !forwarded.remove(requestId, f)) {
            return false;
        }
        reply(f.node(), requestId, response, null);
        return true;
    }

    @Override
    public void providerGone(ChatroomSession provider) {
        forwarded.forEach((id, f) -> {
            if (f.provider() == provider && forwarded.remove(id, f)) {
                reply(f.node(), id, null, "The provider of service '" + f.service() + "' disconnected");
            }
        });
    }

    private void reply(String node, long requestId, Object response, String error) {
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("kind", "response");
        message.put("id", requestId);
        message.put("response", response);
        message.put("error", error);
        StatefulRedisConnection<String, String> c = commands;
        if (c != null) {
            c.async().publish(nodeChannel(node), JsonValues.toJson(message));
        }
    }

    /** A request from another node for a provider here. */
    private void onRequest(Map<?, ?> m) {
        String from = (String) m.get("from");
        long id = ((Number) m.get("id")).longValue();
        String service = (String) m.get("service");
        ChatroomSession provider = room.localServices().get(service);
        if (provider == null) {
            reply(from, id, null, Chatroom.noService(service));
            return;
        }
        forwarded.put(id, new Forwarded(from, provider, service));
        // The requester's node times the request out; this only forgets it.
        schedule(() -> forwarded.remove(id), requestTimeout.toMillis() + 1000);
        provider.sendRequest(service, m.get("args"), id);
    }

    @Override
    public String problem() {
        StatefulRedisConnection<String, String> c = commands;
        StatefulRedisPubSubConnection<String, String> p = pubsub;
        return c != null && c.isOpen() && p != null && p.isOpen() ? null
                : "chatroom: not connected to Redis at " + redis.endpoint();
    }

    @Override
    public CompletableFuture<Void> close() {
        // Normally the providers have disconnected by now, releasing their names; these are the stragglers.
        CompletableFuture<?>[] released = room.localServices().entrySet().stream()
                .map(e -> unregister(e.getKey(), e.getValue().id)).toArray(CompletableFuture[]::new);
        closed = true;
        lane.close();
        return CompletableFuture.allOf(released).handle((ignored, failure) -> null)
                .completeOnTimeout(null, 2, TimeUnit.SECONDS).thenRunAsync(() -> {
            if (pubsub != null) {
                pubsub.close();
            }
            if (commands != null) {
                commands.close();
            }
            // The clients and their threads are the node's RedisConnections', which Node closes next.
        });
    }

    private void schedule(Runnable task, long millis) {
        lane.schedule(task, millis, TimeUnit.MILLISECONDS); // nothing once closed
    }

    private String nodeChannel(String node) {
        return nodeChannelPrefix + node;
    }

    /** Receives from Redis, on a Lettuce thread. */
    private final class Listener extends RedisPubSubAdapter<String, String> {
        @Override
        @SuppressWarnings("unchecked")
        public void message(String channel, String message) {
            try {
                if (channel.startsWith(topicPrefix)) {
                    Topic topic = room.topicIfPresent(channel.substring(topicPrefix.length()));
                    if (topic == null) {
                        return; // left this node meanwhile
                    }
                    ChatroomMessage update = room.decoder.decode(io.netty.buffer.Unpooled.wrappedBuffer(
                            message.getBytes(StandardCharsets.UTF_8)));
                    Map<String, Object> change = (Map<String, Object>) update.required("change");
                    long version = ((Number) change.remove("version")).longValue();
                    topic.run(() -> topic.remote(version, change));
                } else {
                    Map<?, ?> m = (Map<?, ?>) JsonValues.parse(message);
                    if ("request".equals(m.get("kind"))) {
                        onRequest(m);
                    } else {
                        room.complete(((Number) m.get("id")).longValue(), m.get("response"), (String) m.get("error"));
                    }
                }
            } catch (ChatroomException | IOException | RuntimeException e) {
                logger.warn("Chatroom: ignored a malformed message on {}: {}", channel, e.toString());
            }
        }
    }
}
