package io.switchboard.protocol.chatroom;

/** A change that does not fit its topic; the message is the {@code reason} of the {@code reject_update}. */
public final class ChangeRejected extends Exception {

    public ChangeRejected(String reason) {
        super(reason, null, false, false);
    }
}
