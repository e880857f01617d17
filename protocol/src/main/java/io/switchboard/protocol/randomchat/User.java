package io.switchboard.protocol.randomchat;

import java.util.Objects;

/**
 * The seed's User: {@code {"name": N, "phone": P, "disconnection_date": D}}. The phone is the
 * user's identity; {@code disconnection_date} is when the user's last connection closed, or
 * {@code null} ({@link #NEVER}) for a user who has not disconnected yet.
 *
 * @param disconnectionDate epoch milliseconds, or {@link #NEVER}
 */
public record User(String name, String phone, long disconnectionDate) {

    /** The {@code disconnectionDate} of a user who never disconnected: written as {@code null}. */
    public static final long NEVER = Long.MIN_VALUE;

    public User {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(phone, "phone");
    }
}
