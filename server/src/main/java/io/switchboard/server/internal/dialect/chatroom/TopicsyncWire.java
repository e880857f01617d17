package io.switchboard.server.internal.dialect.chatroom;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;
import io.switchboard.protocol.chatroom.ChangeRejected;
import io.switchboard.protocol.chatroom.ChatroomDecoder;
import io.switchboard.protocol.chatroom.ChatroomException;
import io.switchboard.protocol.chatroom.ChatroomMessage;
import io.switchboard.protocol.chatroom.JsonValues;
import io.switchboard.protocol.chatroom.TopicType;

import java.io.IOException;
import java.io.OutputStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The wire of the 2023 ChatRoom client ({@code chatroom-client} 0.5.3, docs/chatroom.md "The 2023
 * client's protocol"): messages {@code {"type": T, "args": {...}}}, and the translation of its
 * changes to the store's (PROTOCOL.md section 4) and back. Stateless and thread-safe.
 */
final class TopicsyncWire {

    private static final JsonFactory OUT = new JsonFactory();

    private final ChatroomDecoder in;

    TopicsyncWire(int maxMessageBytes, int maxNestingDepth) {
        this.in = new ChatroomDecoder(maxMessageBytes, maxNestingDepth, "args", NOT_A_MESSAGE);
    }

    /**
     * Decodes {@code {"type": T, "args": {...}}}, as the seed text's chatroom decoder does its
     * {@code content}; does not take ownership of {@code payload}.
     *
     * @throws ChatroomException when it is not JSON, not such an object, or {@code args} is not an object
     */
    ChatroomMessage decode(ByteBuf payload) throws ChatroomException {
        return in.decode(payload);
    }

    static final String NOT_A_MESSAGE =
            "A message must be a JSON object like {\"type\": \"subscribe\", \"args\": {\"topic_name\": \"t\"}}";

    /** {@code {"type": type, "args": args}} as UTF-8 JSON; the caller takes ownership. */
    static ByteBuf message(ByteBufAllocator alloc, String type, Map<String, Object> args) {
        ByteBuf out = alloc.buffer(64);
        try (JsonGenerator g = OUT.createGenerator((OutputStream) new ByteBufOutputStream(out))) {
            g.writeStartObject();
            g.writeStringField("type", type);
            g.writeFieldName("args");
            JsonValues.write(g, args);
            g.writeEndObject();
        } catch (IOException | RuntimeException e) {
            out.release();
            throw new IllegalStateException("cannot encode a " + type + " message", e);
        }
        return out;
    }

    static ByteBuf hello(ByteBufAllocator alloc, long id) {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("id", id);
        return message(alloc, "hello", args);
    }

    /**
     * {@code init} of {@code topic}: its value, and for a string topic the version token the client
     * checks its string changes against, as {@code id} (the 2023 client applies {@code init} as a
     * {@code set} change, whose id becomes the string's version).
     */
    static ByteBuf init(ByteBufAllocator alloc, String topic, TopicType type, Object value, long version) {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("topic_name", topic);
        args.put("value", value);
        if (type == TopicType.STRING) {
            args.put("id", token(topic, version));
        }
        return message(alloc, "init", args);
    }

    static ByteBuf update(ByteBufAllocator alloc, List<Map<String, Object>> changes, Object actionId) {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("changes", changes);
        args.put("action_id", actionId);
        return message(alloc, "update", args);
    }

    static ByteBuf reject(ByteBufAllocator alloc, String reason) {
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("reason", reason);
        return message(alloc, "reject", args);
    }

    /** The action id of updates that no action of this protocol made (a seed-text client's change, a notice). */
    static final String CHATROOM_ACTION = "chatroom";

    /** A string topic's version as the 2023 client tracks it. */
    static String token(String topic, long version) {
        return topic + "@" + version;
    }

    /**
     * The change as the 2023 client deserializes it, from {@code change} as the store applied it
     * (fields of PROTOCOL.md section 4): {@code topic_name}, {@code topic_type}, {@code type}, the
     * type's fields, {@code id} when it had one. A string topic's change goes as a {@code set} of the
     * whole new value with the new version token as its id: the client checks string edits against
     * versions it names itself, which only a whole value resets.
     */
    static Map<String, Object> render(String topic, TopicType type, Map<String, Object> change, Object newValue,
                                      long newVersion) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("topic_name", topic);
        out.put("topic_type", type.wireName());
        if (type == TopicType.STRING) {
            out.put("type", "set");
            out.put("value", newValue);
            out.put("id", token(topic, newVersion));
            return out;
        }
        String t = (String) change.get("type");
        out.put("type", t);
        switch (type == TopicType.LIST ? t : "") {
            case "insert":
                out.put("item", change.get("value"));
                out.put("position", change.get("index"));
                break;
            case "pop":
                out.put("position", change.get("index"));
                break;
            default:
                for (Map.Entry<String, Object> e : change.entrySet()) {
                    if (!e.getKey().equals("type") && !e.getKey().equals("id") && !e.getKey().equals("version")) {
                        out.put(e.getKey(), e.getValue());
                    }
                }
        }
        if (change.containsKey("id")) {
            out.put("id", change.get("id"));
        }
        return out;
    }

    /**
     * The store's change (PROTOCOL.md section 4) for {@code command}, a change as the 2023 client
     * serializes it, to a topic of {@code type} holding {@code value}. List positions may be negative
     * (from the end, as the 2023 server's Python took them); a string {@code delete} names the text it
     * deletes, which must be there.
     *
     * @throws ChangeRejected when the command does not fit the topic
     */
    static Map<String, Object> translate(String topic, TopicType type, Object value, Map<?, ?> command)
            throws ChangeRejected {
        Object t = command.get("type");
        if (!(t instanceof String)) {
            throw new ChangeRejected("A change needs a \"type\"");
        }
        Object declared = command.get("topic_type");
        if (declared != null && !declared.equals(type.wireName())) {
            throw new ChangeRejected("It is a " + type.wireName() + " topic, not " + declared);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("type", t);
        switch (type + "/" + t) {
            case "LIST/insert":
                out.put("index", position(command, ((List<?>) value).size()));
                out.put("value", field(command, "item"));
                break;
            case "LIST/pop":
                out.put("index", position(command, ((List<?>) value).size()));
                break;
            case "STRING/insert":
                out.put("position", field(command, "position"));
                out.put("text", field(command, "insertion"));
                break;
            case "STRING/delete": {
                Object position = field(command, "position");
                Object deletion = field(command, "deletion");
                if (!(deletion instanceof String) || !(position instanceof Long)) {
                    throw new ChangeRejected("A delete needs an integer \"position\" and the \"deletion\" text");
                }
                String s = (String) value;
                int length = ((String) deletion).codePointCount(0, ((String) deletion).length());
                long at = (Long) position;
                int cps = s.codePointCount(0, s.length());
                if (at < 0 || at + length > cps || !s.substring(s.offsetByCodePoints(0, (int) at),
                        s.offsetByCodePoints(0, (int) (at + length))).equals(deletion)) {
                    throw new ChangeRejected("There is no " + JsonValues.toJson(deletion) + " at position " + at);
                }
                out.put("position", at);
                out.put("length", (long) length);
                break;
            }
            default:
                for (Map.Entry<?, ?> e : command.entrySet()) {
                    String k = (String) e.getKey();
                    if (!k.equals("type") && !k.equals("topic_name") && !k.equals("topic_type") && !k.equals("id")
                            && !k.equals("old_value")) {
                        out.put(k, e.getValue());
                    }
                }
        }
        if (command.get("id") != null) {
            out.put("id", command.get("id"));
        }
        return out;
    }

    private static Object field(Map<?, ?> command, String name) throws ChangeRejected {
        if (!command.containsKey(name)) {
            throw new ChangeRejected("The '" + command.get("type") + "' change needs \"" + name + "\"");
        }
        return command.get(name);
    }

    /** {@code position} in a list of {@code size} items, counted from the end when negative (as Python and the client do). */
    private static long position(Map<?, ?> command, int size) throws ChangeRejected {
        Object p = field(command, "position");
        if (!(p instanceof Long)) {
            throw new ChangeRejected("\"position\" must be an integer, not " + typeName(p));
        }
        long at = (Long) p;
        return at < 0 ? at + size : at;
    }

    static String typeName(Object value) {
        return value == null ? "null" : value instanceof String ? "a string" : value instanceof Map ? "an object"
                : value instanceof List ? "an array" : value instanceof Boolean ? "a boolean" : "a number";
    }
}
