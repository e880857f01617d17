package io.switchboard.server.internal.session;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.switchboard.server.PipelineNames;
import io.switchboard.server.SlowConsumerPolicy;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.broker.Broker;
import io.switchboard.server.internal.broker.Connection;
import io.switchboard.server.internal.broker.Dialect;
import io.switchboard.server.internal.metrics.Metrics;
import io.switchboard.server.internal.transport.Backpressure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * What every dialect's session shares: the connection's place in the {@link Broker} and what
 * happens to it as a slow consumer. A subclass says how it says goodbye.
 *
 * <p>One instance per connection; it lives on the connection's event loop and is not thread-safe.
 */
public abstract class Session extends ChannelInboundHandlerAdapter {

    private static final Logger logger = LoggerFactory.getLogger(Session.class);

    public final SwitchboardConfig config;
    public final Metrics metrics;
    public final Broker broker;
    private final Dialect dialect;
    public ChannelHandlerContext ctx;
    public Connection connection;
    /** The connection's outbound bound and the owner of its auto-read. */
    public Backpressure backpressure;
    /** Closes a slow consumer still over its soft limit when it fires (close policy). */
    private ScheduledFuture<?> slowConsumerTimer;

    public Session(SessionContext context, Dialect dialect) {
        this.config = context.config();
        this.metrics = context.metrics();
        this.broker = context.broker();
        this.dialect = dialect;
    }

    /** What happens to this connection when it does not keep up: the node's policy, unless the dialect says otherwise. */
    public SlowConsumerPolicy slowConsumerPolicy() {
        return config.slowConsumerPolicy();
    }

    /** Who the client is, for logs. */
    public abstract String label();

    /** Tells a slow consumer it is closed, if the dialect can, and closes it. */
    public abstract void closeSlowConsumer();

    /** Closes the session because the server stops. Must be called from the connection's event loop. */
    public abstract void goAway();

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        backpressure = ctx.pipeline().get(Backpressure.class);
        if (backpressure == null) {
            // A pipeline built by hand (a test's): bound it right in front of the session.
            backpressure = new Backpressure(config.outboundSoftLimitBytes(), config.outboundHardLimitBytes(), metrics);
            ctx.pipeline().addBefore(ctx.name(), PipelineNames.BACKPRESSURE, backpressure);
        }
        backpressure.onHardLimit(
                () -> closeSlowConsumer("over the hard limit of " + config.outboundHardLimitBytes() + " bytes"));
        connection = broker.connect(backpressure, dialect, slowConsumerPolicy());
        if (config.corkFrames()) {
            connection.corksFrames(); // CORK_FRAMES: one write per flush (issue 17)
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (slowConsumerPolicy() == SlowConsumerPolicy.CLOSE) {
            if (!ctx.channel().isWritable()) {
                if (slowConsumerTimer == null) {
                    slowConsumerTimer = ctx.executor().schedule(() -> {
                        slowConsumerTimer = null;
                        if (!ctx.channel().isWritable()) {
                            closeSlowConsumer("over the soft limit for " + config.outboundSoftLimitTime());
                        }
                    }, config.outboundSoftLimitTime().toNanos(), TimeUnit.NANOSECONDS);
                }
            } else if (slowConsumerTimer != null) {
                slowConsumerTimer.cancel(false);
                slowConsumerTimer = null;
            }
        }
        ctx.fireChannelWritabilityChanged();
    }

    /** Ends a subscriber that does not keep up, without waiting for the backlog in front of its goodbye. */
    private void closeSlowConsumer(String why) {
        if (connection.closing) {
            return;
        }
        logger.info("{} {} closed as a slow consumer: {}", ctx.channel(), label(), why);
        metrics.close(Metrics.Close.SLOW_CONSUMER);
        connection.closing = true;
        closeSlowConsumer();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (slowConsumerTimer != null) {
            slowConsumerTimer.cancel(false);
        }
        if (connection.dropped > 0) {
            logger.debug("{} {} missed {} deliveries as a slow consumer", ctx.channel(), label(), connection.dropped);
        }
        ctx.fireChannelInactive();
    }
}
