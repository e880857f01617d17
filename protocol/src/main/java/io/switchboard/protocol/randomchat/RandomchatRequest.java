package io.switchboard.protocol.randomchat;

import java.util.Objects;

/**
 * One client request, decoded and checked by {@link RandomchatDecoder}. Which fields are set
 * depends on the {@link Type}: {@code register} has {@code name} and {@code phone} (its user) and
 * maybe {@code token}; {@code create_chat} has {@code chat} (the seed's {@code name} field);
 * {@code send_message} {@code chat} and {@code message}; {@code delete_chat} {@code chat};
 * {@code add_member} and {@code remove_member} {@code chat} and {@code phone}. The others are
 * {@code null}.
 */
public record RandomchatRequest(Type type, String name, String phone, String token, String chat, String message) {

    /** The seed's client-to-server operations, by their wire names. */
    public enum Type {
        REGISTER("register"),
        CREATE_CHAT("create_chat"),
        SEND_MESSAGE("send_message"),
        DELETE_CHAT("delete_chat"),
        ADD_MEMBER("add_member"),
        REMOVE_MEMBER("remove_member");

        private final String wireName;

        Type(String wireName) {
            this.wireName = wireName;
        }

        /** The {@code type} as clients write it, e.g. {@code create_chat}. */
        public String wireName() {
            return wireName;
        }

        /** The type named {@code wireName}, or {@code null}. */
        public static Type of(String wireName) {
            for (Type t : values()) {
                if (t.wireName.equals(wireName)) {
                    return t;
                }
            }
            return null;
        }
    }

    public RandomchatRequest {
        Objects.requireNonNull(type, "type");
    }
}
