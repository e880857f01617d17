package io.switchboard.server.internal.dialect.randomchat.sqlite;

import io.switchboard.protocol.randomchat.BriefMessage;
import io.switchboard.protocol.randomchat.Chat;
import io.switchboard.protocol.randomchat.ChatState;
import io.switchboard.protocol.randomchat.User;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.dialect.randomchat.RandomchatRefusal;
import io.switchboard.server.internal.dialect.randomchat.RandomchatStore;
import io.switchboard.server.internal.dialect.randomchat.RandomchatTokens;
import io.switchboard.server.internal.metrics.Metrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The randomchat store of a single node: one SQLite file, {@code DATA_DIR/randomchat.db}, in WAL
 * mode with {@code synchronous=FULL}, so a transaction is on disk when its commit returns and a
 * {@code kill -9} loses nothing that was acknowledged.
 *
 * <p>One writer thread applies every operation, in order, and owns the connection and the map of
 * online users: operations queued together share one transaction (group commit: one fsync for many
 * operations), each inside a savepoint so that a failing one is undone alone, and their futures
 * complete after the commit. The file is locked exclusively: one node per {@code DATA_DIR}.
 */
public final class SqliteRandomchatStore implements RandomchatStore {

    private static final Logger logger = LoggerFactory.getLogger(SqliteRandomchatStore.class);
    static final String FILE_NAME = "randomchat.db";
    /** The most operations in one transaction. */
    private static final int MAX_BATCH = 256;
    /** How often messages older than the pending TTL are purged. */
    private static final long PURGE_INTERVAL_MILLIS = TimeUnit.HOURS.toMillis(1);
    /** 2 added {@code inflight} (issue 15): an older version would ignore it and lose what it holds. */
    private static final int SCHEMA_VERSION = 2;
    private static final String[] SCHEMA = {
        "CREATE TABLE IF NOT EXISTS users (phone TEXT PRIMARY KEY, name TEXT NOT NULL, token_hash TEXT NOT NULL,"
                + " disconnected_at INTEGER, online INTEGER NOT NULL DEFAULT 0)",
        "CREATE TABLE IF NOT EXISTS chats (name TEXT PRIMARY KEY, owner TEXT NOT NULL REFERENCES users(phone))",
        "CREATE INDEX IF NOT EXISTS chats_by_owner ON chats (owner)",
        // rowid orders the members as they joined.
        "CREATE TABLE IF NOT EXISTS members (chat TEXT NOT NULL REFERENCES chats(name) ON DELETE CASCADE,"
                + " phone TEXT NOT NULL REFERENCES users(phone), UNIQUE (chat, phone))",
        "CREATE INDEX IF NOT EXISTS members_by_phone ON members (phone)",
        "CREATE TABLE IF NOT EXISTS pending (id INTEGER PRIMARY KEY AUTOINCREMENT, phone TEXT NOT NULL,"
                + " chat TEXT NOT NULL, sender TEXT NOT NULL, sent_at INTEGER NOT NULL, text TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS pending_by_phone ON pending (phone, id)",
        "CREATE INDEX IF NOT EXISTS pending_by_chat ON pending (chat, phone)",
        // Messages on their way to online members (RandomchatStore's class comment); id is the
        // writer's seq, which restarts with the process: open() empties the table first.
        "CREATE TABLE IF NOT EXISTS inflight (phone TEXT NOT NULL, id INTEGER NOT NULL, chat TEXT NOT NULL,"
                + " sender TEXT NOT NULL, sent_at INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (phone, id))",
        "CREATE INDEX IF NOT EXISTS inflight_by_chat ON inflight (chat, phone)",
    };

    private final Path file;
    private final boolean openLogin;
    private final int maxPending;
    private final long pendingTtlMillis;
    private final int maxMembers;
    private final int maxChats;
    private final int maxAdded;
    private final Metrics metrics;
    private final LinkedBlockingQueue<Op<?>> queue = new LinkedBlockingQueue<>();
    private final CompletableFuture<Void> closed = new CompletableFuture<>();
    private final Thread writer;
    private volatile boolean closing;
    private volatile String problem;

    // Owned by the writer thread.
    private Connection db;
    /**
     * What the user's closed connections delivered lately: message number to when the logout said
     * so, kept {@link #DELIVERED_WINDOW_MILLIS} (the writer thread's).
     */
    private final Map<String, Map<Long, Long>> recentlyDelivered = new HashMap<>();
    private long deliveredSweepAt;

    /** The connections of each online user, by the number of their login. */
    private final Map<String, TreeSet<Long>> online = new HashMap<>();
    /** Users' connections before the current batch changed them, to restore if its commit fails. */
    private final Map<String, TreeSet<Long>> onlineUndo = new HashMap<>();
    /** Numbers logins and routings of messages (RandomchatStore's class comment). */
    private long seq;
    private long nextPurge;
    /** Messages dropped by RANDOMCHAT_MAX_PENDING and RANDOMCHAT_PENDING_TTL since the last commit, counted once it is done. */
    private long droppedOverMax;
    private long droppedByTtl;

    /** One operation: runs on the writer thread inside the batch's transaction. */
    private abstract static class Op<T> {
        final CompletableFuture<T> future = new CompletableFuture<>();
        T result;
        RuntimeException refusal;

        abstract T run() throws SQLException;

        /** After the batch's commit failed and the online map was restored: what must hold all the same. */
        void failed() {
        }
    }

    private SqliteRandomchatStore(SwitchboardConfig config, Metrics metrics) {
        this.metrics = metrics;
        this.file = config.dataDir().resolve(FILE_NAME);
        this.openLogin = config.randomchatOpenLogin();
        this.maxPending = config.randomchatMaxPending();
        this.pendingTtlMillis = config.randomchatPendingTtl().toMillis();
        this.maxMembers = config.randomchatMaxMembers();
        this.maxChats = config.randomchatMaxChatsPerUser();
        this.maxAdded = config.randomchatMaxAddedChatsPerUser();
        this.problem = "opening " + file;
        this.writer = new Thread(this::run, "switchboard-randomchat-store");
        writer.setDaemon(true);
    }

    /**
     * Returns a store that opens {@code config.dataDir()} on its own thread; the messages it drops by
     * the pending bound and time limit are counted in {@code metrics}.
     */
    public static SqliteRandomchatStore start(SwitchboardConfig config, Metrics metrics) {
        SqliteRandomchatStore store = new SqliteRandomchatStore(config, metrics);
        store.writer.start();
        return store;
    }

    // ---- Operations: called on any thread ----

    @Override
    public CompletableFuture<Login> login(String name, String phone, String token, long now) {
        return submit(new Op<>() {
            @Override
            Login run() throws SQLException {
                return doLogin(name, phone, token, now);
            }
        });
    }

    @Override
    public CompletableFuture<Void> withdrawToken(String phone, String token) {
        return submit(new Op<>() {
            @Override
            Void run() throws SQLException {
                // An empty hash matches no token: the next register issues a new one.
                update("UPDATE users SET token_hash = '' WHERE phone = ? AND token_hash = ?", phone,
                        RandomchatTokens.hash(token));
                return null;
            }
        });
    }

    @Override
    public CompletableFuture<List<Outcome>> logout(String phone, long connection, List<Pending> missed,
                                                   List<Long> delivered, long now) {
        return submit(new Op<>() {
            @Override
            List<Outcome> run() throws SQLException {
                recordDelivered(phone, delivered, System.currentTimeMillis());
                TreeSet<Long> connections = connections(phone);
                connections.remove(connection);
                if (connections.isEmpty()) {
                    update("UPDATE users SET disconnected_at = ?, online = 0 WHERE phone = ?", now, phone);
                }
                List<Outcome> again = handBack(phone, missed);
                if (connections.isEmpty()) {
                    strand(phone); // what its connections never wrote waits for the next login
                }
                return again;
            }

            @Override
            void failed() {
                // The connection is gone whether or not its logout could be written (the hub tries
                // it again): messages must not be routed to it as if it were online.
                TreeSet<Long> connections = online.get(phone);
                if (connections != null && connections.remove(connection) && connections.isEmpty()) {
                    online.remove(phone);
                }
            }
        });
    }

    @Override
    public CompletableFuture<Void> delivered(String phone, List<Long> ids) {
        return submit(new Op<>() {
            @Override
            Void run() throws SQLException {
                try (PreparedStatement s = db.prepareStatement("DELETE FROM inflight WHERE phone = ? AND id = ?")) {
                    for (Long id : ids) {
                        s.setString(1, phone);
                        s.setLong(2, id);
                        s.executeUpdate();
                    }
                }
                return null;
            }
        });
    }

    @Override
    public CompletableFuture<List<Outcome>> requeue(String phone, Pending message) {
        return submit(new Op<>() {
            @Override
            List<Outcome> run() throws SQLException {
                return handBack(phone, List.of(message));
            }
        });
    }

    @Override
    public CompletableFuture<Outcome> createChat(String by, String chat) {
        return submit(new Op<>() {
            @Override
            Outcome run() throws SQLException {
                if (exists("SELECT 1 FROM chats WHERE name = ?", chat)) {
                    throw RandomchatRefusal.chatExists(chat);
                }
                checkOwned(by);
                update("INSERT INTO chats (name, owner) VALUES (?, ?)", chat, by);
                update("INSERT INTO members (chat, phone) VALUES (?, ?)", chat, by);
                Chat c = chat(chat);
                return outcome(Event.NEW_MEMBER, c, c.owner(), null);
            }
        });
    }

    @Override
    public CompletableFuture<Outcome> sendMessage(String by, String chat, String text, long now) {
        return submit(new Op<>() {
            @Override
            Outcome run() throws SQLException {
                Chat c = memberOf(by, chat);
                long routed = ++seq;
                Pending message = new Pending(chat, by, now, text, routed, routed);
                User from = null;
                for (User m : c.members()) {
                    if (m.phone().equals(by)) {
                        from = m;
                    }
                    if (isOnline(m.phone())) {
                        inFlight(m.phone(), message); // until written: a crash before leaves it pending
                    } else {
                        keep(m.phone(), List.of(message));
                    }
                }
                return outcome(Event.MESSAGE, c, from, message);
            }
        });
    }

    @Override
    public CompletableFuture<Outcome> deleteChat(String by, String chat) {
        return submit(new Op<>() {
            @Override
            Outcome run() throws SQLException {
                Chat c = chat(chat);
                if (!c.owner().phone().equals(by)) {
                    throw c.members().stream().anyMatch(m -> m.phone().equals(by))
                            ? RandomchatRefusal.notOwnerDelete(chat) : RandomchatRefusal.notMember(chat);
                }
                update("DELETE FROM pending WHERE chat = ?", chat);
                update("DELETE FROM inflight WHERE chat = ?", chat);
                update("DELETE FROM chats WHERE name = ?", chat); // members go with it (ON DELETE CASCADE)
                return outcome(Event.CHAT_DELETED, c, null, null);
            }
        });
    }

    @Override
    public CompletableFuture<Outcome> addMember(String by, String chat, String phone) {
        return submit(new Op<>() {
            @Override
            Outcome run() throws SQLException {
                Chat c = memberOf(by, chat);
                if (c.members().stream().anyMatch(m -> m.phone().equals(phone))) {
                    throw RandomchatRefusal.alreadyMember(phone, chat);
                }
                User added = user(phone);
                if (added == null) {
                    throw RandomchatRefusal.noUser(phone);
                }
                if (c.members().size() >= maxMembers) {
                    throw RandomchatRefusal.full(chat, maxMembers);
                }
                checkAdded(phone);
                update("INSERT INTO members (chat, phone) VALUES (?, ?)", chat, phone);
                return outcome(Event.NEW_MEMBER, chat(chat), added, null);
            }
        });
    }

    @Override
    public CompletableFuture<Outcome> removeMember(String by, String chat, String phone) {
        return submit(new Op<>() {
            @Override
            Outcome run() throws SQLException {
                Chat before = memberOf(by, chat);
                // A member may remove itself (leave: issue 15), the owner anyone but itself.
                if (!phone.equals(by) && !before.owner().phone().equals(by)) {
                    throw RandomchatRefusal.notOwnerRemove(chat);
                }
                User removed = before.members().stream().filter(m -> m.phone().equals(phone)).findFirst()
                        .orElseThrow(() -> RandomchatRefusal.notAMember(phone, chat));
                if (phone.equals(before.owner().phone())) {
                    throw RandomchatRefusal.ownerStays(chat);
                }
                update("DELETE FROM members WHERE chat = ? AND phone = ?", chat, phone);
                update("DELETE FROM pending WHERE chat = ? AND phone = ?", chat, phone);
                update("DELETE FROM inflight WHERE chat = ? AND phone = ?", chat, phone);
                // Every member hears of it, the removed one included.
                Outcome o = outcome(Event.MEMBER_REMOVED, chat(chat), removed, null);
                List<String> local = new ArrayList<>(o.local());
                if (isOnline(phone)) {
                    local.add(phone);
                }
                return new Outcome(o.event(), o.chat(), o.user(), null, local, Map.of());
            }
        });
    }

    @Override
    public String problem() {
        return problem;
    }

    @Override
    public CompletableFuture<Void> close() {
        if (!closing) {
            closing = true;
            queue.add(new Op<Void>() {
                @Override
                Void run() {
                    return null;
                }
            });
        }
        return closed;
    }

    private <T> CompletableFuture<T> submit(Op<T> op) {
        if (closing) {
            op.future.completeExceptionally(RandomchatRefusal.stopping());
        } else {
            queue.add(op);
        }
        return op.future;
    }

    // ---- The writer thread ----

    private void run() {
        try {
            open();
            problem = null;
            logger.info("randomchat: store at {}", file.toAbsolutePath());
        } catch (Exception e) {
            problem = "the randomchat store " + file.toAbsolutePath() + " cannot be opened: " + e.getMessage();
            logger.error("{}; randomchat requests are refused", problem);
            closeQuietly();
        }
        List<Op<?>> batch = new ArrayList<>();
        boolean stop = false;
        while (!stop) {
            try {
                long now = System.currentTimeMillis();
                if (db != null && now >= nextPurge) {
                    purge(now);
                }
                // Without a file there is nothing to purge: wait for operations to refuse.
                Op<?> first = db == null ? queue.take()
                        : queue.poll(Math.max(1, nextPurge - now), TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, MAX_BATCH - 1);
                stop = closing && queue.isEmpty();
                apply(batch);
            } catch (InterruptedException e) {
                stop = true;
            } catch (RuntimeException e) {
                logger.error("randomchat: store failure", e);
            } finally {
                batch.clear();
            }
        }
        closeQuietly();
        closed.complete(null);
    }

    /** Runs {@code batch} in one transaction and completes its futures once it is committed. */
    private void apply(List<Op<?>> batch) {
        if (db == null) {
            batch.forEach(op -> op.future.completeExceptionally(RandomchatRefusal.unavailable()));
            return;
        }
        onlineUndo.clear();
        try {
            for (Op<?> op : batch) {
                Savepoint savepoint = db.setSavepoint();
                try {
                    run(op);
                    db.releaseSavepoint(savepoint);
                } catch (RandomchatRefusal refusal) {
                    op.refusal = refusal;
                    db.rollback(savepoint);
                }
            }
            db.commit();
            countDrops();
            online.values().removeIf(TreeSet::isEmpty);
        } catch (SQLException | RuntimeException e) {
            droppedOverMax = 0;
            droppedByTtl = 0;
            logger.error("randomchat: a transaction of {} operations failed: {}", batch.size(), e.toString());
            try {
                db.rollback();
            } catch (SQLException ignored) {
                // the failure above is the one to report
            }
            onlineUndo.forEach((phone, before) -> {
                if (before.isEmpty()) {
                    online.remove(phone);
                } else {
                    online.put(phone, before);
                }
            });
            batch.forEach(Op::failed);
            batch.forEach(op -> op.future.completeExceptionally(RandomchatRefusal.unavailable()));
            return;
        }
        for (Op<?> op : batch) {
            complete(op);
        }
    }

    private static <T> void run(Op<T> op) throws SQLException {
        op.result = op.run();
    }

    private static <T> void complete(Op<T> op) {
        if (op.refusal != null) {
            op.future.completeExceptionally(op.refusal);
        } else {
            op.future.complete(op.result);
        }
    }

    private void open() throws Exception {
        if (!onClassPath("org.sqlite.JDBC")) {
            throw new IllegalStateException("the SQLite driver (org.xerial:sqlite-jdbc) is not on the class path");
        }
        Files.createDirectories(file.getParent());
        db = DriverManager.getConnection("jdbc:sqlite:" + file);
        try (Statement s = db.createStatement()) {
            // One node per file: a second process fails here instead of sharing the online map.
            s.execute("PRAGMA locking_mode = EXCLUSIVE");
            s.execute("PRAGMA busy_timeout = 1000");
            s.execute("PRAGMA journal_mode = WAL");
            s.execute("PRAGMA synchronous = FULL"); // the WAL is fsynced at every commit
            s.execute("PRAGMA foreign_keys = ON");
            try (ResultSet r = s.executeQuery("PRAGMA user_version")) {
                int version = r.next() ? r.getInt(1) : 0;
                if (version > SCHEMA_VERSION) {
                    throw new IllegalStateException("written by a newer version (schema " + version + ")");
                }
            }
        }
        db.setAutoCommit(false);
        try (Statement s = db.createStatement()) {
            for (String ddl : SCHEMA) {
                s.execute(ddl);
            }
            s.execute("PRAGMA user_version = " + SCHEMA_VERSION);
        }
        // Users online when the last process died (kill -9) left then, as far as anyone can tell; what
        // was on its way to their connections waits for their next login.
        int left = update("UPDATE users SET disconnected_at = ?, online = 0 WHERE online = 1",
                System.currentTimeMillis());
        List<String> stranded = new ArrayList<>();
        try (PreparedStatement s = db.prepareStatement("SELECT DISTINCT phone FROM inflight");
             ResultSet r = s.executeQuery()) {
            while (r.next()) {
                stranded.add(r.getString(1));
            }
        }
        for (String phone : stranded) {
            strand(phone);
        }
        db.commit();
        countDrops();
        if (!stranded.isEmpty()) {
            logger.info("randomchat: messages on their way to {} users when the last process stopped wait for "
                    + "their next login", stranded.size());
        }
        if (left > 0) {
            logger.info("randomchat: {} users were online when the last process stopped; now offline", left);
        }
    }

    private void purge(long now) {
        nextPurge = now + PURGE_INTERVAL_MILLIS;
        try {
            int n = update("DELETE FROM pending WHERE sent_at < ?", now - pendingTtlMillis);
            int f = update("DELETE FROM inflight WHERE sent_at < ?", now - pendingTtlMillis);
            db.commit();
            metrics.randomchatDropped(Metrics.RandomchatDrop.TTL, n + f);
            if (n > 0) {
                logger.info("randomchat: dropped {} undelivered messages older than {} ms", n, pendingTtlMillis);
            }
        } catch (SQLException e) {
            logger.warn("randomchat: could not purge old messages: {}", e.toString());
        }
    }

    /** Counts what the transaction just committed dropped by the pending bound and time limit. */
    private void countDrops() {
        metrics.randomchatDropped(Metrics.RandomchatDrop.MAX_PENDING, droppedOverMax);
        metrics.randomchatDropped(Metrics.RandomchatDrop.TTL, droppedByTtl);
        droppedOverMax = 0;
        droppedByTtl = 0;
    }

    private void closeQuietly() {
        if (db != null) {
            try {
                db.close();
            } catch (SQLException e) {
                logger.warn("randomchat: closing the store: {}", e.toString());
            }
            db = null;
        }
    }

    // ---- Helpers, on the writer thread ----

    private Login doLogin(String name, String phone, String token, long now) throws SQLException {
        String newToken = null;
        String storedName;
        String hash;
        try (PreparedStatement s = db.prepareStatement("SELECT name, token_hash FROM users WHERE phone = ?")) {
            s.setString(1, phone);
            try (ResultSet r = s.executeQuery()) {
                storedName = r.next() ? r.getString(1) : null;
                hash = storedName == null ? null : r.getString(2);
            }
        }
        if (storedName == null) {
            newToken = RandomchatTokens.generate();
            update("INSERT INTO users (phone, name, token_hash, online) VALUES (?, ?, ?, 1)", phone, name,
                    RandomchatTokens.hash(newToken));
        } else if (hash.isEmpty()) {
            // The token issued at registration never reached the client (withdrawToken): a new one.
            newToken = RandomchatTokens.generate();
            update("UPDATE users SET name = ?, token_hash = ?, online = 1 WHERE phone = ?", name,
                    RandomchatTokens.hash(newToken), phone);
        } else {
            if (!openLogin) {
                if (token == null) {
                    throw RandomchatRefusal.tokenMissing(phone);
                }
                if (!RandomchatTokens.matches(token, hash)) {
                    throw RandomchatRefusal.tokenWrong(phone);
                }
            }
            update("UPDATE users SET name = ?, online = 1 WHERE phone = ?", name, phone);
        }
        long connection = ++seq;
        connections(phone).add(connection);

        // Take what waited for the user, in the same transaction that puts it into the state.
        droppedByTtl += update("DELETE FROM pending WHERE phone = ? AND sent_at < ?", phone, now - pendingTtlMillis);
        Map<String, List<Pending>> byChat = new LinkedHashMap<>();
        List<Pending> taken = new ArrayList<>();
        try (PreparedStatement s = db.prepareStatement(
                "SELECT chat, sender, sent_at, text FROM pending WHERE phone = ? ORDER BY sent_at, id")) {
            s.setString(1, phone);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    Pending p = new Pending(r.getString(1), r.getString(2), r.getLong(3), r.getString(4),
                            Pending.NOT_ROUTED, ++seq);
                    taken.add(p);
                    byChat.computeIfAbsent(p.chat(), c -> new ArrayList<>()).add(p);
                }
            }
        }
        update("DELETE FROM pending WHERE phone = ?", phone);
        // In flight until the state is written: a crash before leaves them pending.
        for (Pending p : taken) {
            inFlight(phone, p);
        }

        List<String> chatNames = new ArrayList<>();
        try (PreparedStatement s = db.prepareStatement("SELECT chat FROM members WHERE phone = ? ORDER BY rowid")) {
            s.setString(1, phone);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    chatNames.add(r.getString(1));
                }
            }
        }
        Map<String, User> senders = new HashMap<>();
        List<ChatState> state = new ArrayList<>();
        for (String chatName : chatNames) {
            List<BriefMessage> messages = new ArrayList<>();
            for (Pending p : byChat.getOrDefault(chatName, List.of())) {
                User from = senders.get(p.from());
                if (from == null) {
                    from = user(p.from());
                    senders.put(p.from(), from);
                }
                messages.add(new BriefMessage(from, p.date(), p.text()));
            }
            state.add(new ChatState(chat(chatName), messages));
        }
        return new Login(connection, user(phone), newToken, state, taken);
    }

    /**
     * Settles messages that did not reach a connection of {@code phone} (RandomchatStore's class
     * comment): dropped when a connection that was online at their routing is still open; routed
     * again (returned) to connections that came later; kept when the user is offline. Only what is
     * still in flight for the user: what a connection of it wrote is settled already.
     */
    private List<Outcome> handBack(String phone, List<Pending> missed) throws SQLException {
        TreeSet<Long> connections = isOnline(phone) ? online.get(phone) : null;
        Map<Long, Long> gotIt = recentlyDelivered.getOrDefault(phone, Map.of());
        List<Pending> kept = new ArrayList<>();
        List<Outcome> again = new ArrayList<>();
        for (Pending m : missed) {
            if (connections != null && connections.first() < m.seq()) {
                continue; // that connection got it, or hands it back itself: still in flight
            }
            if (!exists("SELECT 1 FROM inflight WHERE phone = ? AND id = ?", phone, m.id())) {
                continue; // another connection of the user wrote it, or it is pending already
            }
            Chat c = null;
            if (!gotIt.containsKey(m.seq())) { // else a connection of the user that has closed since wrote it
                try {
                    c = memberOf(phone, m.chat());
                } catch (RandomchatRefusal gone) {
                    // the chat was deleted, or the user removed from it, meanwhile
                }
            }
            if (c != null && connections != null) {
                // Routed again to the connections that came later: in flight still.
                again.add(new Outcome(Event.MESSAGE, c, user(m.from()), m.routed(++seq), List.of(phone), Map.of()));
                continue;
            }
            update("DELETE FROM inflight WHERE phone = ? AND id = ?", phone, m.id());
            if (c != null) {
                kept.add(m); // the user is offline
            }
        }
        kept.sort((a, b) -> Long.compare(a.date(), b.date()));
        keep(phone, kept);
        return again;
    }

    /** Notes what a closed connection of {@code phone} delivered, and forgets what is older than the window. */
    private void recordDelivered(String phone, List<Long> delivered, long now) {
        if (!delivered.isEmpty()) {
            Map<Long, Long> got = recentlyDelivered.computeIfAbsent(phone, p -> new HashMap<>());
            for (Long seq : delivered) {
                got.put(seq, now);
            }
        }
        if (now - deliveredSweepAt >= DELIVERED_WINDOW_MILLIS) {
            deliveredSweepAt = now;
            recentlyDelivered.values().forEach(got -> got.values().removeIf(at -> now - at > DELIVERED_WINDOW_MILLIS));
            recentlyDelivered.values().removeIf(Map::isEmpty);
        }
    }

    /** Notes {@code message} in flight for {@code phone}, dropping its oldest past the pending bound. */
    private void inFlight(String phone, Pending message) throws SQLException {
        update("INSERT INTO inflight (phone, id, chat, sender, sent_at, text) VALUES (?, ?, ?, ?, ?, ?)", phone,
                message.id(), message.chat(), message.from(), message.date(), message.text());
        droppedOverMax += update("DELETE FROM inflight WHERE phone = ? AND id <= "
                + "(SELECT id FROM inflight WHERE phone = ? ORDER BY id DESC LIMIT 1 OFFSET ?)", phone, phone, maxPending);
    }

    /** {@code phone} has no connection left: what was in flight to it is pending. */
    private void strand(String phone) throws SQLException {
        List<Pending> left = new ArrayList<>();
        try (PreparedStatement s = db.prepareStatement(
                "SELECT chat, sender, sent_at, text, id FROM inflight WHERE phone = ? ORDER BY sent_at, id")) {
            s.setString(1, phone);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    left.add(new Pending(r.getString(1), r.getString(2), r.getLong(3), r.getString(4),
                            Pending.NOT_ROUTED, r.getLong(5)));
                }
            }
        }
        if (!left.isEmpty()) {
            update("DELETE FROM inflight WHERE phone = ?", phone);
            keep(phone, left);
        }
    }

    /** Keeps {@code messages} for {@code phone}, dropping its oldest past the bound. */
    private void keep(String phone, List<Pending> messages) throws SQLException {
        if (messages.isEmpty()) {
            return;
        }
        try (PreparedStatement s = db.prepareStatement(
                "INSERT INTO pending (phone, chat, sender, sent_at, text) VALUES (?, ?, ?, ?, ?)")) {
            for (Pending p : messages) {
                s.setString(1, phone);
                s.setString(2, p.chat());
                s.setString(3, p.from());
                s.setLong(4, p.date());
                s.setString(5, p.text());
                s.executeUpdate();
            }
        }
        try (PreparedStatement s = db.prepareStatement("DELETE FROM pending WHERE phone = ? AND id <= "
                + "(SELECT id FROM pending WHERE phone = ? ORDER BY id DESC LIMIT 1 OFFSET ?)")) {
            s.setString(1, phone);
            s.setString(2, phone);
            s.setInt(3, maxPending);
            droppedOverMax += s.executeUpdate();
        }
    }

    /**
     * Refuses a new chat of {@code phone} when it owns {@code RANDOMCHAT_MAX_CHATS_PER_USER} already:
     * only the chats it created count, so no other user can use up its limit (issue 15).
     */
    private void checkOwned(String phone) throws SQLException {
        if (count("SELECT COUNT(*) FROM chats WHERE owner = ?", phone) >= maxChats) {
            throw RandomchatRefusal.tooManyChats(phone, maxChats);
        }
    }

    /** Refuses to add {@code phone} to one more chat of another owner past {@code RANDOMCHAT_MAX_ADDED_CHATS_PER_USER}. */
    private void checkAdded(String phone) throws SQLException {
        if (count("SELECT COUNT(*) FROM members m JOIN chats c ON c.name = m.chat WHERE m.phone = ?1 AND c.owner <> ?1",
                phone) >= maxAdded) {
            throw RandomchatRefusal.tooManyAddedChats(phone, maxAdded);
        }
    }

    private long count(String sql, String arg) throws SQLException {
        try (PreparedStatement s = db.prepareStatement(sql)) {
            s.setString(1, arg);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? r.getLong(1) : 0;
            }
        }
    }

    /** The user's connections, to change: emptied sets are dropped at the end of the batch. */
    private TreeSet<Long> connections(String phone) {
        TreeSet<Long> set = online.computeIfAbsent(phone, p -> new TreeSet<>());
        onlineUndo.computeIfAbsent(phone, p -> new TreeSet<>(set));
        return set;
    }

    private boolean isOnline(String phone) {
        TreeSet<Long> set = online.get(phone);
        return set != null && !set.isEmpty();
    }

    /** The event for the members of {@code chat} online on this node. */
    private Outcome outcome(Event event, Chat chat, User user, Pending message) {
        List<String> local = new ArrayList<>();
        for (User m : chat.members()) {
            if (isOnline(m.phone())) {
                local.add(m.phone());
            }
        }
        return new Outcome(event, chat, user, message, local, Map.of());
    }

    /** The chat, which {@code phone} must be a member of. */
    private Chat memberOf(String phone, String name) throws SQLException {
        Chat c = chat(name);
        if (c.members().stream().noneMatch(m -> m.phone().equals(phone))) {
            throw RandomchatRefusal.notMember(name);
        }
        return c;
    }

    /** The chat named {@code name}, members in the order they joined. */
    private Chat chat(String name) throws SQLException {
        String owner;
        try (PreparedStatement s = db.prepareStatement("SELECT owner FROM chats WHERE name = ?")) {
            s.setString(1, name);
            try (ResultSet r = s.executeQuery()) {
                if (!r.next()) {
                    throw RandomchatRefusal.noChat(name);
                }
                owner = r.getString(1);
            }
        }
        List<User> members = new ArrayList<>();
        User ownerUser = null;
        try (PreparedStatement s = db.prepareStatement("SELECT u.name, u.phone, u.disconnected_at FROM members m "
                + "JOIN users u ON u.phone = m.phone WHERE m.chat = ? ORDER BY m.rowid")) {
            s.setString(1, name);
            try (ResultSet r = s.executeQuery()) {
                while (r.next()) {
                    User u = user(r);
                    members.add(u);
                    if (u.phone().equals(owner)) {
                        ownerUser = u;
                    }
                }
            }
        }
        return new Chat(name, members, ownerUser != null ? ownerUser : user(owner));
    }

    private User user(String phone) throws SQLException {
        try (PreparedStatement s = db.prepareStatement(
                "SELECT name, phone, disconnected_at FROM users WHERE phone = ?")) {
            s.setString(1, phone);
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? user(r) : null;
            }
        }
    }

    private static User user(ResultSet r) throws SQLException {
        Object disconnected = r.getObject(3); // NULL: never disconnected
        return new User(r.getString(1), r.getString(2),
                disconnected == null ? User.NEVER : ((Number) disconnected).longValue());
    }

    private boolean exists(String sql, Object... args) throws SQLException {
        try (PreparedStatement s = db.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                s.setObject(i + 1, args[i]);
            }
            try (ResultSet r = s.executeQuery()) {
                return r.next();
            }
        }
    }

    /** Runs an update with its parameters; returns the number of rows changed. */
    private int update(String sql, Object... args) throws SQLException {
        try (PreparedStatement s = db.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                s.setObject(i + 1, args[i]);
            }
            return s.executeUpdate();
        }
    }

    private static boolean onClassPath(String className) {
        try {
            Class.forName(className, true, SqliteRandomchatStore.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }
}
