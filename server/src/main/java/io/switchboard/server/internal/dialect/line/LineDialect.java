package io.switchboard.server.internal.dialect.line;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.switchboard.protocol.line.LineMessages;
import io.switchboard.server.internal.broker.ChannelEntry;
import io.switchboard.server.internal.broker.ChannelEvent;
import io.switchboard.server.internal.broker.Dialect;

/**
 * The line dialect as the broker knows it (PROTOCOL.md section 3): {@code name: text} lines, and
 * notices of its own clients; never to the author.
 */
public final class LineDialect {

    /** Code 2 on the cluster wire. */
    public static final Dialect DIALECT = new Dialect(2, "line", false, LineDialect::render);

    private LineDialect() {
    }

    /** The caller must release the returned buffer. */
    private static ByteBuf render(ByteBufAllocator alloc, ChannelEntry channel, ChannelEvent e) {
        switch (e.kind) {
            case MESSAGE:
                return LineMessages.message(alloc, e.senderName, e.text());
            // A line client's name is its address:port, what the seed calls its id; its cluster-wide
            // id is presence's (LineSession).
            case JOINED:
                return e.dialect != DIALECT ? null : LineMessages.encode(alloc, LineMessages.joined(e.senderName));
            case LEFT:
                return e.dialect != DIALECT ? null : LineMessages.encode(alloc, LineMessages.left(e.senderName));
            case LEFT_UNANNOUNCED:
                return null; // SHUTDOWN and a stopping node disconnect line clients without a word
            default:
                throw new IllegalStateException("Unhandled event kind: " + e.kind);
        }
    }
}
