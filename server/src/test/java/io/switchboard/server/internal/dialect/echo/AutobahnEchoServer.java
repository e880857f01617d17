package io.switchboard.server.internal.dialect.echo;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.ResourceLeakDetector;
import io.switchboard.server.ChannelAuthorizer;
import io.switchboard.server.ConnectionAuthorizer;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.Node;

import java.util.List;

/**
 * The server the Autobahn fuzzing client tests (server/pom.xml runs it in {@code mvn verify}): a
 * node with one more dialect, echo, registered as the node registers its own (an {@link EchoEndpoint}
 * at {@code /} making {@link EchoSession}s), so the run goes through the real pipeline, router,
 * backpressure and {@code WebSocketSession} close handling; on 127.0.0.1 and the port the plugin
 * passes. docs/architecture.md cites it as what adding a dialect touches.
 */
public final class AutobahnEchoServer {

    private AutobahnEchoServer() {
    }

    public static void main(String[] args) throws InterruptedException {
        int port = Integer.parseInt(args[0]);
        // Runs inside Maven's JVM, not a test JVM: ask for the tests' leak detection here too
        // (.ci/run fails on any LEAK: line).
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        // The suite's largest non-performance messages are 64 KiB; 9.x (performance) goes up to 16 MiB,
        // as fast as the echo takes them: no rate limit, and room for a few in flight.
        // -Dautobahn.compression=true: the same run with COMPRESSION on (the permessage-deflate handler
        // in every pipeline, checking the RSV bits in place of Netty's decoder; docs/guarantees.md).
        SwitchboardConfig config = SwitchboardConfig.builder().maxMessageBytes(16 * 1024 * 1024)
                .maxMessagesPerSecond(0).outboundHardLimitBytes(256L * 1024 * 1024).linePort(0)
                .compression(Boolean.getBoolean("autobahn.compression")).build();
        Node node = new Node(config, ConnectionAuthorizer.ALLOW_ALL, ChannelAuthorizer.ALLOW_ALL,
                List.of(EchoEndpoint::new));
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(node.channelInitializer(p -> { }))
                    .bind("127.0.0.1", port).sync().channel();
            server.closeFuture().sync();
        } finally {
            group.shutdownGracefully();
        }
    }
}
