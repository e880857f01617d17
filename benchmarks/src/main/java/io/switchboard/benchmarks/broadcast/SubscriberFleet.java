package io.switchboard.benchmarks.broadcast;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.switchboard.benchmarks.Frames;
import io.switchboard.benchmarks.Transports;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The subscribers of the broadcast benchmark, in a process of their own so that 10,000 of them and
 * the server's 10,000 sockets each stay under the per-process open-file limit.
 *
 * <p>Opens N connections (WebSocket and subscribed to the channel, or raw TCP for the bare-Netty
 * floor), reports READY on the control connection, reads from it the number of bytes one fan-out
 * delivers to all of them, and then writes one byte back each time that many bytes have arrived:
 * "the last subscriber has received the frame". Exits when the control connection closes.
 *
 * <p>{@code java -cp benchmarks.jar io.switchboard.benchmarks.broadcast.SubscriberFleet
 * HOST PORT CONTROL_PORT CONNECTIONS websocket|raw CHANNEL}
 */
public final class SubscriberFleet {

    private final String host;
    private final int port;
    private final boolean websocket;
    private final byte[] upgrade;
    private final byte[] subscribe;
    private final AtomicInteger ready = new AtomicInteger();
    private final AtomicLong received = new AtomicLong();
    private volatile long roundBytes = Long.MAX_VALUE;
    private volatile Channel control;

    private SubscriberFleet(String host, int port, boolean websocket, String channel) {
        this.host = host;
        this.port = port;
        this.websocket = websocket;
        this.upgrade = Frames.upgradeRequest(host, port, "/api/connect?client_name=sub");
        this.subscribe = Frames.maskedText("{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"" + channel + "\"}}");
    }

    public static void main(String[] args) throws Exception {
        String host = args[0];
        int port = Integer.parseInt(args[1]);
        int controlPort = Integer.parseInt(args[2]);
        int connections = Integer.parseInt(args[3]);
        boolean websocket = "websocket".equals(args[4]);
        new SubscriberFleet(host, port, websocket, args[5]).run(controlPort, connections);
    }

    private void run(int controlPort, int connections) throws Exception {
        EventLoopGroup group = Transports.newGroup(2, "fleet");
        Semaphore inFlight = new Semaphore(256);
        Bootstrap b = new Bootstrap().group(group).channel(Transports.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 30_000);
        for (int i = 0; i < connections; i++) {
            if (!inFlight.tryAcquire(60, TimeUnit.SECONDS)) {
                fail("connections stopped completing at " + ready.get() + " of " + connections);
            }
            b.handler(new Subscriber(inFlight)).connect(host, port).addListener(f -> {
                if (!f.isSuccess()) {
                    fail("connect failed: " + f.cause());
                }
            });
        }
        if (!inFlight.tryAcquire(256, 120, TimeUnit.SECONDS) || ready.get() != connections) {
            fail("only " + ready.get() + " of " + connections + " subscribers got ready");
        }
        control = new Bootstrap().group(group).channel(Transports.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new Control()).connect("127.0.0.1", controlPort).sync().channel();
        control.writeAndFlush(Unpooled.copiedBuffer("READY\n", StandardCharsets.US_ASCII));
        control.closeFuture().sync();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        System.exit(0);
    }

    private void count(int bytes) {
        long after = received.addAndGet(bytes);
        long round = roundBytes;
        long completed = after / round - (after - bytes) / round;
        if (completed > 0) {
            control.writeAndFlush(Unpooled.wrappedBuffer(new byte[(int) completed]));
        }
    }

    private static void fail(String message) {
        System.err.println("fleet: " + message);
        System.exit(1);
    }

    /** Reads the fan-out size (8 bytes), then only watches for the benchmark closing it. */
    private final class Control extends ChannelInboundHandlerAdapter {
        private final ByteBuf header = Unpooled.buffer(8);

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            try {
                header.writeBytes(in, Math.min(in.readableBytes(), header.writableBytes()));
                if (!header.isWritable()) {
                    roundBytes = header.getLong(0);
                }
            } finally {
                in.release();
            }
        }
    }

    /** One subscriber: handshake, subscribe, skip the two setup replies, then count bytes. */
    private final class Subscriber extends ChannelInboundHandlerAdapter {
        private final Semaphore inFlight;
        private ByteBuf setup;
        private boolean upgraded;
        private int framesToSkip = 2; // the connection confirmation and the subscribe reply
        private boolean counting;

        Subscriber(Semaphore inFlight) {
            this.inFlight = inFlight;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (websocket) {
                setup = ctx.alloc().heapBuffer(512);
                ctx.writeAndFlush(Unpooled.wrappedBuffer(upgrade));
            } else {
                becomeReady();
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            try {
                if (counting) {
                    count(in.readableBytes());
                    return;
                }
                setup.writeBytes(in);
                if (!upgraded) {
                    int end = ByteBufUtil.indexOf(Unpooled.wrappedBuffer(new byte[] {'\r', '\n', '\r', '\n'}), setup);
                    if (end < 0) {
                        return;
                    }
                    String head = setup.toString(0, end, StandardCharsets.US_ASCII);
                    if (!head.startsWith("HTTP/1.1 101")) {
                        fail("upgrade refused: " + head);
                    }
                    setup.readerIndex(end + 4);
                    upgraded = true;
                    ctx.writeAndFlush(Unpooled.wrappedBuffer(subscribe));
                }
                while (framesToSkip > 0 && skipFrame(setup)) {
                    framesToSkip--;
                }
                if (framesToSkip == 0) {
                    int rest = setup.readableBytes();
                    setup.release();
                    setup = null;
                    becomeReady();
                    if (rest > 0) {
                        count(rest);
                    }
                }
            } finally {
                in.release();
            }
        }

        private void becomeReady() {
            counting = true;
            ready.incrementAndGet();
            inFlight.release();
        }

        /** Skips one complete server frame if the buffer holds it. */
        private boolean skipFrame(ByteBuf buf) {
            if (buf.readableBytes() < 2) {
                return false;
            }
            int i = buf.readerIndex();
            int len = buf.getUnsignedByte(i + 1) & 0x7F;
            int header = 2;
            if (len == 126) {
                if (buf.readableBytes() < 4) {
                    return false;
                }
                len = buf.getUnsignedShort(i + 2);
                header = 4;
            } else if (len == 127) {
                fail("unexpectedly large setup frame");
            }
            if (buf.readableBytes() < header + len) {
                return false;
            }
            buf.skipBytes(header + len);
            return true;
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (setup != null) {
                setup.release();
            }
            if (control != null && control.isActive()) {
                fail("a subscriber's connection closed during the run");
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail("subscriber error: " + cause);
        }
    }
}
