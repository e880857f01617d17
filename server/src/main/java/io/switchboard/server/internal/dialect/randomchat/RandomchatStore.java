package io.switchboard.server.internal.dialect.randomchat;

import io.switchboard.protocol.randomchat.Chat;
import io.switchboard.protocol.randomchat.ChatState;
import io.switchboard.protocol.randomchat.User;
import io.switchboard.server.internal.dialect.randomchat.redis.RedisRandomchatStore;
import io.switchboard.server.internal.dialect.randomchat.sqlite.SqliteRandomchatStore;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The randomchat dialect's durable state (PROTOCOL.md section 5): users and their hashed tokens,
 * chats, memberships and the messages waiting for offline members, and which users are online,
 * which decides whether a message is delivered now or kept. {@link SqliteRandomchatStore} keeps it
 * in a file on one node; {@link RedisRandomchatStore} in Redis, shared by the nodes of a cluster.
 *
 * <p>Pending is exactly once: a message is kept for a member who is online on no node when it is
 * sent, and taken out in the same atomic step that puts it into that member's {@code state}; a
 * member who is online gets it delivered, never kept. Every login and every routing of a message
 * gets a number from one increasing sequence, so a message that did not reach a connection (it
 * closed meanwhile) is handed back ({@link #logout}, {@link #requeue}) and settled exactly: dropped
 * when another connection of the user that was online when it was routed still is (that one got it,
 * or hands it back in turn), or has closed having delivered it (each logout records the messages its
 * connection delivered lately: {@link #DELIVERED_WINDOW_MILLIS}); otherwise routed again to the user's
 * connections that came later, or kept when there are none. An operation's future completes after its changes are durable, with a
 * {@link RandomchatRefusal} when a rule refuses it. Operations of one store are applied in the
 * order they are called.
 *
 * <p>A message on its way to an online member is <em>in flight</em> for it, durably, from the commit
 * that routes it (or the login that takes it into a {@code state}) until a connection of the member
 * has written it to its socket ({@link #delivered}), or a hand-back settles it. What is still in
 * flight for a user when it has no connection left (its last logout, the death of the node that held
 * its connections, a restart after {@code kill -9}) becomes pending, so the next {@code state}
 * carries what the connections never got (issue 15). A hand-back keeps or routes again only what is
 * still in flight, so a message is never kept for a user after one of its connections wrote it.
 *
 * <p>Thread-safe; no method blocks (the work happens on the store's own threads, never on an event
 * loop). Futures complete on those threads.
 */
public interface RandomchatStore {

    /**
     * A message as it waits for an offline member: its chat, sender phone, date (epoch ms) and
     * text, when it was routed to the user's connections ({@code seq}; {@link #NOT_ROUTED} for
     * one taken from the store into a state), and its number among what is in flight for the user
     * ({@code id}, which routing it again keeps).
     */
    record Pending(String chat, String from, long date, String text, long seq, long id) {
        public static final long NOT_ROUTED = Long.MAX_VALUE;

        Pending notRouted() {
            return new Pending(chat, from, date, text, NOT_ROUTED, id);
        }

        public Pending routed(long again) {
            return new Pending(chat, from, date, text, again, id);
        }
    }

    /**
     * A logged-in user: {@code connection} names this connection in the store (its login's
     * number); {@code token} is the new user's token (only on the first registration of the phone,
     * else {@code null}); {@code chats} is the user's {@code state}; {@code taken} the pending
     * messages it carries, to be handed back if the state cannot be written.
     */
    record Login(long connection, User user, String token, List<ChatState> chats, List<Pending> taken) {
    }

    /** What an operation tells the chat's members. */
    enum Event { NEW_MEMBER, MESSAGE, CHAT_DELETED, MEMBER_REMOVED }

    /**
     * The outcome of a chat operation, for its members: the event ({@code user} is the new or
     * removed member, or the sender of a {@code message}; {@code message} its text and date) and
     * who gets it: phones online on this node ({@code local}) and, in a cluster, on other nodes
     * (node to phones).
     */
    record Outcome(Event event, Chat chat, User user, Pending message, List<String> local,
                   Map<String, List<String>> remote) {
    }

    /**
     * Registers the phone (a new user, with a new token) or logs it in (its token must match unless
     * open login is on); then counts one more connection of the user on this node and takes the
     * user's pending messages into its state, atomically. A new name given at login replaces the
     * stored one.
     */
    CompletableFuture<Login> login(String name, String phone, String token, long now);

    /**
     * The new user's first {@code state}, which carried {@code token}, could not be written: the
     * client never learnt its token. Withdraws it (if it is still the user's token), so that the
     * next {@code register} of the phone without a token is answered with a new one instead of
     * locking the phone out.
     */
    CompletableFuture<Void> withdrawToken(String phone, String token);

    /**
     * The user's {@code connection} closed; with none left anywhere the user is offline from
     * {@code now} (its {@code disconnection_date}). {@code missed} are the messages that did not
     * reach it, settled as the class comment says; {@code delivered} the numbers ({@code seq}) of the
     * messages it did get lately. The future holds the messages to route again.
     */
    CompletableFuture<List<Outcome>> logout(String phone, long connection, List<Pending> missed,
                                            List<Long> delivered, long now);

    /**
     * A connection of {@code phone} wrote the messages numbered {@code ids} ({@link Pending#id}) to
     * its socket: they are no longer in flight for the user.
     */
    CompletableFuture<Void> delivered(String phone, List<Long> ids);

    /**
     * How long a logout's record of what its connection delivered is kept: long enough for the
     * hand-backs of the user's other connections, which come within moments of their close.
     */
    long DELIVERED_WINDOW_MILLIS = 60_000;

    /** Creates {@code chat}, owned by {@code by}, its first member, unless {@code by} owns the most chats allowed. */
    CompletableFuture<Outcome> createChat(String by, String chat);

    /** Sends {@code text} to the members of {@code chat}: kept for those offline everywhere. */
    CompletableFuture<Outcome> sendMessage(String by, String chat, String text, long now);

    /** Deletes {@code chat} (by its owner) with what was kept for it. */
    CompletableFuture<Outcome> deleteChat(String by, String chat);

    /**
     * Adds the registered user {@code phone} to {@code chat}, by one of its members, unless
     * {@code phone} was added to the most chats of others allowed (its own chats do not count).
     */
    CompletableFuture<Outcome> addMember(String by, String chat, String phone);

    /**
     * Removes {@code phone} from {@code chat} (by its owner, or by {@code phone} itself: it leaves),
     * with what was kept for it there. The owner is never removed.
     */
    CompletableFuture<Outcome> removeMember(String by, String chat, String phone);

    /**
     * A message routed to {@code phone} on this node found no connection of it (it just left):
     * settled as the class comment says; the future holds the messages to route again.
     */
    CompletableFuture<List<Outcome>> requeue(String phone, Pending message);

    /**
     * Hands an event to the nodes in {@code remote} (node to phones) for their connections. A
     * single node has nobody to hand it to. Does not take ownership of {@code payload}.
     */
    default void forward(Map<String, List<String>> remote, io.netty.buffer.ByteBuf payload, Pending message) {
    }

    /** Why the store cannot serve, for {@code /health}; {@code null} when it can. */
    String problem();

    /** Applies what was called before, then releases the store. */
    CompletableFuture<Void> close();
}
