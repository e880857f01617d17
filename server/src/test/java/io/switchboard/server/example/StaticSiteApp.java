package io.switchboard.server.example;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.switchboard.server.Switchboard;
import io.switchboard.server.SwitchboardConfig;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A plain Netty web application that serves a directory of static files and mounts Switchboard's
 * minichats endpoint at {@code /api/connect} on the same port, through Switchboard's public API
 * only. A browser page served from the directory reaches the endpoint at its own origin, as the
 * Mini Chats web client does ({@code ws://${location.host}/api/connect}). docs/embedding.md shows
 * how to run it against that client.
 *
 * <pre>
 * java -cp server/target/switchboard.jar:server/target/test-classes \
 *     io.switchboard.server.example.StaticSiteApp DIRECTORY [PORT [HOST]]    # 8080, 127.0.0.1
 * </pre>
 *
 * Each connection's pipeline: {@code HttpServerCodec}, {@code HttpObjectAggregator}, Switchboard's
 * mount (takes only upgrades to {@code /api/connect}, then leaves), {@link StaticFiles} (every
 * other request). An example, not a hardened web server: no TLS, no idle timeout for HTTP
 * connections.
 */
public final class StaticSiteApp implements AutoCloseable {

    /** Where the site's pages find Switchboard: the Mini Chats client's path. */
    public static final String ENDPOINT = "/api/connect";
    /** The site takes no request bodies; an upgrade request has none either. */
    private static final int MAX_REQUEST_BYTES = 8192;

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(NioIoHandler.newFactory());
    private final Channel listener;

    /**
     * Binds {@code address} and serves {@code directory} and {@code switchboard} there until
     * {@link #close()}.
     *
     * @param address port 0 binds a free port: {@link #address()} tells which
     */
    public StaticSiteApp(Switchboard switchboard, Path directory, InetSocketAddress address)
            throws IOException, InterruptedException {
        StaticFiles files = new StaticFiles(directory);
        try {
            listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast("http", new HttpServerCodec());
                            ch.pipeline().addLast("aggregator", new HttpObjectAggregator(MAX_REQUEST_BYTES));
                            ch.pipeline().addLast("switchboard", switchboard.mount(ENDPOINT));
                            ch.pipeline().addLast("files", files);
                        }
                    })
                    .bind(address).sync().channel();
        } catch (RuntimeException | InterruptedException e) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            throw e;
        }
    }

    /** The address the application listens on. */
    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    /** Stops listening and closes every connection, WebSocket sessions included. */
    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 3 || args[0].startsWith("-")) {
            System.err.println("usage: StaticSiteApp DIRECTORY [PORT [HOST]]   (default port 8080, host 127.0.0.1)");
            System.exit(2);
        }
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 8080;
        String host = args.length > 2 ? args[2] : "127.0.0.1";
        Switchboard switchboard = Switchboard.create(SwitchboardConfig.builder().build());
        StaticSiteApp app = new StaticSiteApp(switchboard, Path.of(args[0]), new InetSocketAddress(host, port));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            app.close();
            switchboard.close();
        }, "shutdown"));
        InetSocketAddress bound = app.address();
        String origin = bound.getHostString() + ":" + bound.getPort();
        System.out.println("Serving " + Path.of(args[0]).toRealPath() + " at http://" + origin
                + "/ and minichats at ws://" + origin + ENDPOINT + " (Ctrl-C stops)");
    }
}
