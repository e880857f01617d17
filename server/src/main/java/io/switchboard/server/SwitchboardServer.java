package io.switchboard.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.switchboard.server.internal.Node;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A Switchboard node listening on a TCP port: WebSocket dialects on one HTTP port, a single node
 * in memory.
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
    private final Node node;
    private final Object lifecycleLock = new Object();
    private EventLoopGroup group;
    private Channel serverChannel;
    private String transportName;
    private CompletableFuture<Void> startFuture;
    private CompletableFuture<Void> stopFuture;

    private SwitchboardServer(SwitchboardConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        this.node = new Node(config);
    }

    /** Returns a server that will run with {@code config}; nothing is bound until {@link #start()}. */
    public static SwitchboardServer create(SwitchboardConfig config) {
        return new SwitchboardServer(config);
    }

    public SwitchboardConfig config() {
        return config;
    }

    /**
     * Creates the event loops and binds {@link SwitchboardConfig#host()}:{@link SwitchboardConfig#port()}.
     * The future completes when the port is bound, or exceptionally when it cannot be (the event
     * loops are then released). Calling it again returns the same future.
     */
    public CompletableFuture<Void> start() {
        synchronized (lifecycleLock) {
            if (startFuture != null) {
                return startFuture;
            }
            if (stopFuture != null) {
                throw new IllegalStateException("stopped: a server starts once");
            }
            startFuture = new CompletableFuture<>();
            boolean epoll = useEpoll(config.transport());
            IoHandlerFactory ioHandler = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
            Class<? extends ServerChannel> channelType = epoll ? EpollServerSocketChannel.class
                    : NioServerSocketChannel.class;
            transportName = epoll ? "epoll" : "nio";
            group = new MultiThreadIoEventLoopGroup(config.ioThreads(),
                    new DefaultThreadFactory("switchboard-io"), ioHandler);
            ServerBootstrap bootstrap = new ServerBootstrap()
                    .group(group)
                    .channel(channelType)
                    .option(ChannelOption.SO_BACKLOG, 1024)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(node.channelInitializer());
            CompletableFuture<Void> started = startFuture;
            bootstrap.bind(config.host(), config.port()).addListener(f -> {
                if (f.isSuccess()) {
                    synchronized (lifecycleLock) {
                        serverChannel = ((ChannelFuture) f).channel();
                    }
                    started.complete(null);
                } else {
                    group.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
                    started.completeExceptionally(f.cause());
                }
            });
            return startFuture;
        }
    }

    /** The bound address; {@code null} before {@link #start()} has completed. */
    public InetSocketAddress localAddress() {
        synchronized (lifecycleLock) {
            return serverChannel == null ? null : (InetSocketAddress) serverChannel.localAddress();
        }
    }

    /** {@code epoll} or {@code nio}; {@code null} before {@link #start()}. */
    public String transportName() {
        synchronized (lifecycleLock) {
            return transportName;
        }
    }

    /**
     * Stops accepting, sends close 1001 to every client, waits up to
     * {@link SwitchboardConfig#shutdownTimeout()} for them to leave, closes what is left and
     * releases the event loops. Calling it again returns the same future.
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
            EventLoopGroup loops = group;
            stopFuture = startFuture
                    .handle((ignored, startFailure) -> null)
                    .thenCompose(ignored -> {
                        if (listener != null) {
                            listener.close().syncUninterruptibly();
                        }
                        return node.goAway(config.shutdownTimeout());
                    })
                    .thenCompose(ignored -> {
                        CompletableFuture<Void> released = new CompletableFuture<>();
                        loops.shutdownGracefully(0, 2, TimeUnit.SECONDS)
                                .addListener(f -> released.complete(null));
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

    private static boolean useEpoll(Transport transport) {
        switch (transport) {
            case EPOLL:
                Epoll.ensureAvailability();
                return true;
            case NIO:
                return false;
            default:
                return Epoll.isAvailable();
        }
    }
}
