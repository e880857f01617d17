package io.switchboard.server.internal;

import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.util.regex.Pattern;

/**
 * The last handler of every pipeline, and the only one that logs unexpected exceptions. What a
 * peer causes (resets, broken pipes, protocol violations already answered with a close frame) is
 * logged at DEBUG. It closes nothing: the handler that saw the problem has already answered it.
 */
@Sharable
final class ExceptionLogger extends ChannelInboundHandlerAdapter {

    static final ExceptionLogger INSTANCE = new ExceptionLogger();

    private static final Logger logger = LoggerFactory.getLogger(ExceptionLogger.class);
    private static final Pattern EXPECTED_MESSAGE = Pattern.compile(
            ".*(?:connection.*(?:reset|closed|abort|broken)|broken.*pipe).*", Pattern.CASE_INSENSITIVE);

    private ExceptionLogger() {
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (isExpected(cause)) {
            logger.debug("{} closed by its peer or a protocol violation: {}", ctx.channel(), cause.toString());
        } else {
            logger.warn("{} unexpected exception:", ctx.channel(), cause);
        }
    }

    /** Whether {@code cause} is what a misbehaving or departing peer causes, not a bug. */
    static boolean isExpected(Throwable cause) {
        if (cause instanceof ClosedChannelException || cause instanceof CorruptedWebSocketFrameException
                || cause instanceof PrematureChannelClosureException) { // gone in the middle of a fragmented message
            return true;
        }
        if (cause instanceof IOException) {
            String message = cause.getMessage();
            return message != null && EXPECTED_MESSAGE.matcher(message).matches();
        }
        return false;
    }
}
