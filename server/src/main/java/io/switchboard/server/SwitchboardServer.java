package io.switchboard.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.handler.ssl.SslContext;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
import io.switchboard.server.internal.Node;
import io.switchboard.server.internal.transport.Tls;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A Switchboard node listening on a TCP port: WebSocket dialects and the HTTP API on one port,
 * and the line chat on a second one when {@link SwitchboardConfig#linePort()} is set.
 *
 * <pre>{@code
 * SwitchboardServer server = SwitchboardServer.create(SwitchboardConfig.builder().port(0).build());
 * server.start().join();
 * System.out.println("listening on " + server.localAddress());
 * server.stop().join();
 * }</pre>
 *
 * <p>Thread-safe. A server starts once; after {@link #stop()} it cannot be started again.
 */
public final class SwitchboardServer implements AutoCloseable {

    private final SwitchboardConfig config;
    private final Switchboard switchboard;
    private final Node node;
    private final EventLoopGroup lentGroup;
    private final Consumer<ChannelPipeline> pipelineCustomizer;
    private final boolean ownsSwitchboard;
    private final Supplier<SslContext> sslContexts;
    private final Object lifecycleLock = new Object();
    /** TLS of the WebSocket port; {@link Tls#OFF} until started, and on a plain port. */
    private volatile Tls tls = Tls.OFF;
    private ScheduledFuture<?> tlsWatch;
    private EventLoopGroup group;
    private Channel serverChannel;
    private Channel lineChannel;
    private Channel debugChannel;
    private String transportName;
    private CompletableFuture<Void> startFuture;
    private CompletableFuture<Void> stopFuture;

    private SwitchboardServer(Builder b) {
        this.switchboard = b.switchboard;
        this.config = switchboard.config();
        this.node = switchboard.node();
        this.lentGroup = b.eventLoopGroup;
        this.pipelineCustomizer = b.pipelineCustomizer;
        this.ownsSwitchboard = b.ownsSwitchboard;
        this.sslContexts = b.sslContexts;
    }

    /** Returns a server that will run with {@code config}; nothing is bound until {@link #start()}. */
    public static SwitchboardServer create(SwitchboardConfig config) {
        Builder b = builder(Switchboard.create(config));
        b.ownsSwitchboard = true;
        return b.build();
    }

    /** Returns a builder of a server for {@code switchboard}, its broker (with its hooks). */
    public static Builder builder(Switchboard switchboard) {
        return new Builder(switchboard);
    }

    public SwitchboardConfig config() {
        return config;
    }

    /** The broker this server serves: publish to it and list its channels from any thread. */
    public Switchboard switchboard() {
        return switchboard;
    }

    /**
     * Creates the event loops and binds {@link SwitchboardConfig#host()}:{@link SwitchboardConfig#port()}.
     * The future completes when the port is bound, or exceptionally when it cannot be (the event
     * loops are then released). Calling it again returns the same future.
     *
     * @throws TransportUnavailableException if {@link SwitchboardConfig#transport()} is
     *         {@link Transport#EPOLL} or {@link Transport#IO_URING} and it cannot load here; nothing
     *         was created, and the server does not fall back to another transport
     * @throws TlsUnavailableException if the port is to serve TLS ({@link SwitchboardConfig#tlsCertFile()})
     *         and the certificate or key cannot be loaded, or {@link TlsProvider#OPENSSL} cannot load;
     *         nothing was created
     * @throws IllegalArgumentException if the lent event-loop group is not epoll, io_uring or NIO
     */
    public CompletableFuture<Void> start() {
        synchronized (lifecycleLock) {
            if (startFuture != null) {
                return startFuture;
            }
            if (stopFuture != null) {
                throw new IllegalStateException("stopped: a server starts once");
            }
            Tls portTls = loadTls();
            Io io;
            if (lentGroup != null) {
                io = Io.of(lentGroup);
                group = lentGroup;
            } else {
                io = Io.of(config.transport());
                group = new MultiThreadIoEventLoopGroup(config.ioThreads(),
                        new DefaultThreadFactory("switchboard-io"), io.handler.get());
            }
            startFuture = new CompletableFuture<>();
            transportName = io.name;
            ServerBootstrap bootstrap = new ServerBootstrap()
                    .group(group)
                    .channel(io.serverChannel)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(node.channelInitializer(pipelineCustomizer, portTls));
            tls = portTls;
            if (portTls.fromFiles()) {
                tlsWatch = GlobalEventExecutor.INSTANCE.scheduleWithFixedDelay(portTls::reloadIfChanged,
                        Tls.POLL_SECONDS, Tls.POLL_SECONDS, TimeUnit.SECONDS);
            }
            CompletableFuture<Void> started = startFuture;
            bootstrap.bind(config.host(), config.port()).addListener(f -> {
                if (!f.isSuccess()) {
                    failStart(started, f.cause());
                    return;
                }
                synchronized (lifecycleLock) {
                    serverChannel = ((ChannelFuture) f).channel();
                }
                bindLine(bootstrap, started);
            });
            return startFuture;
        }
    }

    /** TLS as the builder's {@code sslContext} or the configuration's files say, or {@link Tls#OFF}. */
    private Tls loadTls() {
        if (sslContexts != null) {
            return Tls.supplied(sslContexts, node.metrics());
        }
        if (config.tlsCertFile() == null) {
            return Tls.OFF;
        }
        try {
            return Tls.fromFiles(config.tlsCertFile(), config.tlsKeyFile(), config.tlsProvider(), node.metrics());
        } catch (IOException e) {
            throw new TlsUnavailableException(e.getMessage(), e);
        }
    }

    /**
     * Whether the WebSocket port serves TLS, and with whose implementation: {@code openssl} or
     * {@code jdk} when it serves {@link SwitchboardConfig#tlsCertFile()}, {@code supplied} when the
     * builder was given an {@code sslContext}, {@code null} when it is plain or not started.
     */
    public String tlsProviderName() {
        Tls t = tls;
        return !t.enabled() ? null : t.fromFiles() ? t.providerName() : "supplied";
    }

    /**
     * Reads {@link SwitchboardConfig#tlsCertFile()} and {@link SwitchboardConfig#tlsKeyFile()} again
     * now, as the runnable node does on SIGHUP (it also checks them for changes every 2 seconds). The
     * connections accepted from then on get the new certificate; open ones keep theirs. Returns
     * whether the new files are in use: when they cannot be read, or the key is not the certificate's,
     * the previous certificate stays and the reason is logged at WARN. {@code false} when the port
     * does not serve TLS from files. Blocks while it reads the files; call it from any thread but an
     * event loop.
     */
    public boolean reloadTls() {
        return tls.reload();
    }

    /**
     * Binds the line chat's port, if it is on, then the inspection page's. Both are clones of the
     * main port's bootstrap, so they run on the same group and transport.
     */
    private void bindLine(ServerBootstrap bootstrap, CompletableFuture<Void> started) {
        if (!config.lineEnabled()) {
            bindDebug(bootstrap, started);
            return;
        }
        bootstrap.clone().childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(node.lineChannelInitializer())
                .bind(config.host(), config.linePort()).addListener(lf -> {
                    if (lf.isSuccess()) {
                        synchronized (lifecycleLock) {
                            lineChannel = ((ChannelFuture) lf).channel();
                        }
                        bindDebug(bootstrap, started);
                    } else {
                        serverChannel.close();
                        failStart(started, new IOException("cannot listen for line clients on "
                                + config.host() + ":" + config.linePort() + " (LINE_PORT; 0 turns the "
                                + "line chat off): " + lf.cause().getMessage(), lf.cause()));
                    }
                });
    }

    /** Binds the chatroom inspection page's port when {@code DEBUG} is on, then the start is complete. */
    private void bindDebug(ServerBootstrap bootstrap, CompletableFuture<Void> started) {
        if (!config.debug()) {
            started.complete(null);
            return;
        }
        bootstrap.clone().childHandler(node.debugChannelInitializer())
                .bind(config.debugHost(), config.debugPort()).addListener(df -> {
                    if (df.isSuccess()) {
                        synchronized (lifecycleLock) {
                            debugChannel = ((ChannelFuture) df).channel();
                        }
                        started.complete(null);
                    } else {
                        serverChannel.close();
                        synchronized (lifecycleLock) {
                            if (lineChannel != null) {
                                lineChannel.close();
                            }
                        }
                        failStart(started, new IOException("cannot serve the inspection page on "
                                + config.debugHost() + ":" + config.debugPort() + " (DEBUG_PORT): "
                                + df.cause().getMessage(), df.cause()));
                    }
                });
    }

    /**
     * The bound address of the chatroom inspection page ({@link SwitchboardConfig#debug()}); {@code null}
     * when it is off or before {@link #start()} has completed.
     */
    public InetSocketAddress debugAddress() {
        synchronized (lifecycleLock) {
            return debugChannel == null ? null : (InetSocketAddress) debugChannel.localAddress();
        }
    }

    private void failStart(CompletableFuture<Void> started, Throwable cause) {
        synchronized (lifecycleLock) {
            if (tlsWatch != null) {
                tlsWatch.cancel(false);
            }
        }
        if (lentGroup == null) {
            group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
        }
        started.completeExceptionally(cause);
    }

    /**
     * The bound address of the line chat ({@link SwitchboardConfig#linePort()}); {@code null} when it
     * is off or before {@link #start()} has completed.
     */
    public InetSocketAddress lineAddress() {
        synchronized (lifecycleLock) {
            return lineChannel == null ? null : (InetSocketAddress) lineChannel.localAddress();
        }
    }

    /** The bound address; {@code null} before {@link #start()} has completed. */
    public InetSocketAddress localAddress() {
        synchronized (lifecycleLock) {
            return serverChannel == null ? null : (InetSocketAddress) serverChannel.localAddress();
        }
    }

    /** {@code epoll}, {@code io_uring} or {@code nio}; {@code null} before {@link #start()}. */
    public String transportName() {
        synchronized (lifecycleLock) {
            return transportName;
        }
    }

    /**
     * Stops accepting, sends close 1001 to every client, spread over
     * {@link SwitchboardConfig#drainWindow()}, waits up to {@link SwitchboardConfig#shutdownTimeout()}
     * more for them to leave, closes what is left and
     * releases the event loops (a lent group is left running). A server made by
     * {@link #create(SwitchboardConfig)} also closes its broker, leaving the cluster; a broker lent to
     * {@link #builder(Switchboard)} is its owner's to close. Calling it again returns the same future.
     */
    public CompletableFuture<Void> stop() {
        synchronized (lifecycleLock) {
            if (stopFuture != null) {
                return stopFuture;
            }
            if (startFuture == null) {
                stopFuture = CompletableFuture.completedFuture(null);
                return stopFuture;
            }
            Channel listener = serverChannel;
            Channel lineListener = lineChannel;
            Channel debugListener = debugChannel;
            EventLoopGroup loops = group;
            if (tlsWatch != null) {
                tlsWatch.cancel(false);
            }
            stopFuture = startFuture
                    .handle((ignored, startFailure) -> null)
                    .thenCompose(ignored -> {
                        if (listener != null) {
                            listener.close().syncUninterruptibly();
                        }
                        if (lineListener != null) {
                            lineListener.close().syncUninterruptibly();
                        }
                        if (debugListener != null) {
                            debugListener.close().syncUninterruptibly();
                        }
                        return node.goAway(config.drainWindow(), config.shutdownTimeout());
                    })
                    .thenCompose(ignored -> ownsSwitchboard ? node.close() : CompletableFuture.completedFuture(null))
                    .thenCompose(ignored -> {
                        CompletableFuture<Void> released = new CompletableFuture<>();
                        if (loops == lentGroup) {
                            released.complete(null);
                        } else {
                            loops.shutdownGracefully(0, 2, TimeUnit.SECONDS)
                                    .addListener(f -> released.complete(null));
                        }
                        return released;
                    });
            return stopFuture;
        }
    }

    /** Stops the server and waits for it: {@code stop().join()}. */
    @Override
    public void close() {
        stop().join();
    }

    /** A transport: its event loops' I/O, its server channel and its name for logs. */
    private record Io(String name, Supplier<IoHandlerFactory> handler, Class<? extends ServerChannel> serverChannel) {

        static Io epoll() {
            return new Io("epoll", EpollIoHandler::newFactory, EpollServerSocketChannel.class);
        }

        static Io ioUring() {
            return new Io("io_uring", IoUringIoHandler::newFactory, IoUringServerSocketChannel.class);
        }

        static Io nio() {
            return new Io("nio", NioIoHandler::newFactory, NioServerSocketChannel.class);
        }

        /** An explicit native transport loads or stops the start: never a silent fallback (issue 22). */
        static Io of(Transport transport) {
            switch (transport) {
                case EPOLL:
                    if (!Epoll.isAvailable()) {
                        throw new TransportUnavailableException(transport, Epoll.unavailabilityCause());
                    }
                    return epoll();
                case IO_URING:
                    if (!IoUring.isAvailable()) {
                        throw new TransportUnavailableException(transport, IoUring.unavailabilityCause());
                    }
                    return ioUring();
                case NIO:
                    return nio();
                default:
                    return Epoll.isAvailable() ? epoll() : nio();
            }
        }

        /** The transport of a lent group, detected from its I/O handler. */
        static Io of(EventLoopGroup group) {
            if (group instanceof IoEventLoopGroup) {
                IoEventLoopGroup io = (IoEventLoopGroup) group;
                if (io.isIoType(EpollIoHandler.class)) {
                    return epoll();
                }
                if (io.isIoType(IoUringIoHandler.class)) {
                    return ioUring();
                }
                if (io.isIoType(NioIoHandler.class)) {
                    return nio();
                }
            }
            throw new IllegalArgumentException("eventLoopGroup: " + group
                    + " (expected: an epoll, io_uring or NIO IoEventLoopGroup)");
        }
    }

    /** Builds a {@link SwitchboardServer}. Not thread-safe. */
    public static final class Builder {
        private final Switchboard switchboard;
        private EventLoopGroup eventLoopGroup;
        private Consumer<ChannelPipeline> pipelineCustomizer = pipeline -> { };
        private boolean ownsSwitchboard;
        private Supplier<SslContext> sslContexts;

        private Builder(Switchboard switchboard) {
            this.switchboard = Objects.requireNonNull(switchboard, "switchboard");
        }

        /**
         * Lends the server an event-loop group (epoll, io_uring or NIO: the server detects which) for
         * its listener and connections,
         * instead of {@link SwitchboardConfig#ioThreads()} loops of its own; {@link #stop()} leaves it
         * running. Default: none, the server owns its loops.
         */
        public Builder eventLoopGroup(EventLoopGroup eventLoopGroup) {
            this.eventLoopGroup = Objects.requireNonNull(eventLoopGroup, "eventLoopGroup");
            return this;
        }

        /**
         * Applied last to every accepted connection's pipeline, after Switchboard's handlers: add
         * handlers next to the names in Switchboard's pipeline documentation. For TLS use
         * {@link #sslContext(Supplier)}, which puts the {@code SslHandler} where the outbound limits
         * still count. Runs on the connection's event loop. Default: nothing.
         */
        public Builder pipelineCustomizer(Consumer<ChannelPipeline> pipelineCustomizer) {
            this.pipelineCustomizer = Objects.requireNonNull(pipelineCustomizer, "pipelineCustomizer");
            return this;
        }

        /**
         * Serves the WebSocket port over TLS with the application's own contexts, instead of
         * {@link SwitchboardConfig#tlsCertFile()}: {@code contexts} is called on the event loop of every
         * accepted connection, and must return at once; return a new context to rotate certificates
         * (the connections accepted after that get it). Switchboard puts the handler first in the
         * pipeline as {@link PipelineNames#TLS} and counts handshakes as it does for its own; plain
         * HTTP on the port gets 400. Default: none.
         */
        public Builder sslContext(Supplier<SslContext> contexts) {
            this.sslContexts = Objects.requireNonNull(contexts, "contexts");
            return this;
        }

        public SwitchboardServer build() {
            return new SwitchboardServer(this);
        }
    }
}
