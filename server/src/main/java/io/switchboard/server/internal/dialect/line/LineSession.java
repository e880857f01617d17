package io.switchboard.server.internal.dialect.line;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.util.ReferenceCountUtil;
import io.switchboard.protocol.line.LineMessages;
import io.switchboard.server.internal.session.SessionContext;
import io.switchboard.server.internal.broker.ChannelEvent;
import io.switchboard.server.internal.broker.Dialect;
import io.switchboard.server.internal.broker.RosterMember;
import io.switchboard.server.internal.broker.Subscription;
import io.switchboard.server.internal.metrics.Metrics;
import io.switchboard.server.internal.session.RateLimiter;
import io.switchboard.server.internal.session.Session;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * One line client (PROTOCOL.md section 3): a member of the line channel, {@code LINE_CHANNEL} of
 * the shared namespace, from connect to disconnect. Each line it sends is a message to the
 * channel; others' messages reach it as {@code name: text} lines, never its own.
 *
 * <p>Reads lines of UTF-8, invalid sequences replaced; blank lines are ignored. Each error line it
 * is sent is counted by reason ({@link Metrics.LineError}), a client refused because the chat is
 * full in {@code refused_total{reason="line_full"}}. One instance per
 * connection; it lives on the connection's event loop and is not thread-safe.
 */
public final class LineSession extends Session {

    private static final Logger logger = LoggerFactory.getLogger(LineSession.class);

    private final LineChat chat;
    private final String channelName;
    private final RateLimiter rateLimiter;
    private String id;
    /** This client in its channel's presence: named by its id, with an id unique in the cluster. */
    private RosterMember self;
    private boolean admitted;
    /** Set when the chat is shut down for this client: its leave is part of the shutdown, not announced. */
    private boolean shutDown;
    private Subscription subscription;

    public LineSession(SessionContext context, LineChat chat) {
        super(context, LineDialect.DIALECT);
        this.chat = chat;
        this.channelName = config.lineChannel();
        this.rateLimiter = new RateLimiter(config.maxMessagesPerSecond(), System.nanoTime());
    }

    @Override
    public String label() {
        return id;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        SocketAddress remote = ctx.channel().remoteAddress();
        id = remote instanceof InetSocketAddress inet ? inet.getAddress().getHostAddress() + ":" + inet.getPort()
                : String.valueOf(remote);
        int clients = chat.join(ctx.channel());
        if (clients == 0) {
            metrics.refuse(Metrics.Refusal.LINE_FULL);
            logger.debug("{} refused: the line chat is full", id);
            ctx.writeAndFlush(LineMessages.encode(ctx.alloc(), LineMessages.full(chat.maxClients())))
                    .addListener(ChannelFutureListener.CLOSE);
            return;
        }
        admitted = true;
        logger.debug("{} joined the line chat", id);
        subscription = broker.subscribe(connection, channelName).subscription();
        ctx.write(LineMessages.encode(ctx.alloc(), LineMessages.welcome(id, clients)));
        self = RosterMember.of(presenceId(id, broker.cluster().nodeName()), id, LineDialect.DIALECT);
        broker.join(subscription, self);
        ctx.flush();
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf line = (ByteBuf) msg;
        try {
            if (subscription == null || connection.closing) {
                return;
            }
            metrics.messagesIn.increment();
            String text = new String(ByteBufUtil.getBytes(line), StandardCharsets.UTF_8); // replaces invalid UTF-8
            if (text.isBlank()) {
                return;
            }
            if (!rateLimiter.tryAcquire(System.nanoTime())) {
                if (rateLimiter.isAbusive()) {
                    metrics.close(Metrics.Close.RATE_LIMIT);
                    say(ctx, "Too many lines: closing the connection\n");
                    connection.closing = true;
                    ctx.flush();
                    ctx.close();
                } else {
                    metrics.lineError(Metrics.LineError.RATE_LIMITED);
                    say(ctx, "Too many lines: at most " + config.maxMessagesPerSecond() + " per second\n");
                }
                return;
            }
            if (text.strip().equals(LineMessages.SHUTDOWN_COMMAND)) {
                shutdownCommand(ctx);
                return;
            }
            ChannelEvent message = ChannelEvent.text(LineDialect.DIALECT, id, id, text, connection);
            broker.publish(connection.loop, subscription.entry(), message);
            broker.forward(channelName, message);
        } finally {
            ReferenceCountUtil.release(line);
        }
    }

    private void shutdownCommand(ChannelHandlerContext ctx) {
        if (!config.lineAllowShutdown()) {
            metrics.lineError(Metrics.LineError.SHUTDOWN_REFUSED);
            say(ctx, LineMessages.shutdownRefused());
            return;
        }
        logger.warn("The line chat has been shut down by {}: every line client of this node is disconnected", id);
        chat.shutdown();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ctx.flush();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            // The decoder drops the rest of the line; the connection goes on.
            metrics.lineError(Metrics.LineError.TOO_LONG);
            say(ctx, LineMessages.tooLong());
            ctx.flush();
        } else {
            ctx.fireExceptionCaught(cause);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (admitted) {
            chat.leave();
            if (subscription != null) {
                // A shut-down client leaves presence too, but the line chat does not announce it.
                broker.leave(subscription, self, shutDown ? ChannelEvent.Kind.LEFT_UNANNOUNCED : ChannelEvent.Kind.LEFT);
                subscription = null;
            }
            logger.debug("{} left the line chat", id);
        }
        super.channelInactive(ctx);
    }

    /**
     * A line client's id in presence (PROTOCOL.md section 1a): its {@code address:port}, which is unique
     * on its node, and in a cluster {@code @} and the node's name, since clients of two nodes may share
     * an {@code address:port}.
     */
    static String presenceId(String id, String nodeName) {
        return nodeName == null ? id : id + "@" + nodeName;
    }

    @Override
    public void closeSlowConsumer() {
        ctx.close();
    }

    @Override
    public void goAway() {
        shutDown();
    }

    /** Says the chat is shut down and disconnects. From the event loop. */
    void shutDown() {
        if (connection.closing) {
            return;
        }
        connection.closing = true;
        shutDown = true;
        LineChat.sayShutdownAndClose(ctx.channel());
    }

    private static void say(ChannelHandlerContext ctx, String text) {
        ctx.write(LineMessages.encode(ctx.alloc(), text), ctx.voidPromise());
    }
}
