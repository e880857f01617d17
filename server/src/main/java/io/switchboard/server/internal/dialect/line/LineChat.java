package io.switchboard.server.internal.dialect.line;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.switchboard.protocol.line.LineMessages;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * The line clients of this node (PROTOCOL.md section 3): how many there are, against
 * {@code LINE_MAX_CLIENTS}, and the chat's shutdown. Thread-safe.
 */
public final class LineChat {

    private final int maxClients;
    private final AtomicInteger clients = new AtomicInteger();
    private final ChannelGroup members = new DefaultChannelGroup("line", GlobalEventExecutor.INSTANCE);

    public LineChat(int maxClients) {
        this.maxClients = maxClients;
    }

    int maxClients() {
        return maxClients;
    }

    /** Admits {@code ch}; returns the number of clients with it, or 0 when the chat is full. */
    int join(Channel ch) {
        int n = clients.incrementAndGet();
        if (n > maxClients) {
            clients.decrementAndGet();
            return 0;
        }
        members.add(ch);
        return n;
    }

    /** Notes that an admitted client left. */
    void leave() {
        clients.decrementAndGet();
    }

    /** Tells every line client of this node that the chat is shut down, and disconnects them. */
    void shutdown() {
        for (Channel ch : members) {
            ch.eventLoop().execute(() -> {
                LineSession session = ch.pipeline().get(LineSession.class);
                if (session != null) {
                    session.shutDown();
                } else {
                    ch.close();
                }
            });
        }
    }

    /** Says the shutdown line and closes; for one client, from its event loop. */
    static void sayShutdownAndClose(Channel ch) {
        ch.writeAndFlush(LineMessages.encode(ch.alloc(), LineMessages.shutdown()))
                .addListener(ChannelFutureListener.CLOSE);
    }
}
