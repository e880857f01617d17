package io.switchboard.server.internal.dialect.chatroom;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.chatroom.ChangeRejected;
import io.switchboard.protocol.chatroom.ChatroomException;
import io.switchboard.protocol.chatroom.ChatroomMessage;
import io.switchboard.protocol.chatroom.TopicChange;
import io.switchboard.protocol.chatroom.TopicType;
import io.switchboard.server.internal.session.SessionContext;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One connection of the 2023 ChatRoom client ({@code chatroom-client} 0.5.3, docs/chatroom.md "The
 * 2023 client's protocol"), at {@link TopicsyncEndpoint#PATH}: {@code {"type", "args"}} messages,
 * {@code init} snapshots, {@code action}s of several changes applied as one {@link Transition},
 * {@code reject}, and {@code _chatroom/topic_list}. It shares the topics, services, ids, limits and
 * special topics of PROTOCOL.md section 4 with the clients of {@code /chatroom}.
 *
 * <p>Errors that are not an action's go, as in section 4, to the client's own
 * {@code _chatroom/client_message/<id>} (a {@code reject} would make the client undo its pending
 * actions; a message type it does not know would make it throw). An action that cannot apply, for
 * whatever reason, is answered {@code reject {reason}}. Event loop only, but {@link #send}.
 */
public final class TopicsyncSession extends ChatroomSession {

    /** {@code _chatroom/pretended_topics}: each client's own, never shared; changed by actions of their own. */
    static final String PRETENDED = Chatroom.RESERVED + "pretended_topics";

    /** The client's {@code _chatroom/pretended_topics} (a dict it alone changes). Event loop only. */
    private Object pretended = new LinkedHashMap<String, Object>();
    private long pretendedSize = -1;
    private long pretendedCost = -1;

    public TopicsyncSession(SessionContext context, Chatroom room) {
        super(context, room);
    }

    @Override
    public String label() {
        return "topicsync client " + id;
    }

    @Override
    ByteBuf hello(ChannelHandlerContext ctx, long id) {
        return TopicsyncWire.hello(ctx.alloc(), id);
    }

    @Override
    void sendRejectUpdate(String topic, Object change, String reason) {
        send(TopicsyncWire.reject(room.alloc, reason));
    }

    @Override
    public void sendRequest(String service, Object args, long requestId) {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("service_name", service);
        a.put("args", args);
        a.put("request_id", requestId);
        send(TopicsyncWire.message(room.alloc, "request", a));
    }

    @Override
    void sendResponse(Object response, Object requestId, String error) {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("response", error == null ? response : null);
        a.put("request_id", requestId);
        if (error != null) {
            a.put("error", error);
        }
        send(TopicsyncWire.message(room.alloc, "response", a));
    }

    @Override
    public void onText(ChannelHandlerContext ctx, ByteBuf payload) {
        if (!isOpen()) {
            return;
        }
        ChatroomMessage m;
        try {
            m = room.topicsyncWire.decode(payload);
        } catch (ChatroomException e) {
            room.notice(this, "[error] " + e.getMessage());
            return;
        }
        if (m.type().equals("action")) {
            try {
                action(m);
            } catch (ChangeRejected e) {
                room.rejectedUpdates.increment();
                send(TopicsyncWire.reject(room.alloc, e.getMessage()));
            }
            return;
        }
        try {
            serve(m);
        } catch (ChatroomException e) {
            // the fields are checked as section 4's, whose messages call them the content
            room.notice(this, "[error] " + e.getMessage().replace(" in its content", " in its args"));
        }
    }

    private void serve(ChatroomMessage m) throws ChatroomException {
        switch (m.type()) {
            case "subscribe": {
                String topic = topicName(m);
                if (topic.equals(TopicList.NAME)) {
                    room.topicList.subscribe(this);
                } else {
                    room.subscribeExisting(this, topic);
                }
                break;
            }
            case "unsubscribe": {
                String topic = topicName(m);
                if (topic.equals(TopicList.NAME)) {
                    room.topicList.unsubscribe(this);
                } else {
                    room.unsubscribe(this, topic);
                }
                break;
            }
            case "request":
                room.request(this, m.string("service_name"), m.value("args"), m.required("request_id"));
                break;
            case "response":
                room.response(this, m.required("request_id"), m.value("response"));
                break;
            default:
                throw new ChatroomException("Unknown message type '" + m.type() + "' (expected: subscribe, "
                        + "unsubscribe, action, request or response)");
        }
    }

    /**
     * {@code action {commands, action_id}}: creations of topics ({@code add} to
     * {@code _chatroom/topic_list}) at once, then the changes of topics as one {@link Transition};
     * changes of {@code _chatroom/pretended_topics} (an action of their own) only echoed back.
     *
     * @throws ChangeRejected what the {@code reject} says
     */
    private void action(ChatroomMessage m) throws ChangeRejected {
        Object commands = m.value("commands");
        if (!(commands instanceof List)) {
            throw new ChangeRejected("'action' needs \"commands\", a list of changes");
        }
        if (!m.has("action_id")) {
            throw new ChangeRejected("'action' needs \"action_id\"");
        }
        Object actionId = m.value("action_id");
        List<Map<?, ?>> creations = new ArrayList<>();
        List<Map<?, ?>> pretend = new ArrayList<>();
        List<Transition.Step> steps = new ArrayList<>();
        Set<String> created = new HashSet<>();
        for (Object c : (List<?>) commands) {
            if (!(c instanceof Map) || !(((Map<?, ?>) c).get("topic_name") instanceof String)) {
                throw new ChangeRejected("A change must be an object with a \"topic_name\" and a \"type\"");
            }
            Map<?, ?> command = (Map<?, ?>) c;
            String topic = (String) command.get("topic_name");
            if (topic.equals(TopicList.NAME)) {
                String name = creation(command);
                if (!created.add(name)) {
                    throw new ChangeRejected("Topic '" + name + "' is added twice");
                }
                creations.add(command);
            } else if (topic.equals(PRETENDED)) {
                pretend.add(command);
            } else if (topic.startsWith(Chatroom.RESERVED)) {
                throw new ChangeRejected("'" + topic + "' is written by the server only");
            } else {
                Topic t = room.topicIfPresent(topic);
                if (t == null && !created.contains(topic)) {
                    throw new ChangeRejected("No topic '" + topic + "' (add it to " + TopicList.NAME + " first)");
                }
                steps.add(new Transition.Step(t, command)); // a topic created by this action: looked up below
            }
        }
        if (!pretend.isEmpty()) {
            if (!creations.isEmpty() || !steps.isEmpty()) {
                throw new ChangeRejected("Changes of " + PRETENDED + " are each client's own: they cannot share an "
                        + "action with changes of shared topics");
            }
            pretend(pretend, actionId);
            return;
        }
        for (Map<?, ?> c : creations) {
            Map<?, ?> props = (Map<?, ?>) c.get("value");
            String name = (String) c.get("key");
            if (room.topicIfPresent(name) != null) {
                throw new ChangeRejected("Topic '" + name + "' exists already");
            }
            TopicType type = TopicType.of((String) props.get("type"));
            if (room.topic(name, type, loop(), actionId, c.get("id")) == null) {
                throw new ChangeRejected("Cannot add topic '" + name + "': this server holds its most topics ("
                        + config.chatroomMaxTopics() + ")");
            }
            Object boundary = props.get("boundary_value");
            if (boundary != null) {
                Map<String, Object> set = new LinkedHashMap<>();
                set.put("topic_name", name);
                set.put("type", "set");
                set.put("value", boundary);
                steps.add(0, new Transition.Step(null, set));
            }
        }
        if (steps.isEmpty()) {
            return;
        }
        List<Transition.Step> resolved = new ArrayList<>(steps.size());
        for (Transition.Step s : steps) {
            Topic t = s.topic() != null ? s.topic() : room.topicIfPresent((String) s.command().get("topic_name"));
            if (t == null) {
                throw new ChangeRejected("Topic '" + s.command().get("topic_name") + "' left the server at once");
            }
            resolved.add(new Transition.Step(t, s.command()));
        }
        new Transition(room, this, actionId, resolved).start();
    }

    /** The topic an {@code add} to {@code _chatroom/topic_list} creates, checked. */
    private String creation(Map<?, ?> command) throws ChangeRejected {
        if (!"add".equals(command.get("type"))) {
            throw new ChangeRejected(TopicList.NAME + " takes only 'add' (a topic leaves the server when it has had no "
                    + "subscriber for a while), not " + command.get("type"));
        }
        Object key = command.get("key");
        if (!(key instanceof String) || ((String) key).isEmpty()) {
            throw new ChangeRejected("An 'add' to " + TopicList.NAME + " needs the topic's name as \"key\"");
        }
        String name = (String) key;
        if (name.startsWith(Chatroom.RESERVED)) {
            throw new ChangeRejected("Cannot add topic '" + name + "': names starting with " + Chatroom.RESERVED
                    + " are reserved");
        }
        if (JsonStrings.utf8Length(name) > config.maxChannelNameBytes()) {
            throw new ChangeRejected("Topic names are at most " + config.maxChannelNameBytes() + " bytes");
        }
        Object props = command.get("value");
        Object type = props instanceof Map ? ((Map<?, ?>) props).get("type") : null;
        if (!(type instanceof String) || TopicType.of((String) type) == null) {
            throw new ChangeRejected("Cannot add topic '" + name + "': its \"value\" needs a \"type\": generic, string, "
                    + "int, float, list or dict (set and event topics are not served)");
        }
        return name;
    }

    /** Changes of the client's own {@code _chatroom/pretended_topics}: applied to its copy and echoed to it alone. */
    private void pretend(List<Map<?, ?>> commands, Object actionId) throws ChangeRejected {
        Object value = pretended;
        long size = pretendedSize;
        long cost = pretendedCost;
        List<Map<String, Object>> rendered = new ArrayList<>();
        for (Map<?, ?> command : commands) {
            Map<String, Object> change = TopicsyncWire.translate(PRETENDED, TopicType.DICT, value, command);
            TopicChange.Applied a = TopicChange.apply(TopicType.DICT, value, size, cost, change, room.maxValueBytes,
                    room.maxValueCost);
            value = a.value();
            size = a.size();
            cost = a.cost();
            rendered.add(TopicsyncWire.render(PRETENDED, TopicType.DICT, a.change(), value, 0));
        }
        pretended = value;
        pretendedSize = size;
        pretendedCost = cost;
        send(TopicsyncWire.update(room.alloc, rendered, actionId));
    }

    @Override
    public void closed(ChannelHandlerContext ctx) {
        room.topicList.unsubscribe(this);
        super.closed(ctx);
    }
}
