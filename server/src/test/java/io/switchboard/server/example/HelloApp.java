package io.switchboard.server.example;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.switchboard.server.Switchboard;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * An application with its own Netty HTTP server and its own route, {@code GET /hello}, that mounts
 * Switchboard at {@code /ws} on the same port. Written against Switchboard's public API only.
 */
public final class HelloApp implements AutoCloseable {

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
    private final Channel listener;

    /**
     * @param aggregate whether the app's pipeline aggregates HTTP messages (Switchboard's mount
     *                  works with and without)
     */
    public HelloApp(Switchboard switchboard, boolean aggregate) throws InterruptedException {
        listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast("http", new HttpServerCodec());
                        if (aggregate) {
                            ch.pipeline().addLast("aggregator", new HttpObjectAggregator(65536));
                        }
                        ch.pipeline().addLast("switchboard", switchboard.mount("/ws"));
                        ch.pipeline().addLast("app", aggregate ? new Hello() : new PlainHello());
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) listener.localAddress();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static FullHttpResponse response(String path) {
        boolean hello = "/hello".equals(path);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                hello ? HttpResponseStatus.OK : HttpResponseStatus.NOT_FOUND,
                Unpooled.copiedBuffer(hello ? "hello from the app\n" : "not the app's\n", StandardCharsets.UTF_8));
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, r.content().readableBytes());
        return r;
    }

    /** The app's own route, on aggregated requests. */
    private static final class Hello extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
            ctx.writeAndFlush(response(request.uri())).addListener(ChannelFutureListener.CLOSE);
        }
    }

    /** The app's own route, on a pipeline without an aggregator. */
    private static final class PlainHello extends SimpleChannelInboundHandler<io.netty.handler.codec.http.HttpObject> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, io.netty.handler.codec.http.HttpObject msg) {
            if (msg instanceof io.netty.handler.codec.http.HttpRequest) {
                String uri = ((io.netty.handler.codec.http.HttpRequest) msg).uri();
                ctx.writeAndFlush(response(uri)).addListener(ChannelFutureListener.CLOSE);
            }
        }
    }
}
