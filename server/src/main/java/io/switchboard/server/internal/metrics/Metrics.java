package io.switchboard.server.internal.metrics;

import io.switchboard.protocol.minichats.ErrorCode;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The node's counters, kept without any metrics library so the hot path pays one
 * {@link LongAdder} add per fan-out batch, never per delivery. {@code MetricsBinder} shows them to
 * Micrometer (and so at {@code GET /metrics}). Thread-safe.
 */
public final class Metrics {

    /** Why the node closed a connection (WebSocket, line or HTTP). */
    public enum Close {
        SLOW_CONSUMER, RATE_LIMIT, SUBSCRIBE_RATE_LIMIT, PING_TIMEOUT, MESSAGE_TOO_BIG, INVALID_UTF8, PROTOCOL_ERROR,
        /** An unexpected exception in the connection's pipeline (a bug, or memory exhausted). */
        INTERNAL_ERROR
    }

    /** Why the node refused a WebSocket upgrade. */
    public enum Refusal {
        ORIGIN, FULL, PER_ADDRESS, AUTHORIZER
    }

    /** A randomchat limit that refused a request (issue 15; {@code MEMBERS}: a chat at {@code RANDOMCHAT_MAX_MEMBERS}). */
    public enum RandomchatLimit {
        OWNED_CHATS, ADDED_CHATS, MEMBERS
    }

    /**
     * Why a randomchat store dropped a message it kept for a user (pending, or in flight to its
     * connections): past {@code RANDOMCHAT_MAX_PENDING}, or older than {@code RANDOMCHAT_PENDING_TTL}.
     */
    public enum RandomchatDrop {
        MAX_PENDING, TTL
    }

    public final LongAdder messagesIn = new LongAdder();
    public final LongAdder deliveries = new LongAdder();
    public final LongAdder drops = new LongAdder();
    /** Times a connection's reading was turned off because it was over its outbound soft limit. */
    public final LongAdder readPauses = new LongAdder();
    public final LongAdder subscriptions = new LongAdder();
    public final Map<ErrorCode, LongAdder> errors = counters(ErrorCode.class);
    public final Map<Close, LongAdder> closes = counters(Close.class);
    public final Map<Refusal, LongAdder> refusals = counters(Refusal.class);
    public final Map<RandomchatLimit, LongAdder> randomchatLimits = counters(RandomchatLimit.class);
    public final Map<RandomchatDrop, LongAdder> randomchatDrops = counters(RandomchatDrop.class);

    public void error(ErrorCode code) {
        errors.get(code).increment();
    }

    public void close(Close why) {
        closes.get(why).increment();
    }

    public void refuse(Refusal why) {
        refusals.get(why).increment();
    }

    public void randomchatLimit(RandomchatLimit which) {
        randomchatLimits.get(which).increment();
    }

    /** Counts {@code n} messages a randomchat store dropped for {@code why}. */
    public void randomchatDropped(RandomchatDrop why, long n) {
        if (n > 0) {
            randomchatDrops.get(why).add(n);
        }
    }

    private static <E extends Enum<E>> Map<E, LongAdder> counters(Class<E> type) {
        Map<E, LongAdder> map = new EnumMap<>(type);
        for (E e : type.getEnumConstants()) {
            map.put(e, new LongAdder());
        }
        return map;
    }
}
