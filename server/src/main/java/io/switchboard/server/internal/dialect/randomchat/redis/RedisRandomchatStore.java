package io.switchboard.server.internal.dialect.randomchat.redis;

import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.switchboard.protocol.randomchat.BriefMessage;
import io.switchboard.protocol.randomchat.Chat;
import io.switchboard.protocol.randomchat.ChatState;
import io.switchboard.protocol.randomchat.User;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.cluster.LuaScripts;
import io.switchboard.server.internal.cluster.RedisConnections;
import io.switchboard.server.internal.dialect.randomchat.RandomchatHub;
import io.switchboard.server.internal.dialect.randomchat.RandomchatRefusal;
import io.switchboard.server.internal.dialect.randomchat.RandomchatStore;
import io.switchboard.server.internal.dialect.randomchat.RandomchatTokens;
import io.switchboard.server.internal.metrics.Metrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The randomchat store of a cluster, in Redis (keys under {@code <REDIS_KEY_PREFIX>rc:}), so that
 * users on different nodes chat. Each operation is one Lua script (the prelude {@code randomchat.lua}
 * and the operation's own {@code .lua} file, resources of this package): its rules, its changes and
 * its pending decisions happen in one atomic step. Which users are online is a hash per user of its
 * connections, {@code node TAB login number}; a connection counts only while its node's liveness key
 * ({@code alive:<node>}, refreshed every third of {@code CLUSTER_NODE_TIMEOUT}) exists, so the users
 * of a node that died are offline within that timeout. Events for users on other nodes go through
 * Redis pub/sub, one channel per node ({@code node:<node>}). A message on its way to a user's
 * connections is in the sorted set {@code inflight:<phone>} until one of them wrote it; when the
 * user has no connection left (its last logout, or its nodes died) what is still there becomes
 * pending.
 *
 * <p>Commands go out on one connection in the order they are called (from the store's lane of the
 * node's {@link RedisConnections}, which also connects, so no event loop ever waits on Redis). That connection does not
 * reconnect by itself, which would resend what was in flight (applying a request twice); a command
 * that fails is answered as a failure and the next one reconnects. Redis runs with persistence
 * configured by its operator: this store is as durable as that Redis.
 *
 * <p>Thread-safe.
 */
public final class RedisRandomchatStore implements RandomchatStore {

    private static final Logger logger = LoggerFactory.getLogger(RedisRandomchatStore.class);
    /** Every script is this prelude (its helpers and the common arguments), a blank line, and its body. */
    private static final String PRELUDE = LuaScripts.load(RedisRandomchatStore.class, "randomchat.lua");

    private static final String LOGIN = script("login.lua");
    private static final String WITHDRAW_TOKEN = script("withdraw_token.lua");
    private static final String DELIVERED = script("delivered.lua");
    private static final String HAND_BACK = script("hand_back.lua");
    private static final String CREATE = script("create_chat.lua");
    private static final String SEND = script("send_message.lua");
    private static final String DELETE = script("delete_chat.lua");
    private static final String ADD = script("add_member.lua");
    private static final String REMOVE = script("remove_member.lua");

    static {
        // hand_back.lua keeps what a connection delivered as long as the SQLite store does.
        if (!HAND_BACK.contains("\nlocal DELIVERED_MS = " + DELIVERED_WINDOW_MILLIS + "\n")) {
            throw new IllegalStateException("hand_back.lua: DELIVERED_MS differs from DELIVERED_WINDOW_MILLIS ("
                    + DELIVERED_WINDOW_MILLIS + ")");
        }
    }

    private final RandomchatHub hub;
    private final Metrics metrics;
    private final String prefix;
    private final String node;
    private final boolean openLogin;
    private final int maxMembers;
    private final int maxChats;
    private final int maxAdded;
    private final byte[][] common;
    private final long aliveMillis;
    private final RedisConnections redis;
    /** Runs the store's commands in the order they were called, one at a time. */
    private final RedisConnections.Lane lane;
    /** No auto-reconnect: Lettuce would resend a script in flight when the connection dropped. */
    private volatile StatefulRedisConnection<byte[], byte[]> commands;
    /** SUBSCRIBE is idempotent: Lettuce reconnects this one and subscribes again. */
    private volatile StatefulRedisPubSubConnection<byte[], byte[]> pubsub;
    private volatile String problem;
    private volatile boolean closed;

    private RedisRandomchatStore(SwitchboardConfig config, RedisConnections redis, RandomchatHub hub,
                                 Metrics metrics) {
        this.hub = hub;
        this.metrics = metrics;
        this.prefix = config.redisKeyPrefix() + "rc:";
        SecureRandom random = new SecureRandom();
        this.node = String.format("%016x", random.nextLong());
        this.openLogin = config.randomchatOpenLogin();
        this.maxMembers = config.randomchatMaxMembers();
        this.maxChats = config.randomchatMaxChatsPerUser();
        this.maxAdded = config.randomchatMaxAddedChatsPerUser();
        this.aliveMillis = config.clusterNodeTimeout().toMillis();
        this.common = new byte[][] {utf8(prefix), utf8(node), utf8(Long.toString(aliveMillis)), null,
                utf8(Integer.toString(config.randomchatMaxPending())),
                utf8(Long.toString(config.randomchatPendingTtl().toMillis()))};
        this.redis = redis;
        this.problem = "connecting to Redis at " + redis.endpoint();
        this.lane = redis.lane("randomchat store");
    }

    /**
     * Returns a store that connects to Redis through {@code redis} in the background; {@code hub}
     * receives other nodes' events; the messages this node's scripts drop by the pending bound and
     * time limit are counted in {@code metrics}.
     */
    public static RedisRandomchatStore start(SwitchboardConfig config, RedisConnections redis, RandomchatHub hub,
                                             Metrics metrics) {
        RedisRandomchatStore store = new RedisRandomchatStore(config, redis, hub, metrics);
        long beat = Math.max(100, store.aliveMillis / 3);
        store.lane.execute(store::connected);
        store.lane.scheduleAtFixedRate(store::heartbeat, beat, beat, TimeUnit.MILLISECONDS);
        logger.info("randomchat: store in Redis at {} (keys '{}*'), node {}", redis.endpoint(), store.prefix,
                store.node);
        return store;
    }

    // ---- Operations ----

    @Override
    public CompletableFuture<Login> login(String name, String phone, String token, long now) {
        String fresh = RandomchatTokens.generate();
        return run(LOGIN, now, r -> {
            long connection = (Long) r.get(1);
            User user = user(r.get(3));
            List<ChatState> chats = new ArrayList<>();
            List<Pending> taken = new ArrayList<>();
            Map<String, User> senders = new HashMap<>();
            for (Object u : list(r.get(6))) {
                User sender = user(u);
                senders.put(sender.phone(), sender);
            }
            List<Object> entries = list(r.get(5));
            List<Object> ids = list(r.get(7));
            for (int i = 0; i < entries.size(); i++) {
                taken.add(entry(str(entries.get(i)), Pending.NOT_ROUTED, (Long) ids.get(i)));
            }
            // A message handed back after a later one was kept sits behind it in the list: by date.
            taken.sort((x, y) -> Long.compare(x.date(), y.date()));
            Map<String, List<BriefMessage>> byChat = new LinkedHashMap<>();
            for (Pending p : taken) {
                byChat.computeIfAbsent(p.chat(), c -> new ArrayList<>())
                        .add(new BriefMessage(senders.get(p.from()), p.date(), p.text()));
            }
            for (Object c : list(r.get(4))) {
                List<Object> data = list(c);
                String chatName = str(data.get(0));
                chats.add(new ChatState(chat(chatName, data.get(1), data.get(2)), byChat.getOrDefault(chatName, List.of())));
            }
            return new Login(connection, user, (Long) r.get(2) == 1 ? fresh : null, chats, taken);
        }, phone, null, utf8(phone), utf8(name), utf8(token == null ? "" : RandomchatTokens.hash(token)),
                utf8(RandomchatTokens.hash(fresh)), utf8(openLogin ? "1" : "0"));
    }

    @Override
    public CompletableFuture<Void> withdrawToken(String phone, String token) {
        return run(WITHDRAW_TOKEN, System.currentTimeMillis(), r -> null, phone, null, utf8(phone),
                utf8(RandomchatTokens.hash(token)));
    }

    @Override
    public CompletableFuture<Void> delivered(String phone, List<Long> ids) {
        byte[][] args = new byte[1 + ids.size()][];
        args[0] = utf8(phone);
        for (int i = 0; i < ids.size(); i++) {
            args[1 + i] = utf8(Long.toString(ids.get(i)));
        }
        return run(DELIVERED, System.currentTimeMillis(), r -> null, phone, null, args);
    }

    @Override
    public CompletableFuture<List<Outcome>> logout(String phone, long connection, List<Pending> missed,
                                                   List<Long> delivered, long now) {
        return handBack(phone, Long.toString(connection), missed, delivered, now);
    }

    @Override
    public CompletableFuture<List<Outcome>> requeue(String phone, Pending message) {
        return handBack(phone, "", List.of(message), List.of(), System.currentTimeMillis());
    }

    private CompletableFuture<List<Outcome>> handBack(String phone, String connection, List<Pending> missed,
                                                      List<Long> delivered, long now) {
        List<Pending> sorted = new ArrayList<>(missed);
        sorted.sort((a, b) -> Long.compare(a.date(), b.date()));
        byte[][] args = new byte[3 + 3 * sorted.size()][];
        args[0] = utf8(phone);
        args[1] = utf8(connection);
        StringBuilder got = new StringBuilder();
        for (Long seq : delivered) {
            got.append(got.length() == 0 ? "" : ",").append(seq);
        }
        args[2] = utf8(got.toString());
        for (int i = 0; i < sorted.size(); i++) {
            Pending p = sorted.get(i);
            args[3 + 3 * i] = utf8(Long.toString(p.seq()));
            args[4 + 3 * i] = utf8(Long.toString(p.id()));
            args[5 + 3 * i] = utf8(entry(p));
        }
        return run(HAND_BACK, now, r -> {
            List<Outcome> again = new ArrayList<>();
            for (Object o : list(r.get(1))) {
                List<Object> a = list(o);
                Pending p = entry(str(a.get(0)), (Long) a.get(1), (Long) a.get(2));
                again.add(outcome(Event.MESSAGE, chat(p.chat(), a.get(3), a.get(4)), user(a.get(5)), p, a.get(6)));
            }
            return again;
        }, phone, null, args);
    }

    @Override
    public CompletableFuture<Outcome> createChat(String by, String chat) {
        return run(CREATE, System.currentTimeMillis(),
                r -> outcome(Event.NEW_MEMBER, chat(chat, r.get(1), r.get(2)), user(r.get(3)), null, r.get(4)),
                by, chat, utf8(by), utf8(chat), utf8(Integer.toString(maxChats)));
    }

    @Override
    public CompletableFuture<Outcome> sendMessage(String by, String chat, String text, long now) {
        return run(SEND, now, r -> outcome(Event.MESSAGE, chat(chat, r.get(1), r.get(2)), user(r.get(3)),
                new Pending(chat, by, now, text, (Long) r.get(5), (Long) r.get(5)), r.get(4)), by, chat, utf8(by), utf8(chat), utf8(text));
    }

    @Override
    public CompletableFuture<Outcome> deleteChat(String by, String chat) {
        return run(DELETE, System.currentTimeMillis(),
                r -> outcome(Event.CHAT_DELETED, chat(chat, r.get(1), r.get(2)), null, null, r.get(4)),
                by, chat, utf8(by), utf8(chat));
    }

    @Override
    public CompletableFuture<Outcome> addMember(String by, String chat, String phone) {
        return run(ADD, System.currentTimeMillis(),
                r -> outcome(Event.NEW_MEMBER, chat(chat, r.get(1), r.get(2)), user(r.get(3)), null, r.get(4)),
                phone, chat, utf8(by), utf8(chat), utf8(phone), utf8(Integer.toString(maxMembers)),
                utf8(Integer.toString(maxAdded)));
    }

    @Override
    public CompletableFuture<Outcome> removeMember(String by, String chat, String phone) {
        return run(REMOVE, System.currentTimeMillis(),
                r -> outcome(Event.MEMBER_REMOVED, chat(chat, r.get(1), r.get(2)), user(r.get(3)), null, r.get(4)),
                phone, chat, utf8(by), utf8(chat), utf8(phone));
    }

    /**
     * Publishes the event to each node of {@code remote}: the phones, the message (to hand back if
     * it finds no connection there) and the frame. Does not take ownership of {@code frame}.
     */
    @Override
    public void forward(Map<String, List<String>> remote, ByteBuf frame, Pending message) {
        StatefulRedisConnection<byte[], byte[]> c = commands;
        for (Map.Entry<String, List<String>> e : remote.entrySet()) {
            byte[] payload = NodeMessage.encode(e.getValue(), message, frame);
            if (c == null || !c.isOpen()) {
                logger.warn("randomchat: an event for {} users on node {} could not be published: no connection to Redis",
                        e.getValue().size(), e.getKey());
                handBack(e.getValue(), message);
                continue;
            }
            c.async().publish(utf8(prefix + "node:" + e.getKey()), payload).whenComplete((n, failure) -> {
                if (failure != null) {
                    // Perhaps published all the same (a timeout): handing it back could deliver it twice.
                    logger.warn("randomchat: an event for node {} was lost: {}", e.getKey(), failure.toString());
                } else if (n == 0) {
                    // Nobody listens for that node (it is gone, or its subscription is reconnecting).
                    handBack(e.getValue(), message);
                }
            });
        }
    }

    /** A message that reached no node: settled for each of {@code phones} like one that found no connection. */
    private void handBack(List<String> phones, Pending message) {
        if (message != null) {
            phones.forEach(phone -> hub.requeue(phone, message));
        }
    }

    @Override
    public String problem() {
        return problem;
    }

    @Override
    public CompletableFuture<Void> close() {
        if (closed) {
            return CompletableFuture.completedFuture(null);
        }
        closed = true;
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            lane.execute(() -> {
                StatefulRedisConnection<byte[], byte[]> c = commands;
                StatefulRedisPubSubConnection<byte[], byte[]> p = pubsub;
                CompletableFuture<?> left = c == null || !c.isOpen() ? CompletableFuture.completedFuture(null)
                        : c.async().del(utf8(prefix + "alive:" + node)).toCompletableFuture();
                left.handle((ignored, failure) -> null)
                        .completeOnTimeout(null, 2, TimeUnit.SECONDS)
                        .thenComposeAsync(ignored -> {
                            lane.close();
                            // The clients and their threads are the node's RedisConnections', which Node closes next.
                            return CompletableFuture.allOf(c == null ? CompletableFuture.completedFuture(null)
                                    : c.closeAsync(), p == null ? CompletableFuture.completedFuture(null) : p.closeAsync());
                        })
                        .whenComplete((ignored, failure) -> done.complete(null));
            });
        } catch (RejectedExecutionException e) {
            done.complete(null); // the node's Redis connections are already closed
        }
        return done;
    }

    // ---- Running scripts ----

    /**
     * Runs {@code script} on the store's thread (connecting first if needed) with the common
     * arguments and {@code args}; a refusal becomes a {@link RandomchatRefusal} naming
     * {@code phone} and {@code chat}.
     */
    private <T> CompletableFuture<T> run(String script, long now, Function<List<Object>, T> parse, String phone,
                                         String chat, byte[]... args) {
        CompletableFuture<T> result = new CompletableFuture<>();
        byte[][] all = new byte[common.length + args.length][];
        System.arraycopy(common, 0, all, 0, common.length);
        all[3] = utf8(Long.toString(now));
        System.arraycopy(args, 0, all, common.length, args.length);
        try {
            lane.execute(() -> {
                StatefulRedisConnection<byte[], byte[]> c = connected();
                if (c == null) {
                    result.completeExceptionally(RandomchatRefusal.unavailable());
                    return;
                }
                c.async().<List<Object>>eval(script, ScriptOutputType.MULTI, new byte[0][], all)
                        .whenComplete((reply, failure) -> {
                            if (failure != null) {
                                logger.warn("randomchat: a Redis script failed: {}", failure.toString());
                                result.completeExceptionally(RandomchatRefusal.unavailable());
                                return;
                            }
                            try {
                                // Every reply ends with what the script dropped (randomchat.lua's reply()).
                                int n = reply.size();
                                metrics.randomchatDropped(Metrics.RandomchatDrop.MAX_PENDING, (Long) reply.get(n - 2));
                                metrics.randomchatDropped(Metrics.RandomchatDrop.TTL, (Long) reply.get(n - 1));
                                if ("err".equals(str(reply.get(0)))) {
                                    throw refusal(str(reply.get(1)), phone, chat);
                                }
                                result.complete(parse.apply(reply));
                            } catch (RuntimeException e) {
                                result.completeExceptionally(e);
                            }
                        });
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(RandomchatRefusal.stopping());
        }
        return result;
    }

    private RandomchatRefusal refusal(String code, String phone, String chat) {
        switch (code) {
            case "token_missing": return RandomchatRefusal.tokenMissing(phone);
            case "token_wrong": return RandomchatRefusal.tokenWrong(phone);
            case "chat_exists": return RandomchatRefusal.chatExists(chat);
            case "no_chat": return RandomchatRefusal.noChat(chat);
            case "not_member": return RandomchatRefusal.notMember(chat);
            case "not_owner_delete": return RandomchatRefusal.notOwnerDelete(chat);
            case "not_owner_remove": return RandomchatRefusal.notOwnerRemove(chat);
            case "already_member": return RandomchatRefusal.alreadyMember(phone, chat);
            case "no_user": return RandomchatRefusal.noUser(phone);
            case "not_a_member": return RandomchatRefusal.notAMember(phone, chat);
            case "owner_stays": return RandomchatRefusal.ownerStays(chat);
            case "full": return RandomchatRefusal.full(chat, maxMembers);
            case "too_many_chats": return RandomchatRefusal.tooManyChats(phone, maxChats);
            case "too_many_added": return RandomchatRefusal.tooManyAddedChats(phone, maxAdded);
            default: throw new IllegalStateException("unknown refusal from the script: " + code);
        }
    }

    /** The commands connection, opened if needed; {@code null} when Redis cannot be reached. On the store's thread. */
    private StatefulRedisConnection<byte[], byte[]> connected() {
        StatefulRedisConnection<byte[], byte[]> c = commands;
        if (c != null && c.isOpen()) {
            return c;
        }
        if (closed) {
            return null;
        }
        try {
            if (c != null) {
                c.closeAsync();
            }
            c = redis.commands(ByteArrayCodec.INSTANCE, false);
            commands = c;
            StatefulRedisPubSubConnection<byte[], byte[]> old = pubsub;
            if (old == null || !old.isOpen()) {
                // Lettuce reconnects this one and subscribes again by itself; should it be closed
                // all the same, a new one replaces it.
                if (old != null) {
                    old.closeAsync();
                }
                StatefulRedisPubSubConnection<byte[], byte[]> p = redis.pubsub(ByteArrayCodec.INSTANCE);
                p.setAutoFlushCommands(true);
                p.addListener(new Listener());
                p.sync().subscribe(utf8(prefix + "node:" + node));
                pubsub = p;
            }
            c.sync().set(utf8(prefix + "alive:" + node), utf8("1"),
                    io.lettuce.core.SetArgs.Builder.px(aliveMillis));
            if (problem != null) {
                logger.info("randomchat: connected to Redis at {}", redis.endpoint());
            }
            problem = null;
            return c;
        } catch (RuntimeException e) {
            String was = problem;
            problem = "the randomchat store cannot reach Redis at " + redis.endpoint() + ": " + e.getMessage();
            if (was == null || !was.equals(problem)) {
                logger.error("{}; randomchat requests are refused until it answers", problem);
            }
            return null;
        }
    }

    /** Keeps this node's connections counted: without it, they stop counting after the node timeout. */
    private void heartbeat() {
        StatefulRedisConnection<byte[], byte[]> c = connected();
        if (c != null) {
            c.async().set(utf8(prefix + "alive:" + node), utf8("1"), io.lettuce.core.SetArgs.Builder.px(aliveMillis));
        }
    }

    /** Receives the other nodes' events for this node's users, on a Lettuce thread. */
    private final class Listener extends RedisPubSubAdapter<byte[], byte[]> {
        @Override
        public void message(byte[] channel, byte[] message) {
            NodeMessage m;
            try {
                m = NodeMessage.decode(message);
            } catch (RuntimeException e) {
                logger.warn("randomchat: ignored a malformed event from Redis: {}", e.toString());
                return;
            }
            ByteBuf frame = Unpooled.wrappedBuffer(message, m.frameOffset(), message.length - m.frameOffset());
            try {
                hub.deliverLocal(m.phones(), frame, m.message());
            } finally {
                frame.release();
            }
        }
    }

    /** What one node tells another: phones, the message (if the event is one) and the frame. */
    record NodeMessage(List<String> phones, Pending message, int frameOffset) {

        static byte[] encode(List<String> phones, Pending message, ByteBuf frame) {
            ByteBuffer out = ByteBuffer.allocate(size(phones, message) + frame.readableBytes());
            out.putInt(phones.size());
            phones.forEach(p -> putString(out, p));
            out.put((byte) (message == null ? 0 : 1));
            if (message != null) {
                out.putLong(message.seq());
                out.putLong(message.id());
                out.putLong(message.date());
                putString(out, message.chat());
                putString(out, message.from());
                putString(out, message.text());
            }
            frame.getBytes(frame.readerIndex(), out.array(), out.position(), frame.readableBytes());
            return out.array();
        }

        static NodeMessage decode(byte[] bytes) {
            ByteBuffer in = ByteBuffer.wrap(bytes);
            int n = in.getInt();
            if (n < 0 || n > bytes.length) {
                throw new IllegalArgumentException("phones: " + n);
            }
            List<String> phones = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                phones.add(getString(in));
            }
            Pending message = null;
            if (in.get() == 1) {
                long seq = in.getLong();
                long id = in.getLong();
                long date = in.getLong();
                message = new Pending(getString(in), getString(in), date, getString(in), seq, id);
            }
            return new NodeMessage(phones, message, in.position());
        }

        private static int size(List<String> phones, Pending message) {
            int size = 4 + 1;
            for (String p : phones) {
                size += 4 + utf8(p).length;
            }
            if (message != null) {
                size += 24 + 12 + utf8(message.chat()).length + utf8(message.from()).length + utf8(message.text()).length;
            }
            return size;
        }

        private static void putString(ByteBuffer out, String s) {
            byte[] b = utf8(s);
            out.putInt(b.length);
            out.put(b);
        }

        private static String getString(ByteBuffer in) {
            int n = in.getInt();
            if (n < 0 || n > in.remaining()) {
                throw new IllegalArgumentException("string of " + n + " bytes");
            }
            String s = new String(in.array(), in.position(), n, StandardCharsets.UTF_8);
            in.position(in.position() + n);
            return s;
        }
    }

    // ---- Parsing script replies ----

    private Outcome outcome(Event event, Chat chat, User user, Pending message, Object routes) {
        List<String> local = new ArrayList<>();
        Map<String, List<String>> remote = new HashMap<>();
        List<Object> flat = list(routes);
        for (int i = 0; i + 1 < flat.size(); i += 2) {
            String toNode = str(flat.get(i));
            String phone = str(flat.get(i + 1));
            if (toNode.equals(node)) {
                local.add(phone);
            } else {
                remote.computeIfAbsent(toNode, n -> new ArrayList<>()).add(phone);
            }
        }
        return new Outcome(event, chat, user, message, local, remote);
    }

    private static Chat chat(String name, Object owner, Object members) {
        String ownerPhone = str(owner);
        List<User> users = new ArrayList<>();
        User ownerUser = null;
        for (Object m : list(members)) {
            User u = user(m);
            users.add(u);
            if (u.phone().equals(ownerPhone)) {
                ownerUser = u;
            }
        }
        return new Chat(name, users, ownerUser != null ? ownerUser : new User(ownerPhone, ownerPhone, User.NEVER));
    }

    private static User user(Object o) {
        if (o == null) {
            return null;
        }
        List<Object> u = list(o);
        String disc = str(u.get(2));
        return new User(str(u.get(0)), str(u.get(1)), disc.isEmpty() ? User.NEVER : Long.parseLong(disc));
    }

    /** A pending entry: {@code date TAB from TAB chat TAB text}. */
    private static String entry(Pending p) {
        return p.date() + "\t" + p.from() + "\t" + p.chat() + "\t" + p.text();
    }

    private static Pending entry(String e, long seq, long id) {
        String[] f = e.split("\t", 4);
        return new Pending(f[2], f[1], Long.parseLong(f[0]), f[3], seq, id);
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object o) {
        return o == null ? List.of() : (List<Object>) o;
    }

    private static String str(Object o) {
        return o instanceof byte[] ? new String((byte[]) o, StandardCharsets.UTF_8) : String.valueOf(o);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String script(String name) {
        return PRELUDE + "\n\n" + LuaScripts.load(RedisRandomchatStore.class, name);
    }
}
