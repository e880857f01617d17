package io.switchboard.protocol.minichats;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.switchboard.protocol.IsoTimestamps;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.WebSocketFrames;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Encodes every server message of the minichats dialect. Names arrive pre-quoted
 * ({@link JsonStrings#quote}) so that a name is escaped once, not once per message.
 *
 * <p>Replies are encoded as a frame payload for the transport to frame; a delivery is encoded as
 * a complete WebSocket frame, header included, because the same bytes go to every subscriber.
 * Every method returns a new buffer that the caller must release (or pass on to a write, which
 * releases it). Stateless and thread-safe.
 */
public final class MinichatsEncoder {

    private static final byte[] DELIVERY_SENDER = ascii("{\"sender\":");
    private static final byte[] DELIVERY_CHANNEL = ascii(",\"channel_name\":");
    private static final byte[] DELIVERY_SENT_AT = ascii(",\"sent_at\":\"");
    private static final byte[] DELIVERY_CONTENT = ascii("\",\"content\":");
    private static final int DELIVERY_FIXED_BYTES = DELIVERY_SENDER.length + DELIVERY_CHANNEL.length
            + DELIVERY_SENT_AT.length + IsoTimestamps.LENGTH + DELIVERY_CONTENT.length + 1;

    private static final byte[] STATUS_OK = ascii("{\"status\":\"ok\"");
    private static final byte[] STATUS_ERROR = ascii("{\"status\":\"error\"");
    private static final byte[] REQUEST_ID = ascii(",\"request_id\":");
    private static final byte[] INFO_CLIENT_NAME = ascii(",\"info\":{\"client_name\":");
    private static final byte[] INFO_CHANNEL_NAME = ascii(",\"info\":{\"channel_name\":");
    private static final byte[] CHANNEL_NAME = ascii("{\"channel_name\":");
    private static final byte[] TOTAL_SUBSCRIBERS = ascii(",\"total_subscribers\":");
    private static final byte[] INFO_CHANNELS = ascii(",\"info\":{\"channels\":[");
    private static final byte[] TRUNCATED = ascii(",\"truncated\":true");
    private static final byte[] INFO_DETAIL = ascii(",\"info\":{\"detail\":");
    private static final byte[] CODE = ascii(",\"code\":\"");
    private static final byte[] OFFSET = ascii(",\"offset\":");
    private static final byte[] EPOCH = ascii(",\"epoch\":");
    private static final byte[] RECOVERED_TRUE = ascii(",\"recovered\":true");
    private static final byte[] RECOVERED_FALSE = ascii(",\"recovered\":false");
    private static final byte[] PUBLICATIONS = ascii(",\"publications\":[");
    private static final byte[] PUBLICATION_OFFSET = ascii("{\"offset\":");
    private static final byte[] PUBLICATION_SENDER = ascii(",\"sender\":");
    private static final byte[] CLIENTS = ascii(",\"clients\":[");
    private static final byte[] CLIENT_ID = ascii("{\"client_id\":");
    private static final byte[] CLIENT_NAME = ascii(",\"client_name\":");
    private static final byte[] DIALECT = ascii(",\"dialect\":\"");
    private static final byte[] EVENT_JOIN = ascii("{\"event\":\"join\",\"channel_name\":");
    private static final byte[] EVENT_LEAVE = ascii("{\"event\":\"leave\",\"channel_name\":");
    private static final byte[] EVENT_CLIENT = ascii(",\"client\":");

    private MinichatsEncoder() {
    }

    /** A channel as {@code list_channels} shows it. */
    public interface ChannelSummary {
        /** The channel's name as a JSON string literal ({@link JsonStrings#quote}). */
        byte[] quotedName();

        int totalSubscribers();
    }

    /** A member of a channel, as {@code presence} lists it and join and leave events show it (PROTOCOL.md section 1a). */
    public interface PresenceMember {
        /** The member's {@code client_id} as a JSON string literal. */
        byte[] quotedId();

        /** The member's {@code client_name} as a JSON string literal. */
        byte[] quotedName();

        /** The member's dialect, {@code minichats}, {@code disposable} or {@code line}: ASCII, no escaping needed. */
        String dialect();
    }

    /** A publication kept in a channel's stream, as {@code history} lists it (PROTOCOL.md section 1a). */
    public interface Publication {
        long offset();

        /** The sender's name as a JSON string literal. */
        byte[] quotedSender();

        long sentAt();

        /** The content, one JSON value, byte for byte as published. */
        byte[] content();
    }

    /**
     * Returns the payload length of the delivery {@link #delivery} would encode, so a caller can
     * refuse an over-size publish before encoding it.
     */
    public static int deliveryPayloadLength(byte[] quotedSender, byte[] quotedChannel, int contentLength) {
        return DELIVERY_FIXED_BYTES + quotedSender.length + quotedChannel.length + contentLength;
    }

    /**
     * Encodes {@code {"sender":S,"channel_name":C,"sent_at":T,"content":X}} as one complete, final,
     * unmasked WebSocket text frame. Does not take ownership of {@code content} (its readable bytes
     * are copied, unchanged). The caller must release the returned buffer.
     */
    public static ByteBuf delivery(ByteBufAllocator alloc, byte[] quotedSender, byte[] quotedChannel,
                                   long sentAtEpochMillis, ByteBuf content) {
        return delivery(alloc, quotedSender, quotedChannel, sentAtEpochMillis, content, -1);
    }

    /**
     * {@link #delivery(ByteBufAllocator, byte[], byte[], long, ByteBuf)} with {@code ,"offset":N} before
     * the closing brace when {@code offset} is not negative: what a subscription with positions gets
     * (PROTOCOL.md section 1a). Does not take ownership of {@code content}. The caller must release the
     * returned buffer.
     */
    public static ByteBuf delivery(ByteBufAllocator alloc, byte[] quotedSender, byte[] quotedChannel,
                                   long sentAtEpochMillis, ByteBuf content, long offset) {
        byte[] offsetDigits = offset < 0 ? null : Long.toString(offset).getBytes(StandardCharsets.US_ASCII);
        int payloadLength = deliveryPayloadLength(quotedSender, quotedChannel, content.readableBytes())
                + (offsetDigits == null ? 0 : OFFSET.length + offsetDigits.length);
        ByteBuf out = alloc.directBuffer(WebSocketFrames.textHeaderLength(payloadLength) + payloadLength);
        boolean release = true;
        try {
            WebSocketFrames.writeTextHeader(out, payloadLength);
            out.writeBytes(DELIVERY_SENDER)
                    .writeBytes(quotedSender)
                    .writeBytes(DELIVERY_CHANNEL)
                    .writeBytes(quotedChannel)
                    .writeBytes(DELIVERY_SENT_AT);
            IsoTimestamps.write(out, sentAtEpochMillis);
            out.writeBytes(DELIVERY_CONTENT)
                    .writeBytes(content, content.readerIndex(), content.readableBytes());
            if (offsetDigits != null) {
                out.writeBytes(OFFSET).writeBytes(offsetDigits);
            }
            out.writeByte('}');
            release = false;
            return out;
        } finally {
            if (release) {
                out.release();
            }
        }
    }

    /** {@code {"status":"ok","info":{"client_name":N}}}, the first frame of a connection. */
    public static ByteBuf connected(ByteBufAllocator alloc, byte[] quotedClientName) {
        ByteBuf out = alloc.buffer(STATUS_OK.length + INFO_CLIENT_NAME.length + quotedClientName.length + 2);
        return out.writeBytes(STATUS_OK).writeBytes(INFO_CLIENT_NAME).writeBytes(quotedClientName)
                .writeByte('}').writeByte('}');
    }

    /** {@code {"status":"ok"}}, with {@code request_id} when not {@code null}. */
    public static ByteBuf ok(ByteBufAllocator alloc, byte[] requestId) {
        ByteBuf out = alloc.buffer(64);
        out.writeBytes(STATUS_OK);
        writeRequestId(out, requestId);
        return out.writeByte('}');
    }

    /** {@code {"status":"ok","info":{"channel_name":C,"total_subscribers":N}}}. */
    public static ByteBuf subscribed(ByteBufAllocator alloc, byte[] requestId, byte[] quotedChannel,
                                     int totalSubscribers) {
        ByteBuf out = alloc.buffer(96 + quotedChannel.length);
        out.writeBytes(STATUS_OK);
        writeRequestId(out, requestId);
        out.writeBytes(INFO_CHANNEL_NAME).writeBytes(quotedChannel).writeBytes(TOTAL_SUBSCRIBERS);
        writeInt(out, totalSubscribers);
        return out.writeByte('}').writeByte('}');
    }

    /**
     * {@code {"status":"ok","info":{"channels":[{"channel_name":C,"total_subscribers":N},...]}}}
     * in the order given, at most {@code maxBytes} long: the channels that do not fit are left out
     * and {@code "truncated":true} follows the list, so a reply never exceeds the message limit.
     */
    public static ByteBuf channels(ByteBufAllocator alloc, byte[] requestId,
                                   List<? extends ChannelSummary> channels, int maxBytes) {
        ByteBuf out = alloc.buffer(Math.min(maxBytes, 64 + channels.size() * 48));
        out.writeBytes(STATUS_OK);
        writeRequestId(out, requestId);
        out.writeBytes(INFO_CHANNELS);
        // Room kept for the end: "],"truncated":true}}".
        int limit = maxBytes - TRUNCATED.length - 3;
        boolean truncated = false;
        for (int i = 0; i < channels.size(); i++) {
            ChannelSummary c = channels.get(i);
            int entryBytes = 1 + CHANNEL_NAME.length + c.quotedName().length + TOTAL_SUBSCRIBERS.length + 11;
            if (out.writerIndex() + entryBytes > limit) {
                truncated = true;
                break;
            }
            if (i > 0) {
                out.writeByte(',');
            }
            out.writeBytes(CHANNEL_NAME).writeBytes(c.quotedName()).writeBytes(TOTAL_SUBSCRIBERS);
            writeInt(out, c.totalSubscribers());
            out.writeByte('}');
        }
        out.writeByte(']');
        if (truncated) {
            out.writeBytes(TRUNCATED);
        }
        return out.writeByte('}').writeByte('}');
    }

    /**
     * {@code {"status":"ok","info":{"channels":["C1","C2",...]}}}, the reply to {@code list}: the
     * names in the order given, at most {@code maxBytes} long like {@link #channels}: the names that
     * do not fit are left out and {@code "truncated":true} follows the list. The names arrive quoted
     * ({@link JsonStrings#quote}). The caller must release the returned buffer.
     */
    public static ByteBuf channelNames(ByteBufAllocator alloc, byte[] requestId, List<byte[]> quotedNames,
                                       int maxBytes) {
        ByteBuf out = alloc.buffer(Math.min(maxBytes, 64 + quotedNames.size() * 24));
        out.writeBytes(STATUS_OK);
        writeRequestId(out, requestId);
        out.writeBytes(INFO_CHANNELS);
        // Room kept for the end: "],"truncated":true}}".
        int limit = maxBytes - TRUNCATED.length - 3;
        boolean truncated = false;
        for (int i = 0; i < quotedNames.size(); i++) {
            byte[] name = quotedNames.get(i);
            if (out.writerIndex() + 1 + name.length > limit) {
                truncated = true;
                break;
            }
            if (i > 0) {
                out.writeByte(',');
            }
            out.writeBytes(name);
        }
        out.writeByte(']');
        if (truncated) {
            out.writeBytes(TRUNCATED);
        }
        return out.writeByte('}').writeByte('}');
    }

    /**
     * The reply to {@code presence} (PROTOCOL.md section 1a):
     * {@code {"status":"ok","info":{"channel_name":C,"clients":[{"client_id":I,"client_name":N,"dialect":D},...]}}}
     * in the order given, at most {@code maxBytes} long like {@link #channels}: the members that do not
     * fit are left out and {@code "truncated":true} follows the list. The caller must release the
     * returned buffer.
     */
    public static ByteBuf presence(ByteBufAllocator alloc, byte[] requestId, byte[] quotedChannel,
                                   List<? extends PresenceMember> members, int maxBytes) {
        ByteBuf out = alloc.buffer(Math.min(maxBytes, 96 + quotedChannel.length + members.size() * 96));
        out.writeBytes(STATUS_OK);
        writeRequestId(out, requestId);
        out.writeBytes(INFO_CHANNEL_NAME).writeBytes(quotedChannel).writeBytes(CLIENTS);
        // Room kept for the end: "],"truncated":true}}".
        int limit = maxBytes - TRUNCATED.length - 3;
        boolean truncated = false;
        for (int i = 0; i < members.size(); i++) {
            PresenceMember m = members.get(i);
            if (out.writerIndex() + 1 + memberLength(m) > limit) {
                truncated = true;
                break;
            }
            if (i > 0) {
                out.writeByte(',');
            }
            writeMember(out, m);
        }
        out.writeByte(']');
        if (truncated) {
            out.writeBytes(TRUNCATED);
        }
        return out.writeByte('}').writeByte('}');
    }

    /**
     * Encodes {@code {"event":"join"|"leave","channel_name":C,"client":{"client_id":I,"client_name":N,"dialect":D}}}
     * (PROTOCOL.md section 1a: what a {@code join_leave} subscription gets when another member joins or
     * leaves) as one complete, final, unmasked WebSocket text frame, like {@link #delivery}. The caller
     * must release the returned buffer.
     */
    public static ByteBuf joinLeave(ByteBufAllocator alloc, boolean join, byte[] quotedChannel, PresenceMember member) {
        byte[] start = join ? EVENT_JOIN : EVENT_LEAVE;
        int payloadLength = start.length + quotedChannel.length + EVENT_CLIENT.length + memberLength(member) + 1;
        ByteBuf out = alloc.directBuffer(WebSocketFrames.textHeaderLength(payloadLength) + payloadLength);
        WebSocketFrames.writeTextHeader(out, payloadLength);
        out.writeBytes(start).writeBytes(quotedChannel).writeBytes(EVENT_CLIENT);
        writeMember(out, member);
        return out.writeByte('}');
    }

    private static int memberLength(PresenceMember m) {
        return CLIENT_ID.length + m.quotedId().length + CLIENT_NAME.length + m.quotedName().length + DIALECT.length
                + m.dialect().length() + 2;
    }

    private static void writeMember(ByteBuf out, PresenceMember m) {
        out.writeBytes(CLIENT_ID).writeBytes(m.quotedId()).writeBytes(CLIENT_NAME).writeBytes(m.quotedName())
                .writeBytes(DIALECT).writeCharSequence(m.dialect(), StandardCharsets.US_ASCII);
        out.writeByte('"').writeByte('}');
    }

    /**
     * The ok of a subscribe with positions (PROTOCOL.md section 1a):
     * {@code {"status":"ok","info":{"channel_name":C,"total_subscribers":N,"offset":O,"epoch":E}}}, and
     * {@code "recovered":true|false} after the epoch when {@code recovered} is not {@code null} (a
     * {@code recover}). The epoch arrives quoted. The caller must release the returned buffer.
     */
    public static ByteBuf subscribed(ByteBufAllocator alloc, byte[] requestId, byte[] quotedChannel,
                                     int totalSubscribers, long offset, byte[] quotedEpoch, Boolean recovered) {
        ByteBuf out = alloc.buffer(160 + quotedChannel.length + quotedEpoch.length);
        out.writeBytes(STATUS_OK);
        writeRequestId(out, requestId);
        out.writeBytes(INFO_CHANNEL_NAME).writeBytes(quotedChannel).writeBytes(TOTAL_SUBSCRIBERS);
        writeInt(out, totalSubscribers);
        out.writeBytes(OFFSET);
        writeLong(out, offset);
        out.writeBytes(EPOCH).writeBytes(quotedEpoch);
        if (recovered != null) {
            out.writeBytes(recovered ? RECOVERED_TRUE : RECOVERED_FALSE);
        }
        return out.writeByte('}').writeByte('}');
    }

    /**
     * The reply to {@code history} (PROTOCOL.md section 1a):
     * {@code {"status":"ok","info":{"channel_name":C,"epoch":E,"offset":O,"publications":[...]}}}, each
     * publication {@code {"offset":N,"sender":S,"sent_at":T,"content":X}}, in the order given (oldest
     * first), at most {@code maxBytes} long: the publications that do not fit are left out from the end
     * and {@code "truncated":true} follows the list (the client asks again with {@code since} the last
     * one it got). The caller must release the returned buffer.
     */
    public static ByteBuf history(ByteBufAllocator alloc, byte[] requestId, byte[] quotedChannel, byte[] quotedEpoch,
                                  long offset, List<? extends Publication> publications, int maxBytes) {
        ByteBuf out = alloc.buffer(Math.min(maxBytes, 160 + quotedChannel.length + publications.size() * 128));
        out.writeBytes(STATUS_OK);
        writeRequestId(out, requestId);
        out.writeBytes(INFO_CHANNEL_NAME).writeBytes(quotedChannel).writeBytes(EPOCH).writeBytes(quotedEpoch)
                .writeBytes(OFFSET);
        writeLong(out, offset);
        out.writeBytes(PUBLICATIONS);
        // Room kept for the end: "],"truncated":true}}".
        int limit = maxBytes - TRUNCATED.length - 3;
        boolean truncated = false;
        for (int i = 0; i < publications.size(); i++) {
            Publication p = publications.get(i);
            int entryBytes = 1 + PUBLICATION_OFFSET.length + 20 + PUBLICATION_SENDER.length + p.quotedSender().length
                    + DELIVERY_SENT_AT.length + IsoTimestamps.LENGTH + DELIVERY_CONTENT.length + p.content().length + 1;
            if (out.writerIndex() + entryBytes > limit) {
                truncated = true;
                break;
            }
            if (i > 0) {
                out.writeByte(',');
            }
            out.writeBytes(PUBLICATION_OFFSET);
            writeLong(out, p.offset());
            out.writeBytes(PUBLICATION_SENDER).writeBytes(p.quotedSender()).writeBytes(DELIVERY_SENT_AT);
            IsoTimestamps.write(out, p.sentAt());
            out.writeBytes(DELIVERY_CONTENT).writeBytes(p.content()).writeByte('}');
        }
        out.writeByte(']');
        if (truncated) {
            out.writeBytes(TRUNCATED);
        }
        return out.writeByte('}').writeByte('}');
    }

    /** {@code {"status":"error","info":{"detail":D,"code":C}}}, with {@code request_id} when known. */
    public static ByteBuf error(ByteBufAllocator alloc, byte[] requestId, ErrorCode code, String detail) {
        byte[] quotedDetail = JsonStrings.quote(detail);
        ByteBuf out = alloc.buffer(96 + quotedDetail.length);
        out.writeBytes(STATUS_ERROR);
        writeRequestId(out, requestId);
        out.writeBytes(INFO_DETAIL).writeBytes(quotedDetail).writeBytes(CODE)
                .writeCharSequence(code.wireName(), StandardCharsets.US_ASCII);
        return out.writeByte('"').writeByte('}').writeByte('}');
    }

    /** {@link #error(ByteBufAllocator, byte[], ErrorCode, String)} for a refused request. */
    public static ByteBuf error(ByteBufAllocator alloc, MinichatsException e) {
        return error(alloc, e.requestId(), e.code(), e.detail());
    }

    private static void writeRequestId(ByteBuf out, byte[] requestId) {
        if (requestId != null) {
            out.writeBytes(REQUEST_ID).writeBytes(requestId);
        }
    }

    private static void writeInt(ByteBuf out, int value) {
        out.writeCharSequence(Integer.toString(value), StandardCharsets.US_ASCII);
    }

    private static void writeLong(ByteBuf out, long value) {
        out.writeCharSequence(Long.toString(value), StandardCharsets.US_ASCII);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
