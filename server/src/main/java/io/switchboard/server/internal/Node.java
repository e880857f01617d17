package io.switchboard.server.internal;

import io.switchboard.server.internal.compression.FrameCompressor;
import io.switchboard.server.internal.compression.PerMessageDeflate;
import io.switchboard.server.internal.dialect.chatroom.ChatroomEndpoint;
import io.switchboard.server.internal.dialect.chatroom.TopicsyncEndpoint;
import io.switchboard.server.internal.dialect.disposable.DisposableEndpoint;
import io.switchboard.server.internal.dialect.minichats.HttpApi;
import io.switchboard.server.internal.dialect.minichats.MinichatsEndpoint;
import io.switchboard.server.internal.dialect.minichats.MinichatsPublisher;
import io.switchboard.server.internal.dialect.randomchat.RandomchatEndpoint;
import io.switchboard.server.internal.session.SessionContext;
import io.switchboard.server.internal.transport.Edge;
import io.switchboard.server.internal.transport.Endpoint;
import io.switchboard.server.internal.dialect.minichats.MinichatsDialect;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.disposable.DisposableDecoder;
import io.switchboard.protocol.minichats.ApiPublish;
import io.switchboard.protocol.minichats.ErrorCode;
import io.switchboard.protocol.minichats.MinichatsDecoder;
import io.switchboard.protocol.minichats.MinichatsEncoder;
import io.switchboard.protocol.minichats.MinichatsException;
import io.switchboard.server.ChannelAuthorizer;
import io.switchboard.server.ConnectionAuthorizer;
import io.switchboard.server.HandshakeRequest;
import io.switchboard.server.Identity;
import io.switchboard.server.TokenAuth;
import io.switchboard.server.PipelineNames;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.broker.Broker;
import io.switchboard.server.internal.broker.History;
import io.switchboard.server.internal.broker.Dialects;
import io.switchboard.server.internal.dialect.chatroom.ChatroomSession;
import io.switchboard.server.internal.dialect.disposable.DisposableDialect;
import io.switchboard.server.internal.dialect.line.LineDialect;
import io.switchboard.server.internal.dialect.randomchat.RandomchatSession;
import io.switchboard.server.internal.broker.ChannelEntry;
import io.switchboard.server.internal.broker.ChannelEvent;
import io.switchboard.server.internal.broker.Dialect;
import io.switchboard.server.internal.cluster.RedisClusterLink;
import io.switchboard.server.internal.cluster.RedisConnections;
import io.switchboard.server.internal.dialect.chatroom.Chatroom;
import io.switchboard.server.internal.dialect.chatroom.DebugPage;
import io.switchboard.server.internal.dialect.chatroom.redis.RedisChatroom;
import io.switchboard.server.internal.dialect.line.LineChannelInitializer;
import io.switchboard.server.internal.dialect.line.LineChat;
import io.switchboard.server.internal.dialect.randomchat.RandomchatHub;
import io.switchboard.server.internal.dialect.randomchat.redis.RedisRandomchatStore;
import io.switchboard.server.internal.dialect.randomchat.sqlite.SqliteRandomchatStore;
import io.switchboard.server.internal.metrics.Metrics;
import io.switchboard.server.internal.session.Session;
import io.switchboard.server.internal.transport.Backpressure;
import io.switchboard.server.internal.transport.ConnectionLimits;
import io.switchboard.server.internal.transport.ExceptionLogger;
import io.switchboard.server.internal.transport.HandshakeRouter;
import io.switchboard.server.internal.transport.HttpDeadline;
import io.switchboard.server.internal.transport.SwitchboardChannelInitializer;
import io.switchboard.server.internal.transport.Tls;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.ObjIntConsumer;

/**
 * One Switchboard instance, and the one place that knows every part of it: it makes the broker
 * (with its cluster link, in a cluster), the dialects with their endpoints, and the pipelines'
 * initializers, and gives each part only what it needs (the transport an {@link Edge}, every
 * session a {@link SessionContext}). It also holds the open connections, for a graceful stop.
 * Thread-safe.
 */
public final class Node implements Edge {

    /** Every dialect this node serves, as the broker and the cluster envelope know them. */
    public static final Dialects DIALECTS = new Dialects(MinichatsDialect.DIALECT, DisposableDialect.DIALECT,
            LineDialect.DIALECT, ChatroomSession.DIALECT, RandomchatSession.DIALECT, MinichatsDialect.POSITIONS,
            MinichatsDialect.JOIN_LEAVE, MinichatsDialect.POSITIONS_JOIN_LEAVE);

    private final SwitchboardConfig config;
    private final ConnectionAuthorizer connectionAuthorizer;
    private final ChannelAuthorizer channelAuthorizer;
    /** The token auth of the config's {@code JWT_*} settings, or {@code null} when they set none. */
    private final TokenAuth tokenAuth;
    private final Metrics metrics = new Metrics();
    private final ExceptionLogger exceptionLogger = new ExceptionLogger(metrics);
    /** The node's one way to Redis, in a cluster ({@code REDIS_ENDPOINT}); {@code null} on one node, where Lettuce may be absent. */
    private final RedisConnections redis;
    private final Broker broker;
    /** The node's one permessage-deflate compressor (a deflater per thread): deliveries and replies. */
    private final FrameCompressor compressor;
    private volatile Object prometheus;
    private final MinichatsDecoder minichatsDecoder;
    private final DisposableDecoder disposableDecoder;
    private final ChannelGroup connections = new DefaultChannelGroup("switchboard", GlobalEventExecutor.INSTANCE);
    private final SessionContext sessions;
    private final MinichatsPublisher publisher;
    private final HandshakeRouter router;
    private final ConnectionLimits limits;
    private final LineChat lineChat;
    private final Chatroom chatroom;
    /** The randomchat dialect, made when its first client connects: until then no store is opened. */
    private volatile RandomchatHub randomchat;

    public Node(SwitchboardConfig config, ConnectionAuthorizer connectionAuthorizer,
                ChannelAuthorizer channelAuthorizer) {
        this(config, connectionAuthorizer, channelAuthorizer, List.of());
    }

    /**
     * A node that also serves {@code more} endpoints, each made from the node's session context:
     * a dialect of the caller's, registered as the node registers its own (the Autobahn run's echo
     * dialect). Their dialects subscribe to no channel (they are not in {@link #DIALECTS}).
     */
    public Node(SwitchboardConfig config, ConnectionAuthorizer connectionAuthorizer,
                ChannelAuthorizer channelAuthorizer, List<Function<SessionContext, Endpoint>> more) {
        this.config = config;
        // Token auth (JWT_*, issue 19): the same TokenAuth an embedder may build, checked before the given hooks.
        this.tokenAuth = config.tokenAuthEnabled() ? TokenAuth.of(config) : null;
        this.connectionAuthorizer = tokenAuth == null ? connectionAuthorizer
                : both(tokenAuth.connectionAuthorizer(), connectionAuthorizer);
        this.channelAuthorizer = tokenAuth == null ? channelAuthorizer
                : both(tokenAuth.channelAuthorizer(), channelAuthorizer);
        RedisConnections redis = config.redisEndpoint() == null ? null : redisConnections(config);
        this.redis = redis;
        this.compressor = new FrameCompressor(config.compressionLevel(), config.compressionMinBytes(), metrics);
        this.broker = redis == null ? new Broker(metrics, DIALECTS, compressor, History.of(config))
                : new Broker(metrics, DIALECTS, compressor, History.of(config), b -> RedisClusterLink.start(config, redis, b));
        this.minichatsDecoder = new MinichatsDecoder(config.maxMessageBytes(), config.maxJsonDepth(),
                config.maxChannelNameBytes());
        this.disposableDecoder = new DisposableDecoder(config.maxMessageBytes(), config.maxJsonDepth());
        this.limits = new ConnectionLimits(config.maxConnections(), config.maxConnectionsPerAddress());
        this.sessions = new SessionContext(config, metrics, broker);
        this.publisher = new MinichatsPublisher(sessions, minichatsDecoder);
        this.lineChat = new LineChat(config.lineMaxClients());
        this.chatroom = new Chatroom(config, metrics, redis == null ? null
                : room -> RedisChatroom.start(config, room, broker.cluster(), redis));
        List<Endpoint> endpoints = new ArrayList<>(List.of(
                new MinichatsEndpoint(MinichatsEndpoint.PATH, sessions, minichatsDecoder, this.channelAuthorizer,
                        this.connectionAuthorizer),
                new DisposableEndpoint(sessions, disposableDecoder, this.channelAuthorizer),
                new ChatroomEndpoint(sessions, chatroom),
                new TopicsyncEndpoint(sessions, chatroom),
                new RandomchatEndpoint(sessions, this::randomchat)));
        more.forEach(m -> endpoints.add(m.apply(sessions)));
        this.router = new HandshakeRouter(this, endpoints,
                List.of(new HttpApi(config, publisher, broker)),
                config.lineEnabled() ? List.of("  TCP port " + config.linePort()
                        + "                         the line chat (telnet, nc), channel '" + config.lineChannel() + "'")
                        : List.of(),
                true);
    }

    /** Only in a cluster: loading {@link RedisConnections} loads Lettuce, which a single node may run without. */
    private static RedisConnections redisConnections(SwitchboardConfig config) {
        if (!onClassPath("io.lettuce.core.RedisClient")) {
            throw new IllegalStateException("A Redis endpoint is set, but Lettuce (io.lettuce:lettuce-core) is not on "
                    + "the class path: add it to run a cluster");
        }
        return RedisConnections.open(config);
    }

    @Override
    public SwitchboardConfig config() {
        return config;
    }

    @Override
    public Metrics metrics() {
        return metrics;
    }

    /**
     * The node's metrics and the JVM's in Prometheus's text format, or {@code null} when Micrometer's
     * Prometheus registry is not on the class path.
     */
    @Override
    public String scrapeMetrics() {
        Object registry = prometheus;
        if (registry == null) {
            synchronized (this) {
                registry = prometheus;
                if (registry == null) {
                    if (!onClassPath("io.micrometer.prometheusmetrics.PrometheusMeterRegistry")) {
                        return null;
                    }
                    registry = MetricsBinder.prometheus(this);
                    prometheus = registry;
                }
            }
        }
        return ((io.micrometer.prometheusmetrics.PrometheusMeterRegistry) registry).scrape();
    }

    /** Registers the node's meters with {@code registry} (a Micrometer {@code MeterRegistry}). */
    public void bindMetrics(io.micrometer.core.instrument.MeterRegistry registry) {
        MetricsBinder.bind(registry, this);
    }

    private static boolean onClassPath(String className) {
        try {
            Class.forName(className, false, Node.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    public Broker broker() {
        return broker;
    }

    @Override
    public Backpressure newBackpressure() {
        return new Backpressure(config.outboundSoftLimitBytes(), config.outboundHardLimitBytes(), metrics);
    }

    @Override
    public PerMessageDeflate newCompression() {
        return config.compression() ? new PerMessageDeflate(compressor, config.maxMessageBytes()) : null;
    }

    @Override
    public ExceptionLogger exceptionLogger() {
        return exceptionLogger;
    }

    public Chatroom chatroom() {
        return chatroom;
    }

    /** What every session of this node shares. */
    public SessionContext sessions() {
        return sessions;
    }

    @Override
    public ConnectionAuthorizer connectionAuthorizer() {
        return connectionAuthorizer;
    }

    /** The token auth of the config's {@code JWT_*} settings, or {@code null} when token auth is off. */
    public TokenAuth tokenAuth() {
        return tokenAuth;
    }

    /** {@code first}'s verdict and identity, then {@code second}'s refusal if it has one. */
    private static ConnectionAuthorizer both(ConnectionAuthorizer first, ConnectionAuthorizer second) {
        if (second == ConnectionAuthorizer.ALLOW_ALL) {
            return first;
        }
        return new ConnectionAuthorizer() {
            @Override
            public Rejection authorize(HandshakeRequest request) {
                return verify(request).rejection();
            }

            @Override
            public Verdict verify(HandshakeRequest request) {
                Verdict v = first.verify(request);
                if (!v.accepted()) {
                    return v;
                }
                Rejection r = second.authorize(request);
                return r == null ? v : Verdict.refuse(r);
            }

            @Override
            public Verdict refresh(Identity current, String credential) {
                return first.refresh(current, credential);
            }
        };
    }

    /** Allowed when {@code first} and then {@code second} allow. */
    private static ChannelAuthorizer both(ChannelAuthorizer first, ChannelAuthorizer second) {
        if (second == ChannelAuthorizer.ALLOW_ALL) {
            return first;
        }
        return new ChannelAuthorizer() {
            @Override
            public String authorize(Operation operation, String channelName, String clientName,
                                    HandshakeRequest handshake) {
                return authorize(operation, channelName, clientName, handshake, Identity.ANONYMOUS);
            }

            @Override
            public String authorize(Operation operation, String channelName, String clientName,
                                    HandshakeRequest handshake, Identity identity) {
                String refusal = first.authorize(operation, channelName, clientName, handshake, identity);
                return refusal != null ? refusal
                        : second.authorize(operation, channelName, clientName, handshake, identity);
            }
        };
    }

    @Override
    public ConnectionLimits limits() {
        return limits;
    }

    /**
     * The randomchat dialect (PROTOCOL.md section 5); its store is opened on the first call. Only
     * when {@link SwitchboardConfig#randomchatEnabled()}.
     */
    public RandomchatHub randomchat() {
        RandomchatHub hub = randomchat;
        if (hub == null) {
            synchronized (this) {
                hub = randomchat;
                if (hub == null) {
                    RedisConnections r = redis;
                    hub = new RandomchatHub(config, broker.frameAllocator(), h -> r != null
                            ? RedisRandomchatStore.start(config, r, h, metrics) : SqliteRandomchatStore.start(config, metrics));
                    randomchat = hub;
                }
            }
        }
        return hub;
    }

    @Override
    public void track(Channel ch) {
        connections.add(ch);
    }

    /** Returns the initializer of a plain (no TLS) server's accepted connections. */
    public ChannelHandler channelInitializer(Consumer<ChannelPipeline> customizer) {
        return channelInitializer(customizer, Tls.OFF);
    }

    /**
     * Returns the initializer of a standalone server's accepted connections, over {@code tls}
     * ({@link Tls#OFF}: plain); {@code customizer} is applied last to each pipeline.
     */
    public ChannelHandler channelInitializer(Consumer<ChannelPipeline> customizer, Tls tls) {
        return new SwitchboardChannelInitializer(this, router, customizer, tls);
    }

    /** Returns the initializer of the line chat's accepted connections (PROTOCOL.md section 3). */
    public ChannelHandler lineChannelInitializer() {
        return new LineChannelInitializer(this, sessions, lineChat);
    }

    /** Returns a handler serving minichats at {@code path} in an application's pipeline. */
    public ChannelHandler mount(String path) {
        return new HandshakeRouter(this, List.of(new MinichatsEndpoint(path, sessions, minichatsDecoder,
                channelAuthorizer, connectionAuthorizer)), List.of(), List.of(), false);
    }

    /**
     * Bytes written to the open connections and not yet taken by their peers (Netty's outbound
     * buffers): what slow consumers cost, bounded by the slow-consumer limits. Reads each
     * connection's volatile total; for metrics, not the hot path.
     */
    long outboundPendingBytes() {
        long sum = 0;
        for (Channel ch : connections) {
            ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
            if (out != null) {
                sum += out.totalPendingWriteBytes();
            }
        }
        return sum;
    }

    /** The number of open connections, WebSocket or not. */
    public int connectionCount() {
        return connections.size();
    }

    /** Decodes an HTTP API publish body; does not take ownership of {@code body}. */
    public ApiPublish decodeApiPublish(ByteBuf body) throws MinichatsException {
        return publisher.decodeApiPublish(body);
    }

    /**
     * Publishes {@code content} (raw JSON, not released) to {@code channelName} as {@code sender},
     * from any thread, as the HTTP API does. Returns the number of subscribers it was handed to.
     *
     * @throws MinichatsException {@code message_too_large} when the delivery would exceed the limit
     */
    public int publish(String channelName, String sender, ByteBuf content) throws MinichatsException {
        return publisher.publish(channelName, sender, content);
    }

    /** Calls {@code action} with each channel's name and subscriber count, ordered by name. */
    public void forEachChannel(ObjIntConsumer<String> action) {
        for (Broker.Listed c : broker.channels()) {
            action.accept(c.name(), c.totalSubscribers());
        }
    }

    @Override
    public String problem() {
        String problem = broker.cluster().problem();
        if (problem != null) {
            return problem;
        }
        problem = chatroom.problem();
        RandomchatHub hub = randomchat;
        return problem != null || hub == null ? problem : hub.problem();
    }

    /**
     * Leaves the cluster, if the node is in one, and closes the randomchat store, if one was
     * opened; then the Redis connections they shared. Call once connections are gone. Completes when
     * their resources are released.
     */
    public CompletableFuture<Void> close() {
        if (tokenAuth != null) {
            tokenAuth.close();
        }
        CompletableFuture<Void> cluster = CompletableFuture.allOf(chatroom.close(), broker.cluster().close());
        RandomchatHub hub;
        synchronized (this) {
            hub = randomchat;
        }
        CompletableFuture<Void> users = hub == null ? cluster
                : CompletableFuture.allOf(cluster, hub.close(RANDOMCHAT_LOGOUT_GRACE_MILLIS));
        RedisConnections r = redis;
        return r == null ? users : users.handle((ignored, failure) -> null).thenCompose(ignored -> r.close());
    }

    /** Returns the initializer of the chatroom inspection page's connections ({@code DEBUG}). */
    public ChannelHandler debugChannelInitializer() {
        DebugPage page = new DebugPage(chatroom, config);
        return new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                // An idle connection, or one that never completes a request, is closed as on the main port.
                HttpDeadline.start(ch, config.handshakeTimeout().toNanos(), metrics());
                ch.pipeline().addLast(PipelineNames.BACKPRESSURE, newBackpressure());
                ch.pipeline().addLast(PipelineNames.HTTP_CODEC, new HttpServerCodec());
                ch.pipeline().addLast(PipelineNames.FLOW_CONTROL, new FlowControlHandler());
                ch.pipeline().addLast(PipelineNames.HTTP_AGGREGATOR, new HttpObjectAggregator(8192));
                ch.pipeline().addLast(PipelineNames.ROUTER, page);
                ch.pipeline().addLast(PipelineNames.TAIL, exceptionLogger);
            }
        };
    }

    /** How long a stop waits for the closed randomchat sessions to record their logouts. */
    private static final long RANDOMCHAT_LOGOUT_GRACE_MILLIS = 2000;

    /**
     * Says goodbye to every connection: WebSocket sessions get close 1001 ("going away"), line
     * clients the chat's shutdown line, other connections are closed. The goodbyes are spread evenly over {@code window}, so that clients
     * reconnecting elsewhere do not all arrive at once. The returned future completes when all are
     * closed, or {@code timeout} after the window, when the stragglers are closed without waiting.
     */
    public CompletableFuture<Void> goAway(Duration window, Duration timeout) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        connections.newCloseFuture().addListener(f -> done.complete(null));
        List<Channel> all = new ArrayList<>(connections);
        long windowNanos = window.toNanos();
        for (int i = 0; i < all.size(); i++) {
            Channel ch = all.get(i);
            Runnable goodbye = () -> {
                Session session = ch.pipeline().get(Session.class);
                if (session != null) {
                    session.goAway();
                } else {
                    ch.close();
                }
            };
            long delay = windowNanos * i / all.size();
            if (delay == 0) {
                ch.eventLoop().execute(goodbye);
            } else {
                ch.eventLoop().schedule(goodbye, delay, TimeUnit.NANOSECONDS);
            }
        }
        GlobalEventExecutor.INSTANCE.schedule(() -> {
            if (!done.isDone()) {
                connections.close().addListener(f -> done.complete(null));
            }
        }, window.plus(timeout).toNanos(), TimeUnit.NANOSECONDS);
        return done;
    }
}
