package io.switchboard.server.internal.dialect.disposable;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.switchboard.protocol.disposable.DisposableDecoder;
import io.switchboard.protocol.disposable.DisposableEncoder;
import io.switchboard.protocol.disposable.DisposableException;
import io.switchboard.server.ChannelAuthorizer;
import io.switchboard.server.HandshakeRequest;
import io.switchboard.server.Identity;
import io.switchboard.server.internal.session.SessionContext;
import io.switchboard.server.internal.broker.ChannelEntry;
import io.switchboard.server.internal.broker.ChannelEvent;
import io.switchboard.server.internal.broker.Dialect;
import io.switchboard.server.internal.broker.RosterMember;
import io.switchboard.server.internal.broker.Subscription;
import io.switchboard.server.internal.metrics.Metrics;
import io.switchboard.server.internal.session.WebSocketSession;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * One disposable connection (PROTOCOL.md section 2, wire-compatible with disposable-chat-server):
 * a member of one room, which is a channel of the shared namespace. On connect it gets
 * {@code welcome} with the room's members (on every node), and the room gets {@code info}
 * "registered"; each {@code {"text": ...}} it sends is a message to the room; when it leaves, the
 * room gets {@code info} "unregistered".
 *
 * <p>One instance per connection; it lives on the connection's event loop and is not thread-safe.
 */
public final class DisposableSession extends WebSocketSession {

    private final DisposableDecoder decoder;
    private final ChannelAuthorizer authorizer;
    private final HandshakeRequest handshake;
    private final Identity identity;
    private final String room;
    private final RosterMember self;
    private Subscription subscription;

    public DisposableSession(SessionContext context, DisposableDecoder decoder, ChannelAuthorizer authorizer,
                             String name, String room, HandshakeRequest handshake) {
        this(context, decoder, authorizer, name, room, handshake, Identity.ANONYMOUS);
    }

    /**
     * @param name     the client's name: the identity's, when it has one
     * @param identity what the connection authorizer found; its expiry ends the connection (the
     *                 disposable wire format has no refresh: a client reconnects with a new token)
     */
    public DisposableSession(SessionContext context, DisposableDecoder decoder, ChannelAuthorizer authorizer,
                             String name, String room, HandshakeRequest handshake, Identity identity) {
        super(context, DisposableDialect.DIALECT);
        this.identity = identity;
        expireAt(identity.expiresAt());
        this.decoder = decoder;
        this.authorizer = authorizer;
        this.handshake = handshake;
        this.room = room;
        this.self = RosterMember.of(UUID.randomUUID().toString(), name, DisposableDialect.DIALECT);
    }

    @Override
    public String label() {
        return self.name() + " (" + self.id() + ") in " + room;
    }

    @Override
    public void opened(ChannelHandlerContext ctx) {
        CompletableFuture<List<RosterMember>> remote = broker.cluster().remoteMembers(room);
        if (remote.isDone()) {
            join(ctx, remote.getNow(List.of()));
            return;
        }
        // In a cluster, the welcome lists the members on the other nodes too: read them first.
        pause();
        remote.whenComplete((members, failure) -> ctx.executor().execute(
                () -> resume(() -> join(ctx, members))));
    }

    /**
     * Joins the room and welcomes the client with the room's disposable members, itself included, on
     * this node and on the others ({@code remote}, {@code null} when they could not be read). The
     * welcome is written in the same task as the subscribe, so it goes out before any delivery to the
     * room can, and before the room hears of the join.
     */
    private void join(ChannelHandlerContext ctx, List<RosterMember> remote) {
        subscription = broker.subscribe(connection, room).subscription();
        ChannelEntry entry = subscription.entry();
        List<DisposableEncoder.Member> members = new ArrayList<>();
        for (RosterMember m : entry.roster.values()) {
            if (m.dialect() == DisposableDialect.DIALECT) {
                members.add(welcomed(m));
            }
        }
        members.add(welcomed(self));
        for (RosterMember m : remote == null ? List.<RosterMember>of() : remote) {
            if (m.dialect() == DisposableDialect.DIALECT && !entry.roster.containsKey(m.id())) {
                members.add(welcomed(m));
            }
        }
        reply(ctx, DisposableEncoder.welcome(ctx.alloc(), entry.quotedName(), members));
        broker.join(subscription, self);
    }

    @Override
    public void onText(ChannelHandlerContext ctx, ByteBuf payload) {
        if (subscription == null) {
            return; // not in the room (yet): reading is paused until the welcome
        }
        String text;
        try {
            text = decoder.decode(payload);
        } catch (DisposableException e) {
            metrics.disposableError(switch (e.kind()) {
                case EMPTY -> Metrics.DisposableError.EMPTY;
                case TOO_LONG -> Metrics.DisposableError.TOO_LONG;
                case INVALID -> Metrics.DisposableError.INVALID;
                case NOT_UNICODE -> Metrics.DisposableError.NOT_UNICODE;
            });
            reply(ctx, DisposableEncoder.error(ctx.alloc(), e.getMessage()));
            return;
        }
        String refusal = authorizer.authorize(ChannelAuthorizer.Operation.PUBLISH, room, self.name(), handshake,
                identity);
        if (refusal != null) {
            metrics.disposableError(Metrics.DisposableError.FORBIDDEN);
            reply(ctx, DisposableEncoder.error(ctx.alloc(), refusal));
            return;
        }
        ChannelEvent message = ChannelEvent.text(DisposableDialect.DIALECT, self.id(), self.name(), text, connection);
        broker.publish(connection.loop, subscription.entry(), message);
        broker.forward(room, message);
    }

    @Override
    public void onBinary(ChannelHandlerContext ctx, ByteBuf payload) {
        metrics.disposableError(Metrics.DisposableError.BINARY);
        reply(ctx, DisposableEncoder.error(ctx.alloc(),
                "Binary frames are not supported: send {\"text\": \"...\"} in a text frame"));
    }

    @Override
    public void onRateLimited(ChannelHandlerContext ctx) {
        metrics.disposableError(Metrics.DisposableError.RATE_LIMITED);
        reply(ctx, DisposableEncoder.error(ctx.alloc(),
                "Too many messages: at most " + config.maxMessagesPerSecond() + " per second"));
    }

    @Override
    public void closed(ChannelHandlerContext ctx) {
        if (subscription == null) {
            return;
        }
        broker.leave(subscription, self, ChannelEvent.Kind.LEFT);
        subscription = null;
    }

    /** A member as {@code welcome} lists it. */
    private static DisposableEncoder.Member welcomed(RosterMember m) {
        return new DisposableEncoder.Member() {
            @Override
            public byte[] quotedId() {
                return m.quotedId();
            }

            @Override
            public byte[] quotedName() {
                return m.quotedName();
            }
        };
    }
}
