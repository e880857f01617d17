package io.switchboard.protocol.randomchat;

import java.util.List;
import java.util.Objects;

/**
 * The seed's ChatState: {@code {"chat": Chat, "messages": [BriefMessage]}}, one chat of a user's
 * {@code state} with the messages sent to it while the user had no open connection, oldest first.
 */
public record ChatState(Chat chat, List<BriefMessage> messages) {

    public ChatState {
        Objects.requireNonNull(chat, "chat");
        messages = List.copyOf(messages);
    }
}
