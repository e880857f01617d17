package io.switchboard.server.internal.dialect.randomchat;

import io.netty.buffer.UnpooledByteBufAllocator;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.cluster.RedisConnections;
import io.switchboard.server.internal.dialect.randomchat.RandomchatStore.Login;
import io.switchboard.server.internal.dialect.randomchat.RandomchatStore.Outcome;
import io.switchboard.server.internal.dialect.randomchat.redis.RedisRandomchatStore;
import io.switchboard.server.testing.RedisProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The store contract on a real Redis (the Lua scripts do the work: each store has a key prefix of
 * its own), and what only this store does: key expiry, the connections of nodes that died.
 */
class RedisRandomchatStoreTest extends RandomchatStoreContract {

    private static RedisProcess redis;
    private final List<RedisConnections> connections = new ArrayList<>();
    /** The key prefix of the last store {@link #open} opened, {@code rc:} included. */
    private String keys;

    @BeforeAll
    static void startRedis() {
        redis = RedisProcess.start();
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    @Override
    RandomchatStore open(UnaryOperator<SwitchboardConfig.Builder> tune) {
        String prefix = "rcu-" + run + connections.size() + ":";
        keys = prefix + "rc:";
        return open(tune.apply(settings().redisEndpoint(redis.endpoint()).redisKeyPrefix(prefix)).build());
    }

    private RandomchatStore open(SwitchboardConfig config) {
        RedisConnections r = RedisConnections.open(config);
        connections.add(r);
        return new RandomchatHub(config, UnpooledByteBufAllocator.DEFAULT,
                h -> RedisRandomchatStore.start(config, r, h, metrics)).store();
    }

    @Override
    void release() {
        connections.forEach(r -> r.close().join());
    }

    private long pttl(String key) {
        String reply = redis.command("PTTL", keys + key);
        assertTrue(reply.startsWith(":"), reply);
        return Long.parseLong(reply.substring(1).trim());
    }

    @Test
    void pendingAndInFlightKeysExpireWithThePendingTtl() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        Login cy = register(s, "cy");
        String c = chatOf(s, "c", ann, bob, cy);
        logout(s, cy);
        ok(s.sendMessage(ann.user().phone(), c, "x", now()));
        long pending = pttl("pending:" + cy.user().phone());
        long inFlight = pttl("inflight:" + bob.user().phone());
        for (long t : new long[] {pending, inFlight}) {
            assertTrue(t > 0 && t <= TTL.toMillis(), "expires within the TTL, not sooner than the test: " + t);
        }
    }

    @Test
    void aConnectionOfANodeThatDiedDoesNotCountAndWhatWasOnItsWayIsPending() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        Login bob = register(s, "bob");
        String c = chatOf(s, "c", ann, bob);
        logout(s, bob);
        String b = bob.user().phone();
        redis.command("HDEL", keys + "user:" + b, "disc");
        // Bob on a node that is alive: the message is routed there and in flight for him.
        redis.command("SET", keys + "alive:deadnode", "1");
        redis.command("HSET", keys + "online:" + b, "deadnode\t1", "1");
        Outcome o = ok(s.sendMessage(ann.user().phone(), c, "on its way", now()));
        assertEquals(Map.of("deadnode", List.of(b)), o.remote());
        assertEquals(List.of(ann.user().phone()), o.local());
        // The node dies (its key expires): its connection is forgotten at the next look, Bob is
        // offline from then, and what was in flight to him is pending.
        redis.command("DEL", keys + "alive:deadnode");
        long before = now();
        Outcome next = ok(s.sendMessage(ann.user().phone(), c, "kept", now()));
        assertTrue(next.remote().isEmpty(), next.remote().toString());
        Login back = again(s, bob, now());
        assertTrue(back.user().disconnectionDate() >= before, "offline from when the node was forgotten");
        assertEquals(List.of("on its way", "kept"), texts(back));
    }

    @Test
    void aStoreWhoseRedisIsNotThereRefusesAndSaysWhy() {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        RandomchatStore s = open(settings().redisEndpoint("127.0.0.1:" + port).redisKeyPrefix("down:").build());
        try {
            assertRefused(RandomchatRefusal.unavailable(), s.login("Ann", phone("ann"), null, now()));
            assertNotNull(s.problem());
            assertTrue(s.problem().contains("cannot reach Redis"), s.problem());
        } finally {
            s.close().join();
        }
    }

    @Test
    void aStoreServesAgainOnceItsRedisIsBack() {
        RandomchatStore s = store();
        Login ann = register(s, "ann");
        redis.stop();
        try {
            // Every request is refused. Those sent before the client has seen its connection drop
            // fail on it (how many depends on when the reset is read: one run in several saw two);
            // once it has, a request finds it closed, cannot connect again, and says why (as the
            // heartbeat would). Waits for that event, refusal by refusal, bounded.
            long deadline = System.nanoTime() + 10_000_000_000L;
            do {
                assertRefused(RandomchatRefusal.unavailable(), s.login("Ann", ann.user().phone(), ann.token(), now()));
                assertTrue(System.nanoTime() < deadline, "no problem reported within 10 s of Redis going away");
            } while (s.problem() == null);
            assertTrue(s.problem().contains("cannot reach Redis"), s.problem());
        } finally {
            redis.startAgain();
        }
        // Nothing persisted: the data went with that Redis; the store connects again and serves.
        assertNotEquals(null, register(s, "bob").token());
        assertEquals(null, s.problem());
    }
}
