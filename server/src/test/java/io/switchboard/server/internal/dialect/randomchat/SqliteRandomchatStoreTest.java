package io.switchboard.server.internal.dialect.randomchat;

import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.dialect.randomchat.RandomchatStore.Login;
import io.switchboard.server.internal.dialect.randomchat.sqlite.SqliteRandomchatStore;
import io.switchboard.server.internal.metrics.Metrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The store contract on SQLite (a fresh {@code DATA_DIR} per store), and what only this store does. */
class SqliteRandomchatStoreTest extends RandomchatStoreContract {

    @TempDir
    Path dir;
    private final AtomicInteger stores = new AtomicInteger();
    /** The data directory of the last store {@link #open} opened. */
    private Path dataDir;

    @Override
    RandomchatStore open(UnaryOperator<SwitchboardConfig.Builder> tune) {
        dataDir = dir.resolve("data-" + stores.incrementAndGet());
        return SqliteRandomchatStore.start(tune.apply(settings().dataDir(dataDir)).build(), metrics);
    }

    /** A store on the data directory of the last one (closed before). */
    private RandomchatStore reopen(long ttlMillis) {
        return SqliteRandomchatStore.start(settings().dataDir(dataDir)
                .randomchatPendingTtl(java.time.Duration.ofMillis(ttlMillis)).build(), metrics);
    }

    private long pendingRows(String phone) throws SQLException {
        try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + dataDir.resolve("randomchat.db"));
             PreparedStatement s = db.prepareStatement("SELECT COUNT(*) FROM pending WHERE phone = ?")) {
            s.setString(1, phone);
            try (ResultSet r = s.executeQuery()) {
                r.next();
                return r.getLong(1);
            }
        }
    }

    @Test
    void atItsStartTheStorePurgesPendingMessagesOlderThanTheTtl() throws Exception {
        RandomchatStore s = open(UnaryOperator.identity());
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        String c = chatOf(s, "c", ann, bob);
        logout(s, bob);
        long ttl = TTL.toMillis();
        long start = now();
        // Dated a minute each side of the TTL as it will stand at the next start: the tolerance is
        // how long that start may take.
        send(s, ann, c, "stale", start - ttl - 60_000);
        send(s, ann, c, "fresh", start - ttl + 60_000);
        s.close().join();
        assertEquals(2, pendingRows(bob.user().phone()));

        RandomchatStore again = reopen(ttl);
        ok(again.withdrawToken("nobody", "x")); // an operation: the purge at the start ran before it
        again.close().join();
        assertEquals(1, pendingRows(bob.user().phone()), "the stale one purged without a login");
        assertEquals(1, dropped(Metrics.RandomchatDrop.TTL));

        RandomchatStore third = reopen(ttl);
        try {
            assertEquals(List.of("fresh"), texts(again(third, bob, now())));
        } finally {
            third.close().join();
        }
    }

    @Test
    void usersOnlineWhenTheProcessStoppedAreOfflineAtTheNextStartWithWhatWasInFlight() {
        RandomchatStore s = open(UnaryOperator.identity());
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        String c = chatOf(s, "c", ann, bob);
        ok(s.sendMessage(ann.user().phone(), c, "never written", now()));
        long before = now();
        s.close().join(); // no logout recorded, as after a kill -9

        RandomchatStore again = reopen(TTL.toMillis());
        try {
            Login back = again(again, bob, now());
            assertTrue(back.user().disconnectionDate() >= before, "offline from the start");
            assertEquals(List.of("never written"), texts(back));
        } finally {
            again.close().join();
        }
    }

    @Test
    void oneProcessPerDataDirectory() {
        RandomchatStore s = store();
        register(s, "ann");
        RandomchatStore second = reopen(TTL.toMillis());
        try {
            assertRefused(RandomchatRefusal.unavailable(), second.login("Bob", phone("bob"), null, now()));
            assertNotNull(second.problem());
            assertTrue(second.problem().contains("cannot be opened"), second.problem());
        } finally {
            second.close().join();
        }
    }

    @Test
    void aStoreWhoseFileCannotBeOpenedRefusesAndSaysWhy() throws Exception {
        Path file = Files.createFile(dir.resolve("not-a-directory"));
        RandomchatStore s = SqliteRandomchatStore.start(settings().dataDir(file).build(), metrics);
        try {
            assertRefused(RandomchatRefusal.unavailable(), s.login("Ann", phone("ann"), null, now()));
            assertNotNull(s.problem());
            assertTrue(s.problem().contains("cannot be opened"), s.problem());
        } finally {
            s.close().join();
        }
    }
}
