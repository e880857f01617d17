package io.switchboard.server;

/**
 * The names of Switchboard's handlers, and the one place their order is drawn. Code inserts a
 * handler next to a named neighbour, never by index; so should an embedder that adds its own
 * handlers to a pipeline Switchboard built (a {@code SwitchboardServer} pipeline customizer, or a
 * pipeline where {@link Switchboard#mount} upgraded a connection).
 *
 * <pre>
 * accepted connection (HTTP):
 *   [{@link #TLS}] -> {@link #BACKPRESSURE} -> {@link #HTTP_CODEC} -> {@link #FLOW_CONTROL} -> {@link #HTTP_AGGREGATOR}
 *     -> {@link #ROUTER} -> {@link #TAIL}
 *
 * after the router accepts a WebSocket upgrade (Netty's handshaker replaces the HTTP codec with its
 * own "wsencoder" / "wsdecoder" and removes the aggregator; the router removes itself, and
 * {@link #HANDSHAKE_LEFTOVER} once the handshake is complete):
 *   {@link #BACKPRESSURE} -> wsencoder -> wsdecoder -> {@link #FLOW_CONTROL} -> [{@link #COMPRESSION}] -> [Utf8FrameValidator]
 *     -> [handshake handler] -> {@link #WS_PROTOCOL} -> {@link #WS_AGGREGATOR} -> [{@link #HANDSHAKE_LEFTOVER}]
 *     -> {@link #SESSION} -> {@link #TAIL}
 *
 * line chat:
 *   {@link #BACKPRESSURE} -> {@link #TELNET} -> {@link #LINES} -> {@link #FLOW_CONTROL} -> {@link #SESSION} -> {@link #TAIL}
 *
 * chatroom inspection page ({@code DEBUG}):
 *   {@link #BACKPRESSURE} -> {@link #HTTP_CODEC} -> {@link #FLOW_CONTROL} -> {@link #HTTP_AGGREGATOR}
 *     -> {@link #ROUTER} (the page) -> {@link #TAIL}
 *
 * {@link #TLS} is there when the port serves TLS ({@code TLS_CERT_FILE}, or the server builder's
 * {@code sslContext}): it stays nearest the socket in every stage above, so that deliveries, written
 * from {@link #BACKPRESSURE}'s context, are encrypted too, and the bytes it holds count against the
 * outbound limits.
 * {@link #COMPRESSION} is there only with {@code COMPRESSION} on, from the upgrade request on.
 *
 * mounted in an application's pipeline, the router adds {@link #BACKPRESSURE} and {@link #FLOW_CONTROL}
 * in front of itself when it accepts an upgrade, behind the application's TLS and codecs.
 * </pre>
 *
 * Replies are written from {@link #SESSION}'s context as WebSocket frames. Deliveries, complete
 * pre-encoded frames ({@code ByteBuf}s) shared by every subscriber, are written from the context of
 * {@link #BACKPRESSURE}, so they go straight to the transport; the session, not
 * {@link #WS_PROTOCOL}, stops them once a close frame is under way. Every other write passes
 * through {@link #BACKPRESSURE}, which bounds what the connection holds.
 */
public final class PipelineNames {

    /**
     * TLS (issue 19): first a detector that reads the first bytes (plain HTTP gets 400), then, under
     * the same name, Netty's {@code SslHandler}. Only on a port that serves TLS.
     */
    public static final String TLS = "switchboard.tls";
    /** {@code Backpressure}: every write bounded, reading off while the peer does not take what it is sent. */
    public static final String BACKPRESSURE = "switchboard.backpressure";
    /** Netty's {@code FlowControlHandler}: holds decoded messages while reading is off. */
    public static final String FLOW_CONTROL = "switchboard.flowControl";
    /** {@code HttpServerCodec}. */
    public static final String HTTP_CODEC = "switchboard.httpCodec";
    /** {@code HttpObjectAggregator}, for the handshake request only. */
    public static final String HTTP_AGGREGATOR = "switchboard.httpAggregator";
    /** {@code HandshakeRouter}: path to dialect, validation, plain HTTP pages. */
    public static final String ROUTER = "switchboard.router";
    /**
     * {@code PerMessageDeflate} ({@code COMPRESSION} on): negotiates permessage-deflate, inflates
     * inbound messages (bounded), compresses replies; deliveries come compressed from the broker.
     */
    public static final String COMPRESSION = "switchboard.compression";
    /** {@code WebSocketServerProtocolHandler}: handshake, ping/pong, close handshake. */
    public static final String WS_PROTOCOL = "switchboard.wsProtocol";
    /** {@code WebSocketFrameAggregator}: joins fragmented messages, up to the message limit. */
    public static final String WS_AGGREGATOR = "switchboard.wsAggregator";
    /**
     * {@code HandshakeLeftover}: bytes read with the upgrade request go to "wsdecoder" once the
     * handshake is complete; it then removes itself.
     */
    public static final String HANDSHAKE_LEFTOVER = "switchboard.handshakeLeftover";
    /** The dialect's session handler, e.g. {@code MinichatsSession}. */
    public static final String SESSION = "switchboard.session";
    /** The line chat's telnet filter: drops telnet negotiation. */
    public static final String TELNET = "switchboard.telnet";
    /** The line chat's {@code LineBasedFrameDecoder}: lines of at most 4096 bytes. */
    public static final String LINES = "switchboard.lines";
    /** {@code ExceptionLogger}, always last. */
    public static final String TAIL = "switchboard.tail";

    private PipelineNames() {
    }
}
