package io.switchboard.server.internal.cluster;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.switchboard.server.internal.cluster.ClusterView.Action.ANNOUNCE;
import static io.switchboard.server.internal.cluster.ClusterView.Action.FETCH;
import static io.switchboard.server.internal.cluster.ClusterView.Action.FETCH_AND_ANNOUNCE;
import static io.switchboard.server.internal.cluster.ClusterView.Action.NOTHING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterViewTest {

    private final ClusterView view = new ClusterView("self");

    @Test
    void aNodeFirstHeardOfIsFetchedThenFollowedByItsChanges() {
        assertEquals(FETCH, view.onMessage("C\tb\t5\nroom\t2", 0));
        assertEquals(0, view.remoteSubscribers("room"), "a change without its history is not applied");
        assertEquals(NOTHING, view.onMessage("C\tb\t6\nroom\t3", 0), "one fetch at a time");
        assertTrue(view.replace("b", 5, Map.of("room", 2, "lobby", 1), 0), "6 was heard of: fetch again");
        assertEquals(2, view.remoteSubscribers("room"));
        assertFalse(view.replace("b", 6, Map.of("room", 3, "lobby", 1), 0));
        assertEquals(3, view.remoteSubscribers("room"));

        assertEquals(NOTHING, view.onMessage("C\tb\t7\nroom\t0\nnew one\t4", 0));
        assertEquals(0, view.remoteSubscribers("room"));
        assertEquals(4, view.remoteSubscribers("new one"));
        assertEquals(Map.of("lobby", 1, "new one", 4), view.remoteTotals());
    }

    @Test
    void aGapInTheSequenceAsksForTheWholeHash() {
        view.onMessage("H\tb\t1", 0);
        view.replace("b", 1, Map.of("x", 1), 0);
        assertEquals(NOTHING, view.onMessage("H\tb\t1", 0));
        assertEquals(FETCH, view.onMessage("C\tb\t3\nx\t5", 0), "2 was missed");
        assertEquals(1, view.remoteSubscribers("x"));
        assertFalse(view.replace("b", 3, Map.of("x", 5), 0));
        assertEquals(5, view.remoteSubscribers("x"));
        assertEquals(NOTHING, view.onMessage("C\tb\t2\nx\t9", 0), "stale");
        assertEquals(5, view.remoteSubscribers("x"));
        assertEquals(FETCH, view.onMessage("H\tb\t4", 0), "a heartbeat ahead of what is known");
    }

    @Test
    void aHashThatDoesNotMoveOnIsNotReadAgainInALoop() {
        load("b", Map.of("x", 1));
        assertEquals(FETCH, view.onMessage("H\tb\t3", 0), "ahead: its write of 1..3 may have failed");
        assertFalse(view.replace("b", 0, Map.of("x", 1), 0), "no progress: wait for its next message");
        assertEquals(FETCH, view.onMessage("H\tb\t3", 0), "read again with the next message");
    }

    @Test
    void countsOfSeveralNodesAddUpAndLeaveWithTheirNode() {
        load("b", Map.of("room", 2));
        load("c", Map.of("room", 3, "solo", 1));
        assertEquals(5, view.remoteSubscribers("room"));
        assertEquals(2, view.nodeCount());
        view.onMessage("B\tc", 0);
        assertEquals(2, view.remoteSubscribers("room"));
        assertEquals(Map.of("room", 2), view.remoteTotals());
    }

    @Test
    void silentNodesAreForgotten() {
        load("b", Map.of("room", 2));
        view.onMessage("H\tc\t0", 500);
        view.replace("c", 0, Map.of("room", 1), 500);
        assertEquals(List.of(), view.expire(1000, 1000));
        assertEquals(List.of("b"), view.expire(1001, 1000));
        assertEquals(1, view.remoteSubscribers("room"));
    }

    @Test
    void aRewrittenHashIsReadAndAnsweredWithAnAnnouncement() {
        load("b", Map.of("room", 2));
        assertEquals(FETCH_AND_ANNOUNCE, view.onMessage("S\tb\t9", 0));
        assertEquals(ANNOUNCE, view.onMessage("S\tb\t10", 0), "already fetching");
        assertTrue(view.replace("b", 9, Map.of(), 0));
        assertFalse(view.replace("b", 10, Map.of("other", 1), 0));
        assertEquals(Map.of("other", 1), view.remoteTotals());
    }

    @Test
    void aGoneHashForgetsItsNodeAndReconnectsRefetchEveryone() {
        load("b", Map.of("room", 2));
        view.markAllStale();
        assertEquals(FETCH, view.onMessage("H\tb\t0", 0), "after a reconnect, changes may have been missed");
        assertFalse(view.replace("b", -1, Map.of(), 0));
        assertEquals(0, view.nodeCount());
        assertEquals(0, view.remoteSubscribers("room"));
    }

    @Test
    void ownMessagesAreIgnoredAndMalformedOnesRefused() {
        assertEquals(NOTHING, view.onMessage("C\tself\t1\nroom\t1", 0));
        assertEquals(0, view.nodeCount());
        assertThrows(IllegalArgumentException.class, () -> view.onMessage("C", 0));
        assertThrows(IllegalArgumentException.class, () -> view.onMessage("X\tb\t1", 0));
        assertThrows(IllegalArgumentException.class, () -> view.onMessage("H\tb\tnope", 0));
        load("b", Map.of());
        assertThrows(IllegalArgumentException.class, () -> view.onMessage("C\tb\t1\nno count here", 0));
    }

    @Test
    void parsesAHashAsRedisReturnsIt() {
        byte[] seqField = "\u0001seq".getBytes(StandardCharsets.UTF_8);
        Map<byte[], byte[]> hash = new LinkedHashMap<>();
        hash.put(seqField, bytes("12"));
        hash.put(bytes("room"), bytes("3"));
        hash.put(bytes("größe"), bytes("1"));
        Map<String, Integer> counts = new LinkedHashMap<>();
        assertEquals(12, ClusterView.parseHash(hash, seqField, counts));
        assertEquals(Map.of("room", 3, "größe", 1), counts);
        assertEquals(-1, ClusterView.parseHash(Map.of(), seqField, new LinkedHashMap<>()));
    }

    private void load(String node, Map<String, Integer> counts) {
        view.onMessage("H\t" + node + "\t0", 0);
        view.replace(node, 0, counts, 0);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
