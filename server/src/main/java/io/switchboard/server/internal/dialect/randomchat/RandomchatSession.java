package io.switchboard.server.internal.dialect.randomchat;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.switchboard.protocol.randomchat.RandomchatEncoder;
import io.switchboard.protocol.randomchat.RandomchatException;
import io.switchboard.protocol.randomchat.RandomchatRequest;
import io.switchboard.server.internal.session.SessionContext;
import io.switchboard.server.internal.broker.Dialect;
import io.switchboard.server.internal.session.WebSocketSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;

/**
 * One randomchat connection (PROTOCOL.md section 5): a user after its {@code register}, whose
 * requests go to the {@link RandomchatStore} one at a time (reading pauses until the store
 * answers, so replies keep request order and a client cannot queue unbounded work), and which
 * receives its chats' events from the {@link RandomchatHub}.
 *
 * <p>A message counts as delivered once it is written to the connection's socket, and the store is
 * told so ({@link RandomchatStore#delivered}: until then it is in flight, and a crash leaves it
 * pending for the user). One that cannot be written (the connection closed, or was cut off as a slow
 * consumer) is handed back with the logout, and kept for the user unless another of its connections
 * is open; so is a {@code state} that could not be written. Events that arrive while the login is
 * under way wait until the {@code state} is out.
 *
 * <p>One instance per connection; it lives on the connection's event loop and is not thread-safe.
 * Events reach it through the broker's {@code Fanout}, on its loop ({@link #receive}).
 */
public final class RandomchatSession extends WebSocketSession {

    /**
     * Code 4 on the cluster wire. Its connections subscribe to no channel of the shared namespace
     * (the dialect has its own); they are the broker's for their writes and flushes.
     */
    public static final Dialect DIALECT = new Dialect(4, "randomchat", true, null);

    private static final Logger logger = LoggerFactory.getLogger(RandomchatSession.class);

    /** An event waiting for the {@code state}: a complete frame and, for a message, what to keep if it is lost. */
    private record Waiting(ByteBuf frame, RandomchatStore.Pending message) {
    }

    private final RandomchatHub hub;
    private final RandomchatStore store;
    /** The user's phone from its {@code register} on; {@code null} before, or after a refused login. */
    private String phone;
    /** This connection in the store, once logged in. */
    private long loginNumber;
    private boolean loggingIn;
    /** The {@code state} is written: events go straight out. */
    private boolean loggedIn;
    /** The connection is gone and its logout handed to the store. */
    private boolean closed;
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    /**
     * The numbers of the latest messages written to the socket, for the logout: a message another
     * connection of the user hands back is not kept when this one delivered it.
     */
    private final ArrayDeque<Long> delivered = new ArrayDeque<>();
    private static final int MAX_DELIVERED = 1024;
    /** Messages that did not reach this connection, a {@code state}'s included. */
    private final List<RandomchatStore.Pending> missed = new ArrayList<>();
    /**
     * The ids of messages written to the socket that the store has not been told of yet: told in
     * one operation per turn of the event loop, and always before this connection's next request or
     * its logout, so that the store never counts a written message as still in flight then.
     */
    private List<Long> written = new ArrayList<>();

    public RandomchatSession(SessionContext context, RandomchatHub hub) {
        super(context, DIALECT);
        this.hub = hub;
        this.store = hub.store();
    }

    @Override
    public String label() {
        return phone == null ? "randomchat (not registered)" : "randomchat user " + phone;
    }

    @Override
    public void opened(ChannelHandlerContext ctx) {
        // The seed's server says nothing until the client registers.
    }

    @Override
    public void onText(ChannelHandlerContext ctx, ByteBuf payload) {
        RandomchatRequest request;
        try {
            request = hub.decoder().decode(payload);
        } catch (RandomchatException e) {
            reply(ctx, RandomchatEncoder.error(ctx.alloc(), e.getMessage(), e.request()));
            return;
        }
        String type = request.type().wireName();
        if (request.type() == RandomchatRequest.Type.REGISTER) {
            if (phone != null) {
                reply(ctx, RandomchatEncoder.error(ctx.alloc(), "This connection is already registered as '" + phone
                        + "': open another connection to register another user", type));
                return;
            }
            login(ctx, request);
            return;
        }
        if (phone == null) {
            reply(ctx, RandomchatEncoder.error(ctx.alloc(), "Register first: {\"type\":\"register\",\"user\":"
                    + "{\"name\":\"...\",\"phone\":\"...\"}}", type));
            return;
        }
        long now = System.currentTimeMillis();
        tellDelivered();
        CompletableFuture<RandomchatStore.Outcome> operation;
        switch (request.type()) {
            case CREATE_CHAT:
                operation = store.createChat(phone, request.chat());
                break;
            case SEND_MESSAGE:
                operation = store.sendMessage(phone, request.chat(), request.message(), now);
                break;
            case DELETE_CHAT:
                operation = store.deleteChat(phone, request.chat());
                break;
            case ADD_MEMBER:
                operation = store.addMember(phone, request.chat(), request.phone());
                break;
            case REMOVE_MEMBER:
                operation = store.removeMember(phone, request.chat(), request.phone());
                break;
            default:
                throw new IllegalStateException("Unhandled request type: " + request.type());
        }
        // The answer is the event itself, which every member gets, the requester included; only a
        // refusal is answered to the requester alone.
        pause();
        hub.dispatch(operation).whenComplete((outcome, failure) -> onLoop(ctx, () -> resume(() -> {
            if (failure != null) {
                reply(ctx, RandomchatEncoder.error(ctx.alloc(), refusal(failure), type));
            }
        })));
    }

    private void login(ChannelHandlerContext ctx, RandomchatRequest request) {
        phone = request.phone();
        loggingIn = true;
        // The hub's fan-outs hand this connection its events through receive, not the plain write.
        connection.receiver(this::receive);
        // Registered first, so that an event routed here once the store counts this connection finds it.
        hub.register(phone, this);
        pause();
        store.login(request.name(), request.phone(), request.token(), System.currentTimeMillis())
                .whenComplete((login, failure) -> onLoop(ctx, () -> loggedIn(ctx, login, failure)));
    }

    private void loggedIn(ChannelHandlerContext ctx, RandomchatStore.Login login, Throwable failure) {
        loggingIn = false;
        if (failure != null) {
            drop(waiting);
            hub.unregister(phone, this);
            phone = null;
            resume(() -> reply(ctx, RandomchatEncoder.error(ctx.alloc(), refusal(failure),
                    RandomchatRequest.Type.REGISTER.wireName())));
            return;
        }
        loginNumber = login.connection();
        if (closed) {
            // The connection went while the store logged it in: count it out again.
            withdrawToken(login);
            login.taken().forEach(m -> missed.add(m.notRouted()));
            logout();
            return;
        }
        logger.debug("{} logged in as {}", ctx.channel(), phone);
        loggedIn = true;
        if (connection.closing) {
            // A close frame is out (RFC 6455 section 5.5.1: nothing follows it): the state is handed back.
            withdrawToken(login);
            login.taken().forEach(m -> missed(m.notRouted()));
        } else {
            ctx.write(new TextWebSocketFrame(RandomchatEncoder.state(ctx.alloc(), login.chats(), login.token())))
                    .addListener((ChannelFutureListener) f -> {
                        if (!f.isSuccess()) {
                            withdrawToken(login);
                            login.taken().forEach(m -> missed(m.notRouted()));
                        } else {
                            login.taken().forEach(m -> written(m.id()));
                        }
                    });
        }
        for (Waiting w = waiting.poll(); w != null; w = waiting.poll()) {
            if (w.message() != null && w.message().seq() < loginNumber) {
                // Routed before the store counted this connection: if the user was offline it is in
                // the state; if another connection was online, that one owns it (and hands it back
                // to this one, later than its login, should it not get through).
                w.frame().release();
                continue;
            }
            try {
                write(w.frame(), w.message());
            } finally {
                w.frame().release();
            }
        }
        resume(() -> { });
    }

    /** A first registration's state (with the new token) was not written: the client never got the token. */
    private void withdrawToken(RandomchatStore.Login login) {
        if (login.token() == null) {
            return;
        }
        String user = phone;
        store.withdrawToken(user, login.token()).whenComplete((ignored, failure) -> {
            if (failure != null) {
                logger.warn("randomchat: could not withdraw the undelivered token of {}: {}", user, failure.toString());
            }
        });
    }

    /**
     * Takes an event the hub's fan-out brings, on the event loop: {@code frame} is a complete WebSocket
     * text frame, {@code tag} the {@link RandomchatStore.Pending} message to keep for the user should
     * it not get through (or {@code null} for a notification). Returns whether it was written now.
     * Does not take ownership of {@code frame}.
     */
    private boolean receive(ByteBuf frame, Object tag) {
        RandomchatStore.Pending message = (RandomchatStore.Pending) tag;
        if (!loggedIn && !closed) {
            waiting.add(new Waiting(frame.retainedDuplicate(), message));
            return false;
        }
        return write(frame, message);
    }

    /**
     * Writes an event now, or notes what it carried as missed; returns whether it was written. Does not
     * take ownership of {@code frame}.
     */
    private boolean write(ByteBuf frame, RandomchatStore.Pending message) {
        boolean written;
        if (message == null) {
            written = !closed && ctx.channel().isActive() && connection.deliver(frame);
        } else {
            // A message counts as delivered once it is out: one still queued when the connection
            // closes (a slow consumer, a ping timeout) is handed back. The fan-out carries no promise:
            // this recipient makes its own, here on its loop.
            ChannelPromise promise = ctx.newPromise();
            written = !closed && ctx.channel().isActive() && connection.deliver(frame, promise);
            if (written) {
                promise.addListener((ChannelFutureListener) f -> {
                    if (!f.isSuccess()) {
                        missed(message);
                        return;
                    }
                    written(message.id());
                    if (message.seq() != RandomchatStore.Pending.NOT_ROUTED) {
                        if (delivered.size() == MAX_DELIVERED) {
                            delivered.poll();
                        }
                        delivered.add(message.seq());
                    }
                });
            }
        }
        if (!written) {
            missed(message);
        }
        return written;
    }

    /** Notes a message written to the socket, for the store to hear of within this turn of the loop. */
    private void written(long id) {
        written.add(id);
        if (written.size() == 1) {
            try {
                ctx.executor().execute(this::tellDelivered);
            } catch (RejectedExecutionException e) {
                tellDelivered(); // the loop is shutting down: tell the store now
            }
        }
    }

    /** Tells the store which messages this connection wrote since it last did. */
    private void tellDelivered() {
        if (written.isEmpty() || phone == null) {
            return;
        }
        List<Long> ids = written;
        written = new ArrayList<>();
        String user = phone;
        store.delivered(user, ids).whenComplete((ignored, failure) -> {
            if (failure != null) {
                // Still in flight in the store: the user's next state after it is offline carries them again.
                logger.warn("randomchat: could not record {} messages delivered to {}: {}", ids.size(), user,
                        failure.toString());
            }
        });
    }

    private void missed(RandomchatStore.Pending message) {
        if (message == null) {
            return;
        }
        if (closed) {
            hub.requeue(phone, message);
        } else {
            missed.add(message);
        }
    }

    @Override
    public void onBinary(ChannelHandlerContext ctx, ByteBuf payload) {
        reply(ctx, RandomchatEncoder.error(ctx.alloc(),
                "Binary frames are not supported: send requests as JSON text frames", null));
    }

    @Override
    public void onRateLimited(ChannelHandlerContext ctx) {
        reply(ctx, RandomchatEncoder.error(ctx.alloc(),
                "Too many messages: at most " + config.maxMessagesPerSecond() + " per second", null));
    }

    @Override
    public void closed(ChannelHandlerContext ctx) {
        closed = true;
        if (phone == null || loggingIn) {
            return; // never logged in, or the login's answer will count the connection out
        }
        logout();
    }

    /** Counts this connection out in the store, then stops routing events to it. */
    private void logout() {
        tellDelivered(); // before the logout, which makes what is still in flight pending
        for (Waiting w = waiting.poll(); w != null; w = waiting.poll()) {
            w.frame().release();
            if (w.message() != null) {
                missed.add(w.message());
            }
        }
        hub.logout(phone, loginNumber, this, List.copyOf(missed), List.copyOf(delivered));
        missed.clear();
        delivered.clear();
    }

    private static void drop(ArrayDeque<Waiting> events) {
        for (Waiting w = events.poll(); w != null; w = events.poll()) {
            w.frame().release();
        }
    }

    /** Runs {@code task} on the connection's event loop; nothing to do once the loop is shut down. */
    private static void onLoop(ChannelHandlerContext ctx, Runnable task) {
        try {
            ctx.executor().execute(task);
        } catch (RejectedExecutionException e) {
            logger.debug("{} dropped a store answer: its event loop is shut down", ctx.channel());
        }
    }

    /** What the client is told of a failed operation; a refusal by a per-user limit is counted. */
    private String refusal(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        if (cause instanceof RandomchatRefusal) {
            RandomchatRefusal refusal = (RandomchatRefusal) cause;
            if (refusal.limit != null) {
                metrics.randomchatLimit(refusal.limit);
            }
            return cause.getMessage();
        }
        logger.warn("randomchat: a store operation failed: {}", cause.toString());
        return RandomchatRefusal.unavailable().getMessage();
    }
}
