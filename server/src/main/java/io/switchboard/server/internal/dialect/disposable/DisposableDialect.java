package io.switchboard.server.internal.dialect.disposable;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.switchboard.protocol.disposable.DisposableEncoder;
import io.switchboard.server.internal.broker.ChannelEntry;
import io.switchboard.server.internal.broker.ChannelEvent;
import io.switchboard.server.internal.broker.Dialect;

/**
 * The disposable dialect as the broker knows it (PROTOCOL.md section 2): {@code chat} for messages,
 * {@code info} for its own members' comings and goings; other dialects' members come and go unseen,
 * as in the seed, where every member is a disposable one (docs/dialects.md, "Presence").
 */
public final class DisposableDialect {

    /** Code 1 on the cluster wire. */
    public static final Dialect DIALECT = new Dialect(1, "disposable", true, DisposableDialect::render);

    private DisposableDialect() {
    }

    /** The caller must release the returned buffer. */
    private static ByteBuf render(ByteBufAllocator alloc, ChannelEntry channel, ChannelEvent e) {
        switch (e.kind) {
            case MESSAGE:
                return DisposableEncoder.chat(alloc, channel.quotedName(), e.quotedId(), e.quotedName(), e.quotedText());
            case JOINED:
            case LEFT:
                return e.dialect != DIALECT ? null : DisposableEncoder.info(alloc, channel.quotedName(),
                        e.quotedId(), e.quotedName(), e.kind == ChannelEvent.Kind.JOINED);
            case LEFT_UNANNOUNCED:
                return null; // only line clients leave unannounced
            default:
                throw new IllegalStateException("Unhandled event kind: " + e.kind);
        }
    }
}
