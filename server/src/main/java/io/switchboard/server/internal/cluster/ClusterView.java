package io.switchboard.server.internal.cluster;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * This node's picture of the other nodes of a cluster: how many subscribers each has on each
 * channel, learned from their control messages and, when a message is missed, from their Redis
 * hash (docs/cluster.md). Each node numbers its changes; a change that follows the last one known
 * is applied, a gap asks for the node's whole hash, and a node silent for the node timeout is
 * forgotten.
 *
 * <p>Control messages are UTF-8 text, one header line of tab-separated fields and, for a change,
 * one {@code channel TAB count} line per channel (names have no control characters):
 * <pre>
 * C node seq \n name count \n ...   counts changed (0: the node has none left)
 * H node seq                         heartbeat: the node is alive at seq
 * S node seq                         the node rewrote its whole hash: read it, and announce yourself
 * B node                             the node left cleanly
 * </pre>
 *
 * <p>Not thread-safe: every method except {@link #remoteSubscribers} and {@link #remoteTotals} must
 * be called from one thread, the cluster link's; those two may be called from any thread.
 */
public final class ClusterView {

    /** What the link must do after a control message. */
    enum Action {
        NOTHING,
        /** Read the sender's hash ({@link #replace} its counts). */
        FETCH,
        /** Announce this node with a heartbeat. */
        ANNOUNCE,
        /** Both. */
        FETCH_AND_ANNOUNCE
    }

    private static final class Remote {
        long seq = -1;
        /** The highest seq heard of; above {@link #seq} while a fetch is due. */
        long heardSeq = -1;
        long lastSeenNanos;
        boolean fetching;
        final Map<String, Integer> counts = new HashMap<>();

        void lastSeen(long nowNanos) {
            lastSeenNanos = nowNanos;
        }
    }

    private final String self;
    private final Map<String, Remote> nodes = new HashMap<>();
    private final ConcurrentHashMap<String, Integer> totals = new ConcurrentHashMap<>();

    ClusterView(String self) {
        this.self = self;
    }

    /** Subscribers of {@code channel} on the other nodes. Any thread. */
    int remoteSubscribers(String channel) {
        Integer n = totals.get(channel);
        return n == null ? 0 : n;
    }

    /** Channel name to subscribers on the other nodes, only channels that have some. Any thread; live view. */
    Map<String, Integer> remoteTotals() {
        return totals;
    }

    /** Whether {@code node} is another node this one hears from. */
    boolean knows(String node) {
        return nodes.containsKey(node);
    }

    /** The number of other nodes known. */
    int nodeCount() {
        return nodes.size();
    }

    /**
     * Applies a control message received at {@code nowNanos}.
     *
     * @return what the link must do; the node to fetch is {@link #sender(String)} of the message
     * @throws IllegalArgumentException when the message is malformed
     */
    Action onMessage(String message, long nowNanos) {
        int eol = message.indexOf('\n');
        String[] header = (eol < 0 ? message : message.substring(0, eol)).split("\t", -1);
        if (header.length < 2 || header[1].isEmpty()) {
            throw new IllegalArgumentException("malformed control message header");
        }
        String node = header[1];
        if (node.equals(self)) {
            return Action.NOTHING;
        }
        String type = header[0];
        if (type.equals("B")) {
            forget(node);
            return Action.NOTHING;
        }
        if (header.length != 3) {
            throw new IllegalArgumentException("malformed control message header");
        }
        long seq = parseLong(header[2]);
        Remote r = nodes.computeIfAbsent(node, n -> new Remote());
        r.lastSeen(nowNanos);
        switch (type) {
            case "C":
                if (seq == r.seq + 1 && r.seq >= 0) {
                    r.seq = seq;
                    r.heardSeq = Math.max(r.heardSeq, seq);
                    applyLines(node, r, message, eol);
                    return Action.NOTHING;
                }
                return fetchIfBehind(r, seq);
            case "H":
                return fetchIfBehind(r, seq);
            case "S":
                r.heardSeq = Math.max(r.heardSeq, seq);
                r.seq = Math.min(r.seq, seq - 1);
                return r.fetching ? Action.ANNOUNCE : fetchStarted(r, Action.FETCH_AND_ANNOUNCE);
            default:
                throw new IllegalArgumentException("unknown control message type '" + type + "'");
        }
    }

    /** The node a control message is from. */
    static String sender(String message) {
        int start = message.indexOf('\t') + 1;
        int end = start;
        while (end < message.length() && message.charAt(end) != '\t' && message.charAt(end) != '\n') {
            end++;
        }
        return message.substring(start, end);
    }

    /**
     * Replaces {@code node}'s counts with its hash as read at {@code seq}; an empty hash ({@code seq}
     * below 0) means the node is gone. Returns whether another fetch is due, because a newer change
     * was heard of meanwhile.
     */
    boolean replace(String node, long seq, Map<String, Integer> counts, long nowNanos) {
        Remote r = nodes.get(node);
        if (r == null) {
            return false;
        }
        r.fetching = false;
        if (seq < 0) {
            forget(node);
            return false;
        }
        boolean progress = seq > r.seq;
        if (seq >= r.seq) {
            for (Map.Entry<String, Integer> e : new ArrayList<>(r.counts.entrySet())) {
                if (!counts.containsKey(e.getKey())) {
                    set(r, e.getKey(), 0);
                }
            }
            for (Map.Entry<String, Integer> e : counts.entrySet()) {
                set(r, e.getKey(), e.getValue());
            }
            r.seq = seq;
            r.lastSeen(nowNanos);
        }
        // Fetch again at once only while the hash moves on: a node whose write failed announces a seq
        // its hash does not have yet, and is read again with its next message, not in a loop.
        if (r.heardSeq > r.seq && progress) {
            r.fetching = true;
            return true;
        }
        return false;
    }

    /** A fetch of {@code node} failed: it is due again with the next message heard from it. */
    void fetchFailed(String node) {
        Remote r = nodes.get(node);
        if (r != null) {
            r.fetching = false;
            r.seq = -1;
        }
    }

    /** After a reconnect: every node's next message brings a fetch, since changes may have been missed. */
    void markAllStale() {
        for (Remote r : nodes.values()) {
            r.seq = -1;
            r.fetching = false;
        }
    }

    /** Forgets the nodes not heard from since {@code nowNanos - timeoutNanos}; returns their names. */
    List<String> expire(long nowNanos, long timeoutNanos) {
        List<String> gone = new ArrayList<>();
        for (Iterator<Map.Entry<String, Remote>> it = nodes.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Remote> e = it.next();
            if (nowNanos - e.getValue().lastSeenNanos > timeoutNanos) {
                gone.add(e.getKey());
            }
        }
        gone.forEach(this::forget);
        return gone;
    }

    /** Parses a node's hash as HGETALL returns it: channel to count, and the seq field. */
    static long parseHash(Map<byte[], byte[]> hash, byte[] seqField, Map<String, Integer> counts) {
        long seq = -1;
        for (Map.Entry<byte[], byte[]> e : hash.entrySet()) {
            String value = new String(e.getValue(), StandardCharsets.UTF_8);
            if (Arrays.equals(e.getKey(), seqField)) {
                seq = parseLong(value);
            } else {
                counts.put(new String(e.getKey(), StandardCharsets.UTF_8), (int) parseLong(value));
            }
        }
        return seq;
    }

    private Action fetchIfBehind(Remote r, long seq) {
        r.heardSeq = Math.max(r.heardSeq, seq);
        if (r.seq >= 0 && seq <= r.seq || r.fetching) {
            return Action.NOTHING;
        }
        return fetchStarted(r, Action.FETCH);
    }

    private static Action fetchStarted(Remote r, Action action) {
        r.fetching = true;
        return action;
    }

    private void applyLines(String node, Remote r, String message, int eol) {
        int start = eol + 1;
        while (eol >= 0 && start < message.length()) {
            int end = message.indexOf('\n', start);
            if (end < 0) {
                end = message.length();
            }
            int tab = message.lastIndexOf('\t', end - 1);
            if (tab < start) {
                throw new IllegalArgumentException("malformed count line from node " + node);
            }
            set(r, message.substring(start, tab), (int) parseLong(message.substring(tab + 1, end)));
            start = end + 1;
        }
    }

    private void set(Remote r, String channel, int count) {
        Integer old = count > 0 ? r.counts.put(channel, count) : r.counts.remove(channel);
        int delta = count - (old == null ? 0 : old);
        if (delta != 0) {
            totals.compute(channel, (c, total) -> {
                int sum = (total == null ? 0 : total) + delta;
                return sum > 0 ? sum : null;
            });
        }
    }

    private void forget(String node) {
        Remote r = nodes.remove(node);
        if (r != null) {
            for (String channel : new ArrayList<>(r.counts.keySet())) {
                set(r, channel, 0);
            }
        }
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + s + "' is not a number");
        }
    }

}
