package io.switchboard.server.internal.dialect.chatroom;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.chatroom.ChatroomEncoder;
import io.switchboard.protocol.chatroom.ChatroomException;
import io.switchboard.protocol.chatroom.ChatroomMessage;
import io.switchboard.protocol.chatroom.TopicType;
import io.switchboard.server.SlowConsumerPolicy;
import io.switchboard.server.internal.session.SessionContext;
import io.switchboard.server.internal.broker.Dialect;
import io.switchboard.server.internal.metrics.Metrics;
import io.switchboard.server.internal.session.WebSocketSession;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One chatroom connection (PROTOCOL.md section 4, seed 003): {@code hello} with its id, then
 * topics and services as the client asks. Errors the protocol has no message for (malformed JSON,
 * unknown types, refused subscriptions and registrations) are written to the client's own topic,
 * {@code _chatroom/client_message/<id>}, as the seed does.
 *
 * <p>A chatroom client must see every version of its topics, so a slow one is closed, never
 * skipped, whatever the node's slow-consumer policy.
 *
 * <p>One instance per connection; it lives on the connection's event loop. {@link #send} may be
 * called from any thread. {@link TopicsyncSession} serves the 2023 client's protocol on the same
 * topics and services: it overrides what is read and how the store's answers are written.
 */
public class ChatroomSession extends WebSocketSession {

    /**
     * Code 3 on the cluster wire. Its connections subscribe to no channel of the shared namespace
     * (the dialect has its own); they are the broker's for their writes and flushes.
     */
    public static final Dialect DIALECT = new Dialect(3, "chatroom", true, null);

    /** The most topic tasks one client may have in flight before reading pauses ({@link #onOwner}). */
    static final int MAX_OUTSTANDING = 64;

    final Chatroom room;
    /**
     * The client's id, asked for when the upgrade is accepted, before the 101 is written: ids follow
     * the order in which the node accepted the upgrades, so a client that connects after another's
     * 101 gets a larger id (issue 20).
     */
    private final CompletableFuture<Long> assignedId;
    /** The client's id, once {@code hello} is sent; 0 before. */
    public long id;
    /** Topics the client subscribed to (as asked). Event loop only. */
    final Set<String> topics = new LinkedHashSet<>();
    /** Services the client provides. Event loop only. */
    final Set<String> services = new LinkedHashSet<>();
    final AtomicInteger pendingRequests = new AtomicInteger();
    private volatile boolean open;
    /** Topic work of this client's handed to the topics' owners and not done yet. Event loop only. */
    private int outstanding;

    public ChatroomSession(SessionContext context, Chatroom room) {
        super(context, DIALECT);
        this.room = room;
        this.assignedId = room.newClientId();
    }

    @Override
    public SlowConsumerPolicy slowConsumerPolicy() {
        return SlowConsumerPolicy.CLOSE;
    }

    @Override
    public String label() {
        return "chatroom client " + id;
    }

    EventLoop loop() {
        return ctx.channel().eventLoop();
    }

    boolean isOpen() {
        return open;
    }

    /** The client's address as {@code 127.0.0.1:port} ({@code [::1]:port}), for the inspection page. */
    String address() {
        SocketAddress remote = ctx.channel().remoteAddress();
        if (remote instanceof InetSocketAddress inet && inet.getAddress() != null) {
            String host = inet.getAddress().getHostAddress();
            return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + inet.getPort();
        }
        return String.valueOf(remote);
    }

    @Override
    public void opened(ChannelHandlerContext ctx) {
        CompletableFuture<Long> next = assignedId;
        if (next.isDone() && !next.isCompletedExceptionally()) {
            start(ctx, next.join());
            return;
        }
        pause(); // in a cluster the id comes from Redis: nothing is served before hello
        next.whenComplete((assigned, failure) -> ctx.executor().execute(() -> {
            if (failure != null) {
                metrics.close(Metrics.Close.CLUSTER_UNAVAILABLE);
                close(ctx, WebSocketCloseStatus.TRY_AGAIN_LATER, "cluster unavailable");
                resume(() -> { });
            } else {
                resume(() -> start(ctx, assigned));
            }
        }));
    }

    private void start(ChannelHandlerContext ctx, long assigned) {
        id = assigned;
        open = true;
        reply(ctx, hello(ctx, id));
        room.connected(this);
    }

    /** The {@code hello} message carrying the client's id; the caller takes ownership. */
    ByteBuf hello(ChannelHandlerContext ctx, long id) {
        return ChatroomEncoder.hello(ctx.alloc(), id);
    }

    /** Sends the rejection of {@code change} (as sent) to {@code topic}. Any thread. */
    void sendRejectUpdate(String topic, Object change, String reason) {
        send(ChatroomEncoder.rejectUpdate(room.alloc, topic, change, reason));
    }

    /** Sends a request for the service {@code service} this client provides. Any thread. */
    public void sendRequest(String service, Object args, long requestId) {
        send(ChatroomEncoder.request(room.alloc, service, args, requestId));
    }

    /** Sends the response to this client's request {@code requestId} ({@code error}: it failed). Any thread. */
    void sendResponse(Object response, Object requestId, String error) {
        send(ChatroomEncoder.response(room.alloc, response, requestId, error));
    }

    @Override
    public void onText(ChannelHandlerContext ctx, ByteBuf payload) {
        if (!open) {
            return;
        }
        ChatroomMessage m;
        try {
            m = room.decoder.decode(payload);
            serve(m);
        } catch (ChatroomException e) {
            room.notice(this, "[error] " + e.getMessage());
        }
    }

    private void serve(ChatroomMessage m) throws ChatroomException {
        switch (m.type()) {
            case "subscribe": {
                String topic = topicName(m);
                Object asked = m.value("type");
                TopicType type = asked == null ? TopicType.GENERIC : asked instanceof String ? TopicType.of((String) asked) : null;
                if (type == null) {
                    throw new ChatroomException("Cannot subscribe to '" + topic + "': unknown topic type " + asked
                            + " (expected: generic, string, int, float, list or dict)");
                }
                room.subscribe(this, topic, type);
                break;
            }
            case "unsubscribe":
                room.unsubscribe(this, topicName(m));
                break;
            case "update":
                room.update(this, m.string("topic_name"), m.required("change"));
                break;
            case "register_service":
                room.registerService(this, m.string("service_name"));
                break;
            case "unregister_service":
                room.unregisterService(this, m.string("service_name"));
                break;
            case "request":
                room.request(this, m.string("service_name"), m.value("args"), m.required("request_id"));
                break;
            case "response":
                room.response(this, m.required("request_id"), m.value("response"));
                break;
            default:
                throw new ChatroomException("Unknown message type '" + m.type() + "' (expected: subscribe, "
                        + "unsubscribe, update, register_service, unregister_service, request or response)");
        }
    }

    String topicName(ChatroomMessage m) throws ChatroomException {
        String topic = m.string("topic_name");
        if (JsonStrings.utf8Length(topic) > config.maxChannelNameBytes()) {
            throw new ChatroomException("Topic names are at most " + config.maxChannelNameBytes() + " bytes");
        }
        return topic;
    }

    @Override
    public void onBinary(ChannelHandlerContext ctx, ByteBuf payload) {
        if (open) {
            room.notice(this, "[error] Binary frames are not supported: send JSON in text frames");
        }
    }

    @Override
    public void onRateLimited(ChannelHandlerContext ctx) {
        if (open) {
            room.notice(this, "[error] Too many messages: at most " + config.maxMessagesPerSecond()
                    + " per second; the message was dropped");
        }
    }

    @Override
    public void closed(ChannelHandlerContext ctx) {
        if (open) {
            open = false;
            room.disconnected(this);
        }
    }

    /**
     * Runs {@code task}, work this client asked of {@code topic}, on the topic's owner. At most
     * {@link #MAX_OUTSTANDING} are in flight: past that nothing more is read from the connection
     * until they are done, so what is answered from another thread (a snapshot, a rejection) is
     * bounded like a reply; the answers are queued to this loop before the task counts as done.
     * Event loop only.
     */
    void onOwner(Topic topic, Runnable task) {
        taskStarted();
        topic.run(() -> {
            try {
                task.run();
            } finally {
                try {
                    loop().execute(this::ownerTaskDone);
                } catch (RejectedExecutionException e) {
                    // the loop is shutting down: nothing is read any more
                }
            }
        });
    }

    /**
     * Counts one more task of this client's in flight on the topics' owners (against
     * {@link #MAX_OUTSTANDING}; the one that reaches it stops reading, counted in
     * {@link Chatroom#readPauses}); {@link #ownerTaskDone} on this loop ends it. Event loop only.
     */
    void taskStarted() {
        if (++outstanding == MAX_OUTSTANDING) {
            room.readPauses.increment();
            backpressure.holdReads();
        }
    }

    /** Ends a task counted by {@link #taskStarted}. Event loop only. */
    void ownerTaskDone() {
        if (outstanding-- == MAX_OUTSTANDING) {
            backpressure.releaseReads();
        }
    }

    /**
     * Writes {@code payload} (a chatroom message) to the client from any thread, after what its
     * event loop has queued; takes ownership of it. Dropped once the connection is closing.
     */
    public void send(ByteBuf payload) {
        EventLoop loop = loop();
        if (loop.inEventLoop()) {
            write(payload);
            return;
        }
        try {
            loop.execute(() -> write(payload));
        } catch (RejectedExecutionException e) {
            payload.release();
        }
    }

    private void write(ByteBuf payload) {
        if (connection.closing || !ctx.channel().isActive()) {
            payload.release();
            return;
        }
        ctx.write(new TextWebSocketFrame(payload), ctx.voidPromise());
        connection.loop.flushLater(connection);
    }
}
