package io.switchboard.server.internal.dialect.randomchat;

import io.switchboard.server.internal.metrics.Metrics;

/**
 * A randomchat request that a rule refuses (PROTOCOL.md section 5): its message is what the client
 * is told in the {@code error} frame. Both stores refuse with these same words.
 */
public final class RandomchatRefusal extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The limit that refused the request, for the metrics; {@code null} for any other rule. */
    final Metrics.RandomchatLimit limit;

    RandomchatRefusal(String message) {
        this(message, null);
    }

    private RandomchatRefusal(String message, Metrics.RandomchatLimit limit) {
        super(message, null, false, false); // an answer to a client, not a failure: no stack trace
        this.limit = limit;
    }

    public static RandomchatRefusal tokenMissing(String phone) {
        return new RandomchatRefusal("Phone '" + phone + "' is registered: log in with the token its first "
                + "registration returned, as {\"type\":\"register\",\"user\":{...},\"token\":\"...\"}");
    }

    public static RandomchatRefusal tokenWrong(String phone) {
        return new RandomchatRefusal("Wrong token for phone '" + phone + "'");
    }

    public static RandomchatRefusal noChat(String chat) {
        return new RandomchatRefusal("No chat named '" + chat + "'");
    }

    public static RandomchatRefusal chatExists(String chat) {
        return new RandomchatRefusal("A chat named '" + chat + "' already exists");
    }

    public static RandomchatRefusal notMember(String chat) {
        return new RandomchatRefusal("You are not a member of '" + chat + "'");
    }

    public static RandomchatRefusal notOwnerDelete(String chat) {
        return new RandomchatRefusal("Only the owner of '" + chat + "' may delete it");
    }

    public static RandomchatRefusal notOwnerRemove(String chat) {
        return new RandomchatRefusal("Only the owner of '" + chat + "' may remove members");
    }

    public static RandomchatRefusal noUser(String phone) {
        return new RandomchatRefusal("No user with phone '" + phone + "' is registered");
    }

    public static RandomchatRefusal alreadyMember(String phone, String chat) {
        return new RandomchatRefusal("'" + phone + "' is already a member of '" + chat + "'");
    }

    public static RandomchatRefusal notAMember(String phone, String chat) {
        return new RandomchatRefusal("'" + phone + "' is not a member of '" + chat + "'");
    }

    public static RandomchatRefusal ownerStays(String chat) {
        return new RandomchatRefusal("The owner cannot be removed from '" + chat + "': delete the chat instead");
    }

    /** An {@code add_member} to a chat of {@code RANDOMCHAT_MAX_MEMBERS} members. */
    public static RandomchatRefusal full(String chat, int maxMembers) {
        return new RandomchatRefusal("'" + chat + "' has the most members allowed (" + maxMembers + ")",
                Metrics.RandomchatLimit.MEMBERS);
    }

    /** A {@code create_chat} by a user who owns {@code RANDOMCHAT_MAX_CHATS_PER_USER} chats. */
    public static RandomchatRefusal tooManyChats(String phone, int maxChats) {
        return new RandomchatRefusal("'" + phone + "' owns the most chats allowed (" + maxChats
                + "): delete one to create another", Metrics.RandomchatLimit.OWNED_CHATS);
    }

    /** An {@code add_member} of a user already added to {@code RANDOMCHAT_MAX_ADDED_CHATS_PER_USER} chats of others. */
    public static RandomchatRefusal tooManyAddedChats(String phone, int maxAdded) {
        return new RandomchatRefusal("'" + phone + "' was added to the most chats allowed (" + maxAdded
                + "): it must leave one before it can be added to another", Metrics.RandomchatLimit.ADDED_CHATS);
    }

    public static RandomchatRefusal unavailable() {
        return new RandomchatRefusal("The server could not store this request: try again later");
    }

    public static RandomchatRefusal stopping() {
        return new RandomchatRefusal("The server is stopping: try again later");
    }
}
