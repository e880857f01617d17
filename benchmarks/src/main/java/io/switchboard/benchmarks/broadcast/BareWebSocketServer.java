package io.switchboard.benchmarks.broadcast;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import io.switchboard.benchmarks.Bytes;
import io.switchboard.benchmarks.Transports;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The end-to-end floor: a bare Netty WebSocket server speaking just enough of minichats
 * (PROTOCOL.md section 1) for loadgen, so loadgen can measure it beside the node in one run.
 * It does what the node must (the HTTP upgrade with Netty's handshaker, reading text frames, a
 * subscriber list per channel, an {@code ok} per request, one delivery frame per publish written to
 * every subscriber as a retained duplicate, one flush per touched connection per event-loop batch,
 * as a task queued at the loop's first write like the node's {@code LoopTable.flushLater}) and
 * nothing else: requests are found with byte scans that trust loadgen's layout instead of being
 * parsed, nothing is validated or limited, there is no session, no metrics, no backpressure and no
 * rate limit. What the node costs beyond it is the cost of being a server and not a benchmark.
 *
 * <p>Outbound frames are built here, complete, and written from the pipeline's first context, so
 * they skip the WebSocket encoder, as the node's deliveries do. Channels are grouped per event loop
 * like the node's broker: a publish is handed to each other loop as one task, and each loop writes
 * to its own connections only.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar io.switchboard.benchmarks.broadcast.BareWebSocketServer [PORT [IO_THREADS]]
 * </pre>
 */
public final class BareWebSocketServer implements AutoCloseable {

    static {
        // The node's Netty settings (Main.NETTY_DEFAULTS: the recycler off), unless given with -D:
        // both servers run alike. Set before anything below loads Netty's buffers.
        if (System.getProperty("io.netty.recycler.maxCapacityPerThread") == null) {
            System.setProperty("io.netty.recycler.maxCapacityPerThread", "0");
        }
    }

    // Found with Bytes.indexOf, as loadgen finds its keys (a word at a time).
    private static final byte[] ACTION_PUBLISH = key("\"action\":\"publish\"");
    private static final byte[] CHANNEL_KEY = key("\"channel_name\":\"");
    private static final byte[] CONTENT_KEY = key("\"content\":");
    private static final ByteBuf OK = Unpooled.unreleasableBuffer(frame(ascii("{\"status\":\"ok\"}")));

    private final EventLoopGroup group;
    private final Channel listener;
    /** channel name → event loop → that loop's subscribers (each list touched only by its loop). */
    private final Map<String, Map<EventExecutor, List<ChannelHandlerContext>>> channels = new ConcurrentHashMap<>();
    /** Each loop's connections written to since its last flush, and whether its flush task is queued. */
    private final FastThreadLocal<Touched> dirty = new FastThreadLocal<>() {
        @Override
        protected Touched initialValue() {
            return new Touched();
        }
    };

    /** One loop's connections to flush; touched by that loop only. */
    private static final class Touched {
        final List<ChannelHandlerContext> connections = new ArrayList<>();
        boolean flushQueued;
    }

    public BareWebSocketServer(int port, int ioThreads) throws InterruptedException {
        this.group = Transports.newGroup(ioThreads, "floor-io");
        WebSocketServerProtocolConfig ws = WebSocketServerProtocolConfig.newBuilder()
                .websocketPath("/api/connect").checkStartsWith(true).maxFramePayloadLength(1 << 20).build();
        this.listener = new ServerBootstrap().group(group).channel(Transports.serverSocketChannel())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 16),
                                new WebSocketServerProtocolHandler(ws), new Session());
                    }
                })
                .bind("127.0.0.1", port).sync().channel();
    }

    public int port() {
        return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    @Override
    public void close() {
        listener.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    private List<ChannelHandlerContext> subscribers(String channel, EventExecutor loop) {
        return channels.computeIfAbsent(channel, c -> new ConcurrentHashMap<>()).computeIfAbsent(loop, l -> new ArrayList<>());
    }

    /**
     * Writes a complete frame to {@code ctx}'s connection, past every handler, and has it flushed
     * by the loop's flush task, queued at the loop's first write: it runs once the loop has served
     * every read of its batch. Takes ownership of {@code frame}.
     */
    private void write(ChannelHandlerContext ctx, ByteBuf frame) {
        Touched touched = dirty.get();
        Session session = (Session) ctx.handler();
        if (!session.dirty) {
            session.dirty = true;
            touched.connections.add(ctx);
        }
        if (!touched.flushQueued) {
            touched.flushQueued = true;
            ctx.executor().execute(this::flushTouched);
        }
        ctx.pipeline().firstContext().write(frame, ctx.voidPromise());
    }

    /** Flushes every connection this loop wrote to since its last flush. */
    private void flushTouched() {
        Touched touched = dirty.get();
        touched.flushQueued = false;
        List<ChannelHandlerContext> connections = touched.connections;
        for (int i = 0, n = connections.size(); i < n; i++) {
            ChannelHandlerContext ctx = connections.get(i);
            ((Session) ctx.handler()).dirty = false;
            ctx.flush();
        }
        connections.clear();
    }

    /** Writes a retained duplicate of {@code frame} to each of {@code subscribers}. Does not release {@code frame}. */
    private void fanOut(List<ChannelHandlerContext> subscribers, ByteBuf frame) {
        for (int i = 0, n = subscribers.size(); i < n; i++) {
            write(subscribers.get(i), frame.retainedDuplicate());
        }
    }

    private final class Session extends SimpleChannelInboundHandler<TextWebSocketFrame> {
        private final List<String> joined = new ArrayList<>();
        private String name = "";
        boolean dirty;

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
                String uri = ((WebSocketServerProtocolHandler.HandshakeComplete) evt).requestUri();
                List<String> names = new QueryStringDecoder(uri).parameters().get("client_name");
                name = names == null ? "anonymous" : names.get(0);
                write(ctx, frame(ascii("{\"status\":\"ok\",\"info\":{\"client_name\":\"" + name + "\"}}")));
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame msg) {
            ByteBuf request = msg.content();
            String channel = stringAfter(request, CHANNEL_KEY);
            if (Bytes.indexOf(request, ACTION_PUBLISH) < 0) {
                subscribers(channel, ctx.executor()).add(ctx);
                joined.add(channel);
                write(ctx, frame(ascii("{\"status\":\"ok\",\"info\":{\"channel_name\":\"" + channel
                        + "\",\"total_subscribers\":" + total(channel) + "}}")));
                return;
            }
            write(ctx, OK.duplicate());
            ByteBuf delivery = delivery(ctx, request, channel);
            try {
                for (var loop : channels.getOrDefault(channel, Map.of()).entrySet()) {
                    if (loop.getKey() != ctx.executor()) {
                        List<ChannelHandlerContext> others = loop.getValue();
                        ByteBuf frame = delivery.retain();
                        loop.getKey().execute(() -> {
                            try {
                                fanOut(others, frame);
                            } finally {
                                frame.release();
                            }
                        });
                    }
                }
                fanOut(subscribers(channel, ctx.executor()), delivery);
            } finally {
                delivery.release();
            }
        }

        /** The delivery frame of a publish, built once: {@code sender}, {@code channel_name}, {@code sent_at}, then the request's content as sent. */
        private ByteBuf delivery(ChannelHandlerContext ctx, ByteBuf request, String channel) {
            int content = Bytes.indexOf(request, CONTENT_KEY);
            // The content runs to the request's last two bytes ("}}" closing params and the request).
            int from = content + CONTENT_KEY.length;
            int length = request.writerIndex() - 2 - from;
            String head = "{\"sender\":\"" + name + "\",\"channel_name\":\"" + channel + "\",\"sent_at\":\""
                    + Instant.now() + "\",\"content\":";
            ByteBuf payload = ctx.alloc().buffer(head.length() + length + 1);
            payload.writeCharSequence(head, StandardCharsets.UTF_8);
            payload.writeBytes(request, from, length);
            payload.writeByte('}');
            return frame(payload);
        }

        /** The channel's subscribers on every loop; other loops' counts may be a moment old (a benchmark's reply). */
        private int total(String channel) {
            int total = 0;
            for (List<ChannelHandlerContext> loop : channels.get(channel).values()) {
                total += loop.size();
            }
            return total;
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            for (String channel : joined) {
                subscribers(channel, ctx.executor()).remove(ctx);
            }
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /** The string value following {@code key} (which ends with its opening quote), up to the next quote. */
    private static String stringAfter(ByteBuf buf, byte[] key) {
        int from = Bytes.indexOf(buf, key) + key.length;
        int to = buf.indexOf(from, buf.writerIndex(), (byte) '"');
        return buf.toString(from, to - from, StandardCharsets.UTF_8);
    }

    /** A complete unmasked text frame holding {@code payload}, which it releases. */
    private static ByteBuf frame(ByteBuf payload) {
        int n = payload.readableBytes();
        ByteBuf frame = payload.alloc().buffer(n + 4);
        frame.writeByte(0x81);
        if (n < 126) {
            frame.writeByte(n);
        } else if (n < 65536) {
            frame.writeByte(126).writeShort(n);
        } else {
            throw new IllegalArgumentException("a floor frame holds under 64 KiB, not " + n);
        }
        frame.writeBytes(payload);
        payload.release();
        return frame;
    }

    private static byte[] key(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static ByteBuf ascii(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    public static void main(String[] args) throws InterruptedException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 3501;
        int ioThreads = args.length > 1 ? Integer.parseInt(args[1]) : Runtime.getRuntime().availableProcessors();
        BareWebSocketServer server = new BareWebSocketServer(port, ioThreads);
        System.out.println("bare WebSocket floor listening on 127.0.0.1:" + server.port() + " with " + ioThreads + " event loops");
        server.listener.closeFuture().sync();
    }
}
