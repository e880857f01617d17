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
        INTERNAL_ERROR,
        /** The connection's token expired without a refresh (close 1008 "token expired", issue 19). */
        TOKEN_EXPIRED,
        /** A compressed message that inflated past {@code MAX_MESSAGE_BYTES} (closed with 1009). */
        DECOMPRESSION_BOMB,
        /**
         * No HTTP request completed, nor a WebSocket handshake, within {@code HANDSHAKE_TIMEOUT}
         * (slowloris, silence, an idle keep-alive connection, a TLS handshake never finished).
         */
        HANDSHAKE_TIMEOUT,
        /** A chatroom client of a cluster node with no id to give: its link to Redis is down (close 1013). */
        CLUSTER_UNAVAILABLE
    }

    /**
     * Why the node refused a connection or a request before any session served it: a WebSocket
     * upgrade, a line client, a request to the inspection page.
     */
    public enum Refusal {
        ORIGIN, FULL, PER_ADDRESS, AUTHORIZER,
        /** HTTP 400: a name or room the dialect refuses (minichats {@code client_name}, disposable {@code name}, {@code room}). */
        INVALID,
        /** A line client over {@code LINE_MAX_CLIENTS}: told the chat is full and closed. */
        LINE_FULL,
        /** A request to the inspection page whose {@code Host} is not the page's ({@code DEBUG_ALLOWED_HOSTS}): 403. */
        DEBUG_HOST
    }

    /** Why a disposable client got an {@code error} frame (PROTOCOL.md section 2); the connection lives on. */
    public enum DisposableError {
        /** An empty, missing or {@code null} {@code text}. */
        EMPTY,
        /** A {@code text} over 300 characters. */
        TOO_LONG,
        /** Not one JSON object, or a {@code text} that is not a string. */
        INVALID,
        /** A string with an unpaired surrogate, which no UTF-8 text can carry. */
        NOT_UNICODE,
        /** The application's channel authorizer refused the publish. */
        FORBIDDEN,
        BINARY,
        /** Over {@code MAX_MESSAGE_RATE} (a second's worth in a row closes: {@link Close#RATE_LIMIT}). */
        RATE_LIMITED
    }

    /** Why a line client was answered with an error line (PROTOCOL.md section 3); the connection lives on. */
    public enum LineError {
        /** A line over 4096 bytes, dropped up to its end. */
        TOO_LONG,
        /** Over {@code MAX_MESSAGE_RATE} (a second's worth in a row closes: {@link Close#RATE_LIMIT}). */
        RATE_LIMITED,
        /** {@code SHUTDOWN} without {@code LINE_ALLOW_SHUTDOWN}. */
        SHUTDOWN_REFUSED
    }

    /** Why a TLS connection ended before its handshake completed (issue 19). */
    public enum TlsFailure {
        /** Not TLS at all, e.g. a plain HTTP request on the TLS port (answered with HTTP 400). */
        NOT_TLS,
        /** Only protocol versions the node refuses offered (SSLv3, TLS 1.0, 1.1). */
        PROTOCOL,
        /** Not completed within {@code HANDSHAKE_TIMEOUT}. */
        TIMEOUT,
        /** The client went away in the middle without a word. */
        CLOSED,
        /** Any other handshake failure: the client's alert (it does not trust the certificate), no common cipher. */
        HANDSHAKE
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
    /** Subscriptions of this node's connections: every one is a member of its channel's presence. */
    public final LongAdder subscriptions = new LongAdder();
    /**
     * Presence requests answered (minichats {@code presence}, {@code GET /api/presence}), and those
     * answered with this node's members only because the other nodes' could not be read (issue 18).
     */
    public final LongAdder presenceRequests = new LongAdder();
    public final LongAdder presencePartial = new LongAdder();
    /** Messages compressed (permessage-deflate): a delivery once per publish and dialect, a reply once. */
    public final LongAdder compressedMessages = new LongAdder();
    /** Deliveries written compressed, and the bytes they saved against their plain frames. */
    public final LongAdder compressedDeliveries = new LongAdder();
    public final LongAdder compressionSavedBytes = new LongAdder();
    public final Map<ErrorCode, LongAdder> errors = counters(ErrorCode.class);
    public final Map<Close, LongAdder> closes = counters(Close.class);
    public final Map<Refusal, LongAdder> refusals = counters(Refusal.class);
    public final Map<DisposableError, LongAdder> disposableErrors = counters(DisposableError.class);
    public final Map<LineError, LongAdder> lineErrors = counters(LineError.class);
    public final Map<RandomchatLimit, LongAdder> randomchatLimits = counters(RandomchatLimit.class);
    /** TLS handshakes completed, and those that failed, by reason (issue 19). */
    public final LongAdder tlsHandshakes = new LongAdder();
    public final Map<TlsFailure, LongAdder> tlsFailures = counters(TlsFailure.class);
    /** TLS certificate reloads that took effect, and those refused (the previous certificate stays). */
    public final LongAdder tlsReloads = new LongAdder();
    public final LongAdder tlsReloadFailures = new LongAdder();
    /** When the certificate new TLS connections get expires, Unix seconds; 0 without TLS from files. */
    public volatile long tlsCertificateNotAfter;
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

    public void disposableError(DisposableError why) {
        disposableErrors.get(why).increment();
    }

    public void lineError(LineError why) {
        lineErrors.get(why).increment();
    }

    public void tlsFailure(TlsFailure why) {
        tlsFailures.get(why).increment();
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
