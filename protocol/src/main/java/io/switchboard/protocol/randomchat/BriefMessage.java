package io.switchboard.protocol.randomchat;

import java.util.Objects;

/**
 * The seed's Brief Message: {@code {"from": User, "date": D, "message": M}}, a message without its
 * chat, as a {@link ChatState} lists it.
 *
 * @param date epoch milliseconds, when the server accepted the message
 */
public record BriefMessage(User from, long date, String message) {

    public BriefMessage {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(message, "message");
    }
}
