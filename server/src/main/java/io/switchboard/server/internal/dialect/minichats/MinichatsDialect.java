package io.switchboard.server.internal.dialect.minichats;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.minichats.MinichatsEncoder;
import io.switchboard.server.internal.broker.History;
import io.switchboard.protocol.minichats.MinichatsEncoder.ChannelSummary;
import io.switchboard.server.internal.broker.Broker;
import io.switchboard.server.internal.broker.ChannelEntry;
import io.switchboard.server.internal.broker.ChannelEvent;
import io.switchboard.server.internal.broker.Dialect;
import io.switchboard.server.internal.broker.RosterMember;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The minichats dialect as the broker knows it (PROTOCOL.md section 1): messages only, no presence
 * events; and its subscription variants of section 1a, which render the same events differently.
 *
 * <p>A variant is a {@link Dialect} of its own to the broker, so that it renders each event once
 * for all the subscriptions that asked for the same thing, as it does for each dialect: a
 * subscription with positions is in its loop's group of {@link #POSITIONS}, whose deliveries carry
 * the offset; one with {@code join_leave} in {@link #JOIN_LEAVE}'s (or {@link #POSITIONS_JOIN_LEAVE}'s,
 * with both), which also shows every other member's join and leave, whatever its dialect. A
 * connection always speaks {@link #DIALECT}: the variants never author an event and never travel in
 * a cluster envelope, but their codes are reserved like any dialect's.
 */
public final class MinichatsDialect {

    /** Code 0 on the cluster wire. */
    public static final Dialect DIALECT = new Dialect(0, "minichats", true, MinichatsDialect::render);
    /** Subscriptions with {@code positions} (or {@code recover}): deliveries carry {@code "offset"}. Code 5. */
    public static final Dialect POSITIONS = new Dialect(5, "minichats+positions", true, MinichatsDialect::renderPositions);

    private MinichatsDialect() {
    }

    /** Subscriptions with {@code join_leave}: messages as {@link #DIALECT}, and join and leave events. Code 6. */
    public static final Dialect JOIN_LEAVE = new Dialect(6, "minichats+join_leave", true, MinichatsDialect::renderJoinLeave);
    /** Subscriptions with both: messages as {@link #POSITIONS} (with the offset), and join and leave events. Code 7. */
    public static final Dialect POSITIONS_JOIN_LEAVE = new Dialect(7, "minichats+positions+join_leave", true,
            MinichatsDialect::renderPositionsJoinLeave);

    /** The variant a subscription is rendered as. */
    static Dialect forSubscription(boolean positions, boolean joinLeave) {
        if (joinLeave) {
            return positions ? POSITIONS_JOIN_LEAVE : JOIN_LEAVE;
        }
        return positions ? POSITIONS : DIALECT;
    }

    /** A delivery frame for a message; {@code null} for presence. The caller must release the returned buffer. */
    private static ByteBuf render(ByteBufAllocator alloc, ChannelEntry channel, ChannelEvent e) {
        if (e.kind != ChannelEvent.Kind.MESSAGE) {
            return null;
        }
        return MinichatsEncoder.delivery(alloc, e.quotedName(), channel.quotedName(), e.sentAt, e.content);
    }

    /** {@link #render} with the message's offset in its stream. The caller must release the returned buffer. */
    private static ByteBuf renderPositions(ByteBufAllocator alloc, ChannelEntry channel, ChannelEvent e) {
        if (e.kind != ChannelEvent.Kind.MESSAGE) {
            return null;
        }
        return MinichatsEncoder.delivery(alloc, e.quotedName(), channel.quotedName(), e.sentAt, e.content, e.offset);
    }

    /** The reply to {@code history} (PROTOCOL.md section 1a). The caller must release the returned buffer. */
    static ByteBuf history(ByteBufAllocator alloc, byte[] requestId, String channelName, History.Listing listing,
                           int maxBytes) {
        List<MinichatsEncoder.Publication> publications = new ArrayList<>(listing.publications().size());
        for (History.Kept k : listing.publications()) {
            publications.add(new MinichatsEncoder.Publication() {
                @Override
                public long offset() {
                    return k.offset;
                }

                @Override
                public byte[] quotedSender() {
                    return k.quotedSender;
                }

                @Override
                public long sentAt() {
                    return k.sentAt;
                }

                @Override
                public byte[] content() {
                    return k.content;
                }
            });
        }
        return MinichatsEncoder.history(alloc, requestId, JsonStrings.quote(channelName),
                listing.position().quotedEpoch(), listing.position().offset(), publications, maxBytes);
    }

    /** {@link #render}, and a presence event as a join or leave. The caller must release the returned buffer. */
    private static ByteBuf renderJoinLeave(ByteBufAllocator alloc, ChannelEntry channel, ChannelEvent e) {
        return e.kind == ChannelEvent.Kind.MESSAGE ? render(alloc, channel, e) : joinOrLeave(alloc, channel, e);
    }

    /** {@link #renderPositions}, and a presence event as a join or leave. The caller must release the returned buffer. */
    private static ByteBuf renderPositionsJoinLeave(ByteBufAllocator alloc, ChannelEntry channel, ChannelEvent e) {
        return e.kind == ChannelEvent.Kind.MESSAGE ? renderPositions(alloc, channel, e) : joinOrLeave(alloc, channel, e);
    }

    /**
     * {@code {"event":"join"|"leave",...}} for a member of any dialect (PROTOCOL.md section 1a); a
     * line client's leave that the line chat does not announce is a leave too. The caller must
     * release the returned buffer.
     */
    private static ByteBuf joinOrLeave(ByteBufAllocator alloc, ChannelEntry channel, ChannelEvent e) {
        MinichatsEncoder.PresenceMember member = new MinichatsEncoder.PresenceMember() {
            @Override
            public byte[] quotedId() {
                return e.quotedId();
            }

            @Override
            public byte[] quotedName() {
                return e.quotedName();
            }

            @Override
            public String dialect() {
                return e.dialect.name();
            }
        };
        return MinichatsEncoder.joinLeave(alloc, e.kind == ChannelEvent.Kind.JOINED, channel.quotedName(), member);
    }

    /**
     * The members of a channel as {@code presence} lists them: sorted by name, then id (by the bytes of
     * their UTF-8), so that a reply cut short at the size limit leaves out the same ones each time.
     */
    static List<MinichatsEncoder.PresenceMember> members(List<RosterMember> members) {
        List<RosterMember> sorted = new ArrayList<>(members);
        sorted.sort(Comparator.comparing((RosterMember m) -> m.name().getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned)
                .thenComparing(m -> m.id().getBytes(StandardCharsets.UTF_8), Arrays::compareUnsigned));
        List<MinichatsEncoder.PresenceMember> listed = new ArrayList<>(sorted.size());
        for (RosterMember m : sorted) {
            listed.add(new MinichatsEncoder.PresenceMember() {
                @Override
                public byte[] quotedId() {
                    return m.quotedId();
                }

                @Override
                public byte[] quotedName() {
                    return m.quotedName();
                }

                @Override
                public String dialect() {
                    return m.dialect().name();
                }
            });
        }
        return listed;
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
