package io.switchboard.server.internal.dialect.minichats;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.switchboard.protocol.minichats.MinichatsEncoder;
import io.switchboard.protocol.minichats.MinichatsEncoder.ChannelSummary;
import io.switchboard.server.internal.broker.Broker;
import io.switchboard.server.internal.broker.ChannelEntry;
import io.switchboard.server.internal.broker.ChannelEvent;
import io.switchboard.server.internal.broker.Dialect;

import java.util.ArrayList;
import java.util.List;

/** The minichats dialect as the broker knows it (PROTOCOL.md section 1): messages only, no presence events. */
public final class MinichatsDialect {

    /** Code 0 on the cluster wire. */
    public static final Dialect DIALECT = new Dialect(0, "minichats", true, MinichatsDialect::render);

    private MinichatsDialect() {
    }

    /** A delivery frame for a message; {@code null} for presence. The caller must release the returned buffer. */
    private static ByteBuf render(ByteBufAllocator alloc, ChannelEntry channel, ChannelEvent e) {
        if (e.kind != ChannelEvent.Kind.MESSAGE) {
            return null;
        }
        return MinichatsEncoder.delivery(alloc, e.quotedName(), channel.quotedName(), e.sentAt, e.content);
    }

    /** The broker's listing as {@code list_channels} shows it. */
    static List<ChannelSummary> summaries(List<Broker.Listed> channels) {
        List<ChannelSummary> summaries = new ArrayList<>(channels.size());
        for (Broker.Listed c : channels) {
            summaries.add(new ChannelSummary() {
                @Override
                public byte[] quotedName() {
                    return c.quotedName();
                }

                @Override
                public int totalSubscribers() {
                    return c.totalSubscribers();
                }
            });
        }
        return summaries;
    }
}
