package io.switchboard.protocol.chatroom;

import java.util.List;
import java.util.Map;

/**
 * The type of a topic's value, chosen by its first subscriber (PROTOCOL.md section 4), with the
 * empty value a new topic starts with and the changes it takes.
 */
public enum TopicType {
    GENERIC("generic", null, List.of("set")),
    STRING("string", "", List.of("set", "insert", "delete")),
    INT("int", 0L, List.of("set", "add")),
    FLOAT("float", 0.0, List.of("set", "add")),
    LIST("list", List.of(), List.of("set", "insert", "pop")),
    DICT("dict", Map.of(), List.of("set", "change_value", "add", "pop"));

    private final String wireName;
    private final Object empty;
    private final List<String> changes;

    TopicType(String wireName, Object empty, List<String> changes) {
        this.wireName = wireName;
        this.empty = empty;
        this.changes = changes;
    }

    /** The type's name on the wire, e.g. {@code "int"}. */
    public String wireName() {
        return wireName;
    }

    /** The value a new topic of this type holds. */
    public Object emptyValue() {
        return empty;
    }

    /** The change types a topic of this type takes, in PROTOCOL.md's order. */
    public List<String> changes() {
        return changes;
    }

    /** Returns the type named {@code name} on the wire, or {@code null}. */
    public static TopicType of(String name) {
        for (TopicType t : values()) {
            if (t.wireName.equals(name)) {
                return t;
            }
        }
        return null;
    }
}
