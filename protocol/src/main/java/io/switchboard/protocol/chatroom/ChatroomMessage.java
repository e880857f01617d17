package io.switchboard.protocol.chatroom;

import java.util.Map;

/**
 * A decoded chatroom message, {@code {"type": T, "content": {...}}}, with typed access to the
 * content's fields. Values are {@link JsonValues}.
 *
 * @param type    the message type, e.g. {@code "subscribe"}
 * @param content the content's fields; empty when the message has no content
 */
public record ChatroomMessage(String type, Map<String, Object> content) {

    /** Returns whether the content has the field {@code name}, {@code null} included. */
    public boolean has(String name) {
        return content.containsKey(name);
    }

    /** Returns the field {@code name}, which may be {@code null}; absent is {@code null} too. */
    public Object value(String name) {
        return content.get(name);
    }

    /**
     * Returns the string field {@code name}.
     *
     * @throws ChatroomException when it is missing, not a string, or empty
     */
    public String string(String name) throws ChatroomException {
        Object v = content.get(name);
        if (v == null) {
            throw new ChatroomException("'" + type + "' needs \"" + name + "\" in its content");
        }
        if (!(v instanceof String)) {
            throw new ChatroomException("\"" + name + "\" of '" + type + "' must be a string, not "
                    + JsonValues.typeName(v));
        }
        if (((String) v).isEmpty()) {
            throw new ChatroomException("\"" + name + "\" of '" + type + "' must not be empty");
        }
        return (String) v;
    }

    /**
     * Returns the field {@code name}, which must be present ({@code null} is a value).
     *
     * @throws ChatroomException when it is missing
     */
    public Object required(String name) throws ChatroomException {
        if (!content.containsKey(name)) {
            throw new ChatroomException("'" + type + "' needs \"" + name + "\" in its content");
        }
        return content.get(name);
    }
}
