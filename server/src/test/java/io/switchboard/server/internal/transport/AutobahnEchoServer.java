package io.switchboard.server.internal.transport;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.util.ResourceLeakDetector;
import io.switchboard.server.PipelineNames;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.metrics.Metrics;
import io.switchboard.server.internal.session.WebSocketSession;

/**
 * The server the Autobahn fuzzing client tests (server/pom.xml runs it in {@code mvn verify}):
 * Switchboard's WebSocket handling exactly as its dialects get it
 * ({@link HandshakeRouter#webSocketConfig}, {@link HandshakeRouter#installWebSocket}) with an echo
 * dialect in place of the session, on 127.0.0.1 and the port the plugin passes.
 */
public final class AutobahnEchoServer {

    private AutobahnEchoServer() {
    }

    public static void main(String[] args) throws InterruptedException {
        int port = Integer.parseInt(args[0]);
        // Runs inside Maven's JVM, not a test JVM: ask for the tests' leak detection here too
        // (.ci/run fails on any LEAK: line).
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
        // The suite's largest non-performance messages are 64 KiB; 9.x (performance) goes up to 16 MiB.
        SwitchboardConfig config = SwitchboardConfig.builder().maxMessageBytes(16 * 1024 * 1024).build();
        WebSocketServerProtocolConfig protocol = HandshakeRouter.webSocketConfig("/", config);
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(PipelineNames.HTTP_CODEC, new HttpServerCodec());
                            ch.pipeline().addLast(PipelineNames.HTTP_AGGREGATOR, new HttpObjectAggregator(65536));
                            ch.pipeline().addLast(PipelineNames.ROUTER, new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                    if (msg instanceof FullHttpRequest) {
                                        HandshakeRouter.installWebSocket(ctx.pipeline(), ctx.name(), protocol,
                                                config.maxMessageBytes(), new Echo());
                                        ctx.pipeline().remove(this);
                                    }
                                    ctx.fireChannelRead(msg);
                                }
                            });
                            ch.pipeline().addLast(PipelineNames.TAIL, new ExceptionLogger(new Metrics()));
                        }
                    })
                    .bind("127.0.0.1", port).sync().channel();
            server.closeFuture().sync();
        } finally {
            group.shutdownGracefully();
        }
    }

    /** The echo dialect: every message back as it came; closes as the real sessions do them. */
    private static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof TextWebSocketFrame || msg instanceof BinaryWebSocketFrame) {
                ctx.write(msg); // the write releases it
            } else if (msg instanceof CloseWebSocketFrame) {
                // Echo the client's close, status included, or answer an invalid status with 1002, then
                // close (WebSocketSession does the same).
                ctx.writeAndFlush(CloseFrames.answer((CloseWebSocketFrame) msg)).addListener(ChannelFutureListener.CLOSE);
            } else {
                ctx.fireChannelRead(msg);
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (cause instanceof CorruptedWebSocketFrameException) {
                // As WebSocketSession: Netty's decoder sends no close frame of its own (closeOnProtocolViolation off).
                ctx.writeAndFlush(CloseFrames.answer((CorruptedWebSocketFrameException) cause))
                        .addListener(ChannelFutureListener.CLOSE);
            }
            ctx.fireExceptionCaught(cause);
        }
    }
}
