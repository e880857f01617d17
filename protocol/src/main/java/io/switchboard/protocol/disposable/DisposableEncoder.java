package io.switchboard.protocol.disposable;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.WebSocketFrames;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Encodes the server frames of the disposable dialect, field for field as the seed's server
 * writes them. Names, ids and texts arrive pre-quoted ({@link JsonStrings#quote}).
 *
 * <p>{@code chat} and {@code info} go to a whole room, so they are encoded as complete WebSocket
 * frames, header included, whose bytes serve every member; {@code welcome} and {@code error} are
 * payloads for the transport to frame. Every method returns a new buffer that the caller must
 * release (or pass on to a write, which releases it). Stateless and thread-safe.
 */
public final class DisposableEncoder {

    private static final byte[] WELCOME = ascii("{\"type\":\"welcome\",\"data\":{\"room\":{\"name\":");
    private static final byte[] ACTIVE_CLIENTS = ascii(",\"activeClients\":[");
    private static final byte[] INFO = ascii("{\"type\":\"info\",\"data\":{\"room\":{\"name\":");
    private static final byte[] CHAT = ascii("{\"type\":\"chat\",\"data\":{\"room\":{\"name\":");
    private static final byte[] CLIENT_ID = ascii("},\"client\":{\"id\":");
    private static final byte[] ID = ascii("{\"id\":");
    private static final byte[] NAME = ascii(",\"name\":");
    private static final byte[] REGISTERED = ascii("},\"action\":\"registered\"}}");
    private static final byte[] UNREGISTERED = ascii("},\"action\":\"unregistered\"}}");
    private static final byte[] TEXT = ascii("},\"text\":");
    private static final byte[] ERROR = ascii("{\"type\":\"error\",\"data\":{\"text\":");

    private DisposableEncoder() {
    }

    /** A member of a room as {@code welcome} lists it. */
    public interface Member {
        /** The member's id as a JSON string literal. */
        byte[] quotedId();

        /** The member's name as a JSON string literal. */
        byte[] quotedName();
    }

    /** {@code {"type":"welcome","data":{"room":{"name":R,"activeClients":[{"id":I,"name":N},...]}}}}. */
    public static ByteBuf welcome(ByteBufAllocator alloc, byte[] quotedRoom, List<? extends Member> members) {
        ByteBuf out = alloc.buffer(64 + quotedRoom.length + members.size() * 64);
        out.writeBytes(WELCOME).writeBytes(quotedRoom).writeBytes(ACTIVE_CLIENTS);
        for (int i = 0; i < members.size(); i++) {
            if (i > 0) {
                out.writeByte(',');
            }
            Member m = members.get(i);
            out.writeBytes(ID).writeBytes(m.quotedId()).writeBytes(NAME).writeBytes(m.quotedName()).writeByte('}');
        }
        return out.writeByte(']').writeByte('}').writeByte('}').writeByte('}');
    }

    /**
     * {@code {"type":"info","data":{"room":{"name":R},"client":{"id":I,"name":N},"action":"registered"}}}
     * ({@code "unregistered"} when {@code registered} is false), as one complete, unmasked
     * WebSocket text frame.
     */
    public static ByteBuf info(ByteBufAllocator alloc, byte[] quotedRoom, byte[] quotedId, byte[] quotedName,
                               boolean registered) {
        byte[] action = registered ? REGISTERED : UNREGISTERED;
        int length = INFO.length + quotedRoom.length + CLIENT_ID.length + quotedId.length + NAME.length
                + quotedName.length + action.length;
        ByteBuf out = alloc.directBuffer(WebSocketFrames.textHeaderLength(length) + length);
        WebSocketFrames.writeTextHeader(out, length);
        return out.writeBytes(INFO).writeBytes(quotedRoom).writeBytes(CLIENT_ID).writeBytes(quotedId)
                .writeBytes(NAME).writeBytes(quotedName).writeBytes(action);
    }

    /**
     * {@code {"type":"chat","data":{"room":{"name":R},"client":{"id":I,"name":N},"text":T}}} as one
     * complete, unmasked WebSocket text frame.
     */
    public static ByteBuf chat(ByteBufAllocator alloc, byte[] quotedRoom, byte[] quotedId, byte[] quotedName,
                               byte[] quotedText) {
        int length = CHAT.length + quotedRoom.length + CLIENT_ID.length + quotedId.length + NAME.length
                + quotedName.length + TEXT.length + quotedText.length + 2;
        ByteBuf out = alloc.directBuffer(WebSocketFrames.textHeaderLength(length) + length);
        WebSocketFrames.writeTextHeader(out, length);
        return out.writeBytes(CHAT).writeBytes(quotedRoom).writeBytes(CLIENT_ID).writeBytes(quotedId)
                .writeBytes(NAME).writeBytes(quotedName).writeBytes(TEXT).writeBytes(quotedText)
                .writeByte('}').writeByte('}');
    }

    /** {@code {"type":"error","data":{"text":T}}}. */
    public static ByteBuf error(ByteBufAllocator alloc, String text) {
        byte[] quoted = JsonStrings.quote(text);
        ByteBuf out = alloc.buffer(ERROR.length + quoted.length + 2);
        return out.writeBytes(ERROR).writeBytes(quoted).writeByte('}').writeByte('}');
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
