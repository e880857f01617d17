package io.switchboard.benchmarks.broadcast;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import io.switchboard.benchmarks.Transports;
import io.switchboard.server.internal.broker.Connection;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The floor: a bare Netty server that, when any connection sends bytes, writes one pre-encoded
 * frame to every other connection. No HTTP, no WebSocket handshake, no JSON, no routing; the same
 * per-event-loop fan-out (one task per other loop, a retained duplicate per connection, one flush
 * each) Switchboard does, so the difference between the two is the cost of everything else.
 */
public final class BareFanoutServer implements AutoCloseable {

    private final EventLoopGroup group;
    private final Channel listener;
    private final ByteBuf frame;
    /** Each loop's connections; a list is touched only by its loop. */
    private final ConcurrentHashMap<EventExecutor, List<ChannelHandlerContext>> loops = new ConcurrentHashMap<>();

    /** Takes ownership of {@code frame}, a complete WebSocket frame. */
    public BareFanoutServer(ByteBuf frame, int ioThreads) throws InterruptedException {
        this.frame = frame;
        this.group = Transports.newGroup(ioThreads, "bare-io");
        this.listener = new ServerBootstrap().group(group).channel(Transports.serverSocketChannel())
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new Connection());
                    }
                })
                .bind("127.0.0.1", 0).sync().channel();
    }

    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        frame.release();
    }

    private List<ChannelHandlerContext> local(EventExecutor loop) {
        return loops.computeIfAbsent(loop, l -> new ArrayList<>());
    }

    /** Writes a duplicate of {@code dup} to each connection of the list, then flushes each. Releases {@code dup}. */
    private static void fanOut(List<ChannelHandlerContext> connections, ByteBuf dup) {
        try {
            for (int i = 0, n = connections.size(); i < n; i++) {
                ChannelHandlerContext c = connections.get(i);
                c.write(dup.retainedDuplicate(), c.voidPromise());
            }
            for (int i = 0, n = connections.size(); i < n; i++) {
                connections.get(i).flush();
            }
        } finally {
            dup.release();
        }
    }

    private final class Connection extends ChannelInboundHandlerAdapter {
        private boolean publisher;

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            local(ctx.executor()).add(ctx);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            local(ctx.executor()).remove(ctx);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ReferenceCountUtil.release(msg);
            if (!publisher) {
                // The connection that sends is the publisher; it gets no copies.
                publisher = true;
                local(ctx.executor()).remove(ctx);
            }
            // Other loops first, then this one inline, as Switchboard's broker does.
            for (var e : loops.entrySet()) {
                if (e.getKey() != ctx.executor()) {
                    List<ChannelHandlerContext> connections = e.getValue();
                    ByteBuf dup = frame.retainedDuplicate();
                    e.getKey().execute(() -> fanOut(connections, dup));
                }
            }
            fanOut(local(ctx.executor()), frame.retainedDuplicate());
        }
    }
}
