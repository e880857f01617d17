package io.switchboard.server.internal.transport;

import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import io.switchboard.server.internal.metrics.Metrics;

import java.util.concurrent.TimeUnit;

/**
 * Closes a connection of a standalone server that, within {@code HANDSHAKE_TIMEOUT}, neither
 * completed a WebSocket handshake nor an HTTP request (an upgrade Netty refused, say for its
 * version, completes neither): a client that sends its request a byte
 * at a time (slowloris), or never sends one, cannot hold a connection. An HTTP keep-alive connection
 * stays open while it completes a request at least once per period. On the TLS port the deadline
 * covers the TLS handshake too: a client that starts one and never finishes it completes no request.
 *
 * <p>Runs on the connection's event loop; {@link #requestSeen} must be called from it.
 */
public final class HttpDeadline implements Runnable {

    private static final AttributeKey<HttpDeadline> KEY = AttributeKey.valueOf(HttpDeadline.class, "deadline");

    private final Channel channel;
    private final long periodNanos;
    private final Metrics metrics;
    private boolean requestSeen;
    private boolean upgraded;
    private boolean expired;

    private HttpDeadline(Channel channel, long periodNanos, Metrics metrics) {
        this.channel = channel;
        this.periodNanos = periodNanos;
        this.metrics = metrics;
    }

    /**
     * Starts the deadline of a newly accepted connection; a close it makes is counted in
     * {@code metrics} ({@code closes_total{reason="handshake_timeout"}}).
     */
    public static void start(Channel channel, long periodNanos, Metrics metrics) {
        HttpDeadline d = new HttpDeadline(channel, periodNanos, metrics);
        channel.attr(KEY).set(d);
        d.schedule();
    }

    /**
     * Ends the deadline of {@code channel}: its WebSocket handshake is done, and the session's
     * heartbeat watches it from now on. Nothing for a connection without a deadline.
     */
    public static void upgraded(Channel channel) {
        HttpDeadline d = channel.attr(KEY).get();
        if (d != null) {
            d.upgraded = true;
        }
    }

    /** Notes a complete HTTP request on {@code channel}; nothing for a connection without a deadline. */
    public static void requestSeen(Channel channel) {
        HttpDeadline d = channel.attr(KEY).get();
        if (d != null) {
            d.requestSeen = true;
        }
    }

    /**
     * Whether {@code channel} was closed by its deadline; {@code false} for a connection without one.
     * Tells a TLS handshake that never completed from one the client gave up (issue 19).
     */
    public static boolean expired(Channel channel) {
        HttpDeadline d = channel.attr(KEY).get();
        return d != null && d.expired;
    }

    private void schedule() {
        channel.eventLoop().schedule(this, periodNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void run() {
        if (!channel.isActive()) {
            return;
        }
        if (upgraded) {
            return; // a WebSocket session, with its own heartbeat
        }
        if (requestSeen) {
            requestSeen = false;
            schedule();
        } else {
            expired = true;
            metrics.close(Metrics.Close.HANDSHAKE_TIMEOUT);
            channel.close();
        }
    }
}
