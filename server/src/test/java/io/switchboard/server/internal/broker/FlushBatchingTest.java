package io.switchboard.server.internal.broker;

import io.switchboard.protocol.minichats.MinichatsDecoder;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.local.LocalAddress;
import io.netty.channel.local.LocalChannel;
import io.netty.channel.local.LocalIoHandler;
import io.netty.channel.local.LocalServerChannel;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler.HandshakeComplete;
import io.netty.util.ReferenceCountUtil;
import io.switchboard.server.ChannelAuthorizer;
import io.switchboard.server.ConnectionAuthorizer;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.Node;
import io.switchboard.server.internal.dialect.minichats.MinichatsSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.switchboard.server.testing.Requests.publish;
import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Deliveries that reach an event loop together share one flush per connection. Runs sessions on
 * two real event loops over Netty's in-VM transport, which carries frames as objects. The
 * subscriber's loop is held by a latch while three publishes queue their fan-outs behind it, so
 * the batch does not depend on timing.
 */
@Timeout(30)
class FlushBatchingTest {

    private static final MinichatsDecoder MINICHATS_DECODER = new MinichatsDecoder(65536, 32, 128);

    /** The server's connections, one per loop (children are assigned round-robin). */
    private final EventLoopGroup loops = new MultiThreadIoEventLoopGroup(2, LocalIoHandler.newFactory());
    /** The acceptor and the clients, kept off the server's loops. */
    private final EventLoopGroup others = new MultiThreadIoEventLoopGroup(1, LocalIoHandler.newFactory());
    private final List<Channel> clients = new CopyOnWriteArrayList<>();
    private final Node node = new Node(SwitchboardConfig.builder().build(), ConnectionAuthorizer.ALLOW_ALL,
            ChannelAuthorizer.ALLOW_ALL);
    private final Broker broker = node.broker();
    /** Flushes counted at the head of each server-side connection, by the client's address. */
    private final Map<SocketAddress, AtomicInteger> flushes = new ConcurrentHashMap<>();
    private final Map<SocketAddress, Channel> serverSide = new ConcurrentHashMap<>();

    @AfterEach
    void shutdown() {
        loops.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
        others.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void flushesEachSubscriberOncePerBatchOfDeliveries() throws Exception {
        LocalAddress address = new LocalAddress("flush-batching");
        Channel server = new ServerBootstrap().group(others, loops).channel(LocalServerChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        AtomicInteger count = new AtomicInteger();
                        flushes.put(ch.remoteAddress(), count);
                        serverSide.put(ch.remoteAddress(), ch);
                        ch.pipeline().addLast(new ChannelOutboundHandlerAdapter() {
                            @Override
                            public void flush(ChannelHandlerContext ctx) {
                                count.incrementAndGet();
                                ctx.flush();
                            }
                        }, new MinichatsSession(node.sessions(), MINICHATS_DECODER, ChannelAuthorizer.ALLOW_ALL, "client", null));
                        ch.eventLoop().execute(() -> ch.pipeline().fireUserEventTriggered(
                                new HandshakeComplete("/api/connect", EmptyHttpHeaders.INSTANCE, null)));
                    }
                }).bind(address).sync().channel();
        try {
            Client a = new Client(address);
            Client b = new Client(address);
            assertTrue(a.next().contains("\"client_name\":\"client\""));
            assertTrue(b.next().contains("\"client_name\":\"client\""));
            EventLoop bLoop = serverSide.get(b.address()).eventLoop();
            assertNotSame(serverSide.get(a.address()).eventLoop(), bLoop, "the two sessions live on different loops");

            a.send(subscribe("c"));
            assertTrue(a.next().startsWith("{\"status\":\"ok\""));
            b.send(subscribe("c"));
            assertTrue(b.next().startsWith("{\"status\":\"ok\""));

            CountDownLatch release = new CountDownLatch(1);
            bLoop.execute(() -> {
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            AtomicInteger bFlushes = flushes.get(b.address());
            int before = bFlushes.get();
            for (int i = 1; i <= 3; i++) {
                a.send(publish("c", Integer.toString(i)));
                assertEquals("{\"status\":\"ok\"}", a.next());
                assertTrue(a.next().endsWith("\"content\":" + i + "}"));
            }
            // All three fan-outs now wait on b's loop, behind the latch.
            release.countDown();
            for (int i = 1; i <= 3; i++) {
                String m = b.next();
                assertTrue(m.endsWith("\"content\":" + i + "}"), m);
            }
            assertEquals(1, bFlushes.get() - before, "three deliveries, one flush");
        } finally {
            for (Channel c : clients) {
                c.close().sync();
            }
            server.close().sync();
        }
    }


    /** A client on the in-VM transport: sends text frames, receives frames and pre-encoded buffers. */
    private final class Client {
        private final BlockingQueue<String> received = new LinkedBlockingQueue<>();
        private final Channel channel;

        Client(LocalAddress address) throws InterruptedException {
            channel = new Bootstrap().group(others).channel(LocalChannel.class)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            try {
                                if (msg instanceof TextWebSocketFrame) {
                                    received.add(((TextWebSocketFrame) msg).text());
                                } else {
                                    // Pre-encoded frames; the transport may hand over several in one buffer.
                                    // The payloads here are short: a 2-byte header each.
                                    ByteBuf frames = (ByteBuf) msg;
                                    while (frames.isReadable()) {
                                        frames.skipBytes(1);
                                        int length = frames.readUnsignedByte();
                                        received.add(frames.readCharSequence(length, StandardCharsets.UTF_8).toString());
                                    }
                                }
                            } finally {
                                ReferenceCountUtil.release(msg);
                            }
                        }
                    }).connect(address).sync().channel();
            clients.add(channel);
        }

        SocketAddress address() {
            return channel.localAddress();
        }

        void send(String json) {
            channel.writeAndFlush(new TextWebSocketFrame(json));
        }

        String next() throws InterruptedException {
            String m = received.poll(10, TimeUnit.SECONDS);
            assertNotNull(m, "no message within 10 s");
            return m;
        }
    }
}
