package io.switchboard.server.internal.broker;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.switchboard.protocol.disposable.DisposableEncoder;
import io.switchboard.protocol.line.LineMessages;
import io.switchboard.protocol.minichats.MinichatsEncoder;
import io.switchboard.server.internal.dialect.chatroom.Chatroom;
import io.switchboard.server.internal.dialect.randomchat.RandomchatHub;

/**
 * The dialects that share the channel namespace, each with how it renders a {@link ChannelEvent}
 * for its subscribers. The broker renders an event once per dialect present in the channel and
 * writes the same bytes to every subscriber of that dialect: a complete WebSocket frame for the
 * WebSocket dialects, a line of text for the line dialect.
 */
public enum Dialect {

    /** PROTOCOL.md section 1: messages only; minichats has no presence events. */
    MINICHATS(true) {
        @Override
        ByteBuf render(ByteBufAllocator alloc, ChannelEntry channel, ChannelEvent e) {
            if (e.kind != ChannelEvent.Kind.MESSAGE) {
                return null;
            }
            return MinichatsEncoder.delivery(alloc, e.quotedName(), channel.quotedName(), e.sentAt, e.content);
        }
    },
    /** PROTOCOL.md section 2: {@code chat} for messages, {@code info} for its own members' comings and goings. */
    DISPOSABLE(true) {
        @Override
        ByteBuf render(ByteBufAllocator alloc, ChannelEntry channel, ChannelEvent e) {
            switch (e.kind) {
                case MESSAGE:
                    return DisposableEncoder.chat(alloc, channel.quotedName(), e.quotedId(), e.quotedName(),
                            e.quotedText());
                case JOINED:
                case LEFT:
                    return e.dialect != DISPOSABLE ? null : DisposableEncoder.info(alloc, channel.quotedName(),
                            e.quotedId(), e.quotedName(), e.kind == ChannelEvent.Kind.JOINED);
                default:
                    throw new IllegalStateException("Unhandled event kind: " + e.kind);
            }
        }
    },
    /** PROTOCOL.md section 3: {@code name: text} lines, and notices of its own clients; never to the author. */
    LINE(false) {
        @Override
        ByteBuf render(ByteBufAllocator alloc, ChannelEntry channel, ChannelEvent e) {
            switch (e.kind) {
                case MESSAGE:
                    return LineMessages.message(alloc, e.senderName, e.text());
                case JOINED:
                    return e.dialect != LINE ? null : LineMessages.encode(alloc, LineMessages.joined(e.senderId));
                case LEFT:
                    return e.dialect != LINE ? null : LineMessages.encode(alloc, LineMessages.left(e.senderId));
                default:
                    throw new IllegalStateException("Unhandled event kind: " + e.kind);
            }
        }
    },
    /**
     * PROTOCOL.md section 4: topics of its own namespace ({@link Chatroom}), never a channel of the
     * shared one; it is here for its connections' place in the broker's loops and flushes.
     */
    CHATROOM(true) {
        @Override
        ByteBuf render(ByteBufAllocator alloc, ChannelEntry channel, ChannelEvent e) {
            throw new IllegalStateException("chatroom connections subscribe to no channel");
        }
    },
    /**
     * PROTOCOL.md section 5. Not a dialect of the shared namespace: randomchat chats live in its
     * store and reach their members through {@link RandomchatHub}, never through a channel. The
     * constant exists because every session is a {@link Connection} of the broker, which writes
     * and flushes randomchat's frames too; no randomchat connection ever subscribes, so nothing is
     * ever rendered for it.
     */
    RANDOMCHAT(true) {
        @Override
        ByteBuf render(ByteBufAllocator alloc, ChannelEntry channel, ChannelEvent e) {
            throw new IllegalStateException("randomchat connections subscribe to no channel");
        }
    };

    static final Dialect[] ALL = values();

    /** Whether an event reaches its author (a line client does not get its own lines back). */
    final boolean echo;

    Dialect(boolean echo) {
        this.echo = echo;
    }

    /**
     * Returns {@code e} as this dialect's subscribers of {@code channel} receive it, or {@code null}
     * when they do not see it. The caller must release the returned buffer.
     */
    abstract ByteBuf render(ByteBufAllocator alloc, ChannelEntry channel, ChannelEvent e);

    public static Dialect of(int ordinal) {
        if (ordinal < 0 || ordinal >= ALL.length) {
            throw new IllegalArgumentException("dialect " + ordinal);
        }
        return ALL[ordinal];
    }
}
