package io.switchboard.server.internal.transport;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.switchboard.server.ConnectionAuthorizer;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.metrics.Metrics;

/**
 * What the transport needs of the node it serves: its settings and counters, its hooks and limits,
 * the set of open connections, and its own pages. The node implements it; the transport knows no
 * more of the node. Thread-safe.
 */
public interface Edge {

    SwitchboardConfig config();

    Metrics metrics();

    ConnectionAuthorizer connectionAuthorizer();

    ConnectionLimits limits();

    /** Tracks {@code ch} until it closes, so that a stop says goodbye to it. */
    void track(Channel ch);

    /** A new connection's outbound bound ({@code OUTBOUND_*_LIMIT_BYTES}). */
    Backpressure newBackpressure();

    /**
     * A new WebSocket connection's permessage-deflate handler ({@code COMPRESSION}), or {@code null}
     * when compression is off.
     */
    ChannelHandler newCompression();

    /** The last handler of every pipeline. */
    ExceptionLogger exceptionLogger();

    /** Why the node is not fully serving (what {@code /health} answers), or {@code null}. */
    String problem();

    /**
     * The node's metrics in Prometheus's text format, or {@code null} when no Prometheus registry is
     * on the class path.
     */
    String scrapeMetrics();
}
