package io.switchboard.protocol.randomchat;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * Encodes the randomchat server frames with jackson's streaming generator, field for field in the
 * seed's order: {@code state}, {@code message}, {@code new_member}, {@code chat_deleted},
 * {@code member_removed}, and {@code error}. Dates are ISO-8601 UTC with milliseconds
 * ({@code 2026-11-22T01:32:03.123Z}).
 *
 * <p>Every method returns a new buffer holding a frame's payload, which the caller must release (or
 * pass on to a write, which releases it). Stateless and thread-safe.
 */
public final class RandomchatEncoder {

    private static final JsonFactory JSON = new JsonFactory();
    private static final DateTimeFormatter ISO =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private RandomchatEncoder() {
    }

    /** Writes one frame's JSON with a generator. */
    @FunctionalInterface
    private interface Body {
        void write(JsonGenerator g) throws IOException;
    }

    private static ByteBuf encode(ByteBufAllocator alloc, Body body) {
        ByteBuf out = alloc.buffer(256);
        boolean release = true;
        try (JsonGenerator g = JSON.createGenerator((java.io.OutputStream) new ByteBufOutputStream(out),
                JsonEncoding.UTF8)) {
            body.write(g);
            g.flush();
            release = false;
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteBufOutputStream does not fail
        } finally {
            if (release) {
                out.release();
            }
        }
    }

    /**
     * {@code {"type":"state","chats":[ChatState...]}}, with {@code "token":T} after the chats when
     * {@code token} is not {@code null} (the first registration of a phone).
     */
    public static ByteBuf state(ByteBufAllocator alloc, List<ChatState> chats, String token) {
        return encode(alloc, g -> {
            g.writeStartObject();
            g.writeStringField("type", "state");
            g.writeArrayFieldStart("chats");
            for (ChatState s : chats) {
                g.writeStartObject();
                g.writeFieldName("chat");
                chat(g, s.chat());
                g.writeArrayFieldStart("messages");
                for (BriefMessage m : s.messages()) {
                    g.writeStartObject();
                    g.writeFieldName("from");
                    user(g, m.from());
                    g.writeStringField("date", date(m.date()));
                    g.writeStringField("message", m.message());
                    g.writeEndObject();
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
            if (token != null) {
                g.writeStringField("token", token);
            }
            g.writeEndObject();
        });
    }

    /** {@code {"type":"message","chat":Chat,"from":User,"date":D,"message":M}}. */
    public static ByteBuf message(ByteBufAllocator alloc, Chat chat, User from, long date, String message) {
        return encode(alloc, g -> {
            g.writeStartObject();
            g.writeStringField("type", "message");
            g.writeFieldName("chat");
            chat(g, chat);
            g.writeFieldName("from");
            user(g, from);
            g.writeStringField("date", date(date));
            g.writeStringField("message", message);
            g.writeEndObject();
        });
    }

    /** {@code {"type":"new_member","chat":Chat,"user":User}}. */
    public static ByteBuf newMember(ByteBufAllocator alloc, Chat chat, User user) {
        return chatAndUser(alloc, "new_member", chat, user);
    }

    /** {@code {"type":"member_removed","chat":Chat,"user":User}}. */
    public static ByteBuf memberRemoved(ByteBufAllocator alloc, Chat chat, User user) {
        return chatAndUser(alloc, "member_removed", chat, user);
    }

    /** {@code {"type":"chat_deleted","chat":Chat}}. */
    public static ByteBuf chatDeleted(ByteBufAllocator alloc, Chat chat) {
        return encode(alloc, g -> {
            g.writeStartObject();
            g.writeStringField("type", "chat_deleted");
            g.writeFieldName("chat");
            chat(g, chat);
            g.writeEndObject();
        });
    }

    /**
     * {@code {"type":"error","message":M,"request":R}}, where {@code request} is the refused
     * request's type as sent, or {@code null} when it had none that could be read.
     */
    public static ByteBuf error(ByteBufAllocator alloc, String message, String request) {
        return encode(alloc, g -> {
            g.writeStartObject();
            g.writeStringField("type", "error");
            g.writeStringField("message", message);
            g.writeStringField("request", request);
            g.writeEndObject();
        });
    }

    private static ByteBuf chatAndUser(ByteBufAllocator alloc, String type, Chat chat, User user) {
        return encode(alloc, g -> {
            g.writeStartObject();
            g.writeStringField("type", type);
            g.writeFieldName("chat");
            chat(g, chat);
            g.writeFieldName("user");
            user(g, user);
            g.writeEndObject();
        });
    }

    private static void chat(JsonGenerator g, Chat chat) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", chat.name());
        g.writeArrayFieldStart("members");
        for (User u : chat.members()) {
            user(g, u);
        }
        g.writeEndArray();
        g.writeFieldName("owner");
        user(g, chat.owner());
        g.writeEndObject();
    }

    private static void user(JsonGenerator g, User user) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", user.name());
        g.writeStringField("phone", user.phone());
        if (user.disconnectionDate() == User.NEVER) {
            g.writeNullField("disconnection_date");
        } else {
            g.writeStringField("disconnection_date", date(user.disconnectionDate()));
        }
        g.writeEndObject();
    }

    /** {@code epochMillis} as the dialect writes dates, e.g. {@code 2026-11-22T01:32:03.123Z}. */
    public static String date(long epochMillis) {
        return ISO.format(Instant.ofEpochMilli(epochMillis));
    }
}
