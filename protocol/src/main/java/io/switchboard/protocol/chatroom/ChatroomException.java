package io.switchboard.protocol.chatroom;

/** A chatroom client message that cannot be served; the message says what is wrong, for the client. */
public final class ChatroomException extends Exception {

    public ChatroomException(String message) {
        super(message, null, false, false);
    }
}
