package io.switchboard.server.internal.broker;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.switchboard.protocol.JsonStrings;

/**
 * Something that happens in a channel of the shared namespace (PROTOCOL.md, "Shared channel
 * namespace"), before any dialect renders it: a message, or a member joining or leaving. The
 * {@link Broker} has each {@link Dialect} present in the channel render it once
 * ({@link Dialect#render}), and the cluster link carries it to the other nodes as it is
 * ({@code ClusterEnvelope}).
 *
 * <p>An event lives for one publish call: {@link #content} is borrowed from the caller, and the
 * derived forms (quoted name, text) are computed at most once, by the thread that publishes.
 * Not thread-safe.
 */
public final class ChannelEvent {

    public enum Kind {
        MESSAGE(0), JOINED(1), LEFT(2),
        /**
         * A member left in a way its own dialect does not announce (a line client disconnected by
         * {@code SHUTDOWN} or by its node stopping): only the dialects that show every member's
         * presence (minichats {@code join_leave}) show it, as a leave.
         */
        LEFT_UNANNOUNCED(3);

        /** What a cluster envelope carries: explicit, so that reordering the constants changes nothing on the wire. */
        public final int code;

        Kind(int code) {
            this.code = code;
        }

        public static Kind of(int code) {
            for (Kind k : values()) {
                if (k.code == code) {
                    return k;
                }
            }
            throw new IllegalArgumentException("event kind " + code);
        }
    }

    public final Kind kind;
    /**
     * The author's dialect. Disposable and line show only their own dialect's presence; a
     * presence event reaches its author only in its own dialect (disposable's own {@code info}).
     */
    public final Dialect dialect;
    /** The author's id; authors without one of their own (minichats, the HTTP API) use their name. */
    public final String senderId;
    public final String senderName;
    public final long sentAt;
    /** The message, one JSON value (not owned); empty for presence events. */
    public final ByteBuf content;
    /**
     * A message's offset in its channel's stream (PROTOCOL.md section 1a), set by the broker's history
     * before the event is rendered; -1 without history (or for presence).
     */
    public long offset = -1;
    /**
     * The generation of the stream {@link #offset} is of: it changes when a cluster's stream starts
     * afresh (a new epoch, or Redis rolled back), so that floors of the old one do not hold.
     */
    public int generation;
    /**
     * Set once the cluster took a message for its stream (history on, in a cluster): it reaches the
     * other nodes, and this one, from Redis, so it is neither fanned out here now nor forwarded.
     */
    boolean sharedKept;
    /** The author's connection on this node, kept out of dialects that do not echo; or {@code null}. */
    final Connection author;
    private byte[] quotedName;
    private byte[] quotedId;
    private String text;
    private byte[] quotedText;

    private ChannelEvent(Kind kind, Dialect dialect, String senderId, String senderName, byte[] quotedName,
                         long sentAt, ByteBuf content, Connection author) {
        this.kind = kind;
        this.dialect = dialect;
        this.senderId = senderId;
        this.senderName = senderName;
        this.quotedName = quotedName;
        this.sentAt = sentAt;
        this.content = content;
        this.author = author;
    }

    /**
     * A message whose content is one JSON value. Does not take ownership of {@code content}.
     *
     * @param quotedName the sender's name as a JSON literal when the caller has it, or {@code null}
     */
    public static ChannelEvent message(Dialect dialect, String senderId, String senderName, byte[] quotedName, long sentAt,
                                ByteBuf content, Connection author) {
        return new ChannelEvent(Kind.MESSAGE, dialect, senderId, senderName, quotedName, sentAt, content, author);
    }

    /** A message of plain text (disposable, line): its content is the text as a JSON string. */
    public static ChannelEvent text(Dialect dialect, String senderId, String senderName, String text, Connection author) {
        byte[] quoted = JsonStrings.quote(text);
        ChannelEvent e = message(dialect, senderId, senderName, null, System.currentTimeMillis(),
                Unpooled.wrappedBuffer(quoted), author);
        e.text = text;
        e.quotedText = quoted;
        return e;
    }

    /** A member joining ({@link Kind#JOINED}) or leaving ({@link Kind#LEFT}, {@link Kind#LEFT_UNANNOUNCED}) a channel. */
    public static ChannelEvent presence(Kind kind, Dialect dialect, String memberId, String memberName, Connection author) {
        return new ChannelEvent(kind, dialect, memberId, memberName, null, System.currentTimeMillis(),
                Unpooled.EMPTY_BUFFER, author);
    }

    /** An event received from another node; its content is not owned. */
    public static ChannelEvent received(Kind kind, Dialect dialect, String senderId, String senderName, long sentAt,
                                 ByteBuf content) {
        return new ChannelEvent(kind, dialect, senderId, senderName, null, sentAt, content, null);
    }

    public byte[] quotedName() {
        if (quotedName == null) {
            quotedName = JsonStrings.quote(senderName);
        }
        return quotedName;
    }

    public byte[] quotedId() {
        if (quotedId == null) {
            quotedId = senderId.equals(senderName) ? quotedName() : JsonStrings.quote(senderId);
        }
        return quotedId;
    }

    /** What text-only dialects show: a string's value, any other JSON value as its JSON text. */
    public String text() {
        if (text == null) {
            text = JsonStrings.text(content);
        }
        return text;
    }

    /** {@link #text()} as a JSON string: the content itself when it is a string. */
    public byte[] quotedText() {
        if (quotedText == null) {
            if (content.isReadable() && content.getByte(content.readerIndex()) == '"') {
                quotedText = ByteBufUtil.getBytes(content);
            } else {
                quotedText = JsonStrings.quote(text());
            }
        }
        return quotedText;
    }
}
