package io.switchboard.server.internal.dialect.chatroom;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.switchboard.protocol.chatroom.TopicType;

import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code _chatroom/topic_list} of the 2023 protocol (docs/chatroom.md): a dict topic, name to
 * {@code {"type", "is_stateful": true, "boundary_value": null}}, of the topics this node holds, itself
 * and {@code _chatroom/server_status} included. The 2023 client subscribes to it first and sends
 * nothing else until its {@code init} comes; it looks types up in it. The node's topics enter it
 * when they are created (by either protocol) and leave it when they leave the node (idle timeout).
 *
 * <p>Its value is the node's, not a stored topic's: it has no version, and an {@code init} and the
 * {@code add} and {@code pop} updates after it reach each subscriber in the order they were made
 * (all under this object's lock, each sent through the subscriber's event loop). Thread-safe.
 */
final class TopicList {

    static final String NAME = Chatroom.RESERVED + "topic_list";

    private final ByteBufAllocator alloc;
    private final Map<String, String> types = new LinkedHashMap<>();
    private final Set<TopicsyncSession> subscribers = new LinkedHashSet<>();

    TopicList(ByteBufAllocator alloc) {
        this.alloc = alloc;
        types.put(NAME, TopicType.DICT.wireName());
        types.put(Chatroom.SERVER_STATUS, TopicType.STRING.wireName());
    }

    private static Map<String, Object> entry(String type) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("type", type);
        e.put("is_stateful", true);
        e.put("boundary_value", null);
        return e;
    }

    /** Whether the node holds a topic {@code name} (as far as this list knows). */
    synchronized boolean has(String name) {
        return types.containsKey(name);
    }

    /**
     * Topic {@code name} was created with {@code type}: every subscriber gets its {@code add}, under
     * the action that created it ({@code actionId} and the change's {@code changeId}), if one did.
     */
    synchronized void listed(String name, TopicType type, Object actionId, Object changeId) {
        if (types.putIfAbsent(name, type.wireName()) != null) {
            return;
        }
        Map<String, Object> change = new LinkedHashMap<>();
        change.put("topic_name", NAME);
        change.put("topic_type", "dict");
        change.put("type", "add");
        change.put("key", name);
        change.put("value", entry(type.wireName()));
        if (changeId != null) {
            change.put("id", changeId);
        }
        tell(change, actionId);
    }

    /** Topic {@code name} left the node: every subscriber gets its {@code pop}. */
    synchronized void unlisted(String name) {
        if (types.remove(name) == null) {
            return;
        }
        Map<String, Object> change = new LinkedHashMap<>();
        change.put("topic_name", NAME);
        change.put("topic_type", "dict");
        change.put("type", "pop");
        change.put("key", name);
        tell(change, null);
    }

    private void tell(Map<String, Object> change, Object actionId) {
        if (subscribers.isEmpty()) {
            return;
        }
        ByteBuf update = TopicsyncWire.update(alloc, List.of(change),
                actionId != null ? actionId : TopicsyncWire.CHATROOM_ACTION);
        try {
            for (TopicsyncSession s : subscribers) {
                s.send(update.retainedDuplicate());
            }
        } finally {
            update.release();
        }
    }

    /** {@code s} subscribes (again): it gets the list as {@code init}. */
    synchronized void subscribe(TopicsyncSession s) {
        subscribers.add(s);
        Map<String, Object> value = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : types.entrySet()) {
            value.put(e.getKey(), entry(e.getValue()));
        }
        Map<String, Object> args = new LinkedHashMap<>();
        args.put("topic_name", NAME);
        args.put("value", value);
        s.send(TopicsyncWire.message(alloc, "init", args));
    }

    synchronized void unsubscribe(TopicsyncSession s) {
        subscribers.remove(s);
    }

    /** The number of topics listed, for tests. */
    synchronized int size() {
        return types.size();
    }
}
