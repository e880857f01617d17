package io.switchboard.server.internal.dialect.chatroom;

import io.switchboard.protocol.chatroom.ChangeRejected;
import io.switchboard.protocol.chatroom.TopicChange;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.RejectedExecutionException;

/**
 * One action of the 2023 protocol (docs/chatroom.md): changes to several topics applied as one
 * transition, all of them or none. The topics are held one after the other on their owners, in the
 * order of their names ({@link Topic#hold}: a held topic's other work waits, no thread blocks), so two
 * actions over the same topics cannot wait on each other. With all held, the changes are checked
 * in order against the values as the earlier ones left them; if one does not fit, or the node's
 * memory budget does not allow them, nothing changes and the sender gets {@code reject}. Otherwise
 * every change is installed (its version, its update to the subscribers of PROTOCOL.md section 4),
 * each subscriber of the 2023 protocol gets one {@code update} with the changes of its topics and the
 * action's id, and the topics are released.
 *
 * <p>Counted against the sender's tasks in flight ({@link ChatroomSession#taskStarted}), so a client
 * cannot queue actions without bound. Runs on the topics' owners, one after another.
 */
final class Transition {

    /** A change as the client sent it, for a topic. */
    record Step(Topic topic, Map<?, ?> command) {
    }

    private final Chatroom room;
    private final TopicsyncSession sender;
    private final Object actionId;
    private final List<Step> steps;
    /** The topics to hold, by name: the order every action holds them in. */
    private final List<Topic> order;
    private int holding;

    Transition(Chatroom room, TopicsyncSession sender, Object actionId, List<Step> steps) {
        this.room = room;
        this.sender = sender;
        this.actionId = actionId;
        this.steps = new ArrayList<>(steps);
        TreeMap<String, Topic> byName = new TreeMap<>();
        for (Step s : steps) {
            byName.put(s.topic().name, s.topic());
        }
        this.order = new ArrayList<>(byName.values());
    }

    /** Starts on the sender's event loop. */
    void start() {
        sender.taskStarted();
        hold(0);
    }

    private void hold(int i) {
        if (i == order.size()) {
            commit();
            return;
        }
        Topic t = order.get(i);
        t.run(() -> t.hold(ok -> {
            if (ok) {
                holding = i + 1;
                hold(i + 1);
                return;
            }
            Topic successor = room.topicIfPresent(t.name);
            if (successor == null || successor == t) {
                fail("No topic '" + t.name + "': it left the server (add it to " + TopicList.NAME + " again)");
                return;
            }
            order.set(i, successor); // it expired and was created anew: the action goes to the new one
            for (int k = 0; k < steps.size(); k++) {
                if (steps.get(k).topic() == t) {
                    steps.set(k, new Step(successor, steps.get(k).command()));
                }
            }
            hold(i);
        }));
    }

    /** All topics are held: check every change, then install them all or none. On the last topic's owner. */
    private void commit() {
        Map<Topic, Object> values = new IdentityHashMap<>();
        Map<Topic, Long> sizes = new IdentityHashMap<>();
        Map<Topic, Long> costs = new IdentityHashMap<>();
        List<TopicChange.Applied> applied = new ArrayList<>(steps.size());
        for (Step step : steps) {
            Topic t = step.topic();
            Object value = values.containsKey(t) ? values.get(t) : t.value;
            long size = sizes.getOrDefault(t, t.size());
            long cost = costs.getOrDefault(t, t.cost());
            TopicChange.Applied a;
            try {
                Map<String, Object> change = TopicsyncWire.translate(t.name, t.type, value, step.command());
                a = TopicChange.apply(t.type, value, size, cost, change, room.maxValueBytes, room.maxValueCost);
            } catch (ChangeRejected e) {
                fail("Topic '" + t.name + "': " + e.getMessage());
                return;
            }
            values.put(t, a.value());
            sizes.put(t, a.size());
            costs.put(t, a.cost());
            applied.add(a);
        }
        long grows = 0;
        for (Map.Entry<Topic, Long> e : costs.entrySet()) {
            grows += e.getValue() - e.getKey().cost();
        }
        if (!room.reserve(grows)) {
            fail("The server holds its most chatroom data (" + room.maxMemory + " bytes of memory for every "
                    + "topic's value): this action would add about " + grows);
            return;
        }
        Map<TopicsyncSession, List<Map<String, Object>>> updates = new LinkedHashMap<>();
        Map<Topic, ChatroomSession[]> subscribers = new HashMap<>();
        for (int k = 0; k < steps.size(); k++) {
            Topic t = steps.get(k).topic();
            TopicChange.Applied a = applied.get(k);
            long version = t.installHeld(a);
            Map<String, Object> rendered = null;
            for (ChatroomSession s : subscribers.computeIfAbsent(t, x -> x.subscribers)) {
                if (s instanceof TopicsyncSession) {
                    if (rendered == null) {
                        rendered = TopicsyncWire.render(t.name, t.type, a.change(), a.value(), version);
                    }
                    updates.computeIfAbsent((TopicsyncSession) s, x -> new ArrayList<>()).add(rendered);
                }
            }
        }
        for (Map.Entry<TopicsyncSession, List<Map<String, Object>>> e : updates.entrySet()) {
            e.getKey().send(TopicsyncWire.update(room.alloc, e.getValue(), actionId));
        }
        releaseAll();
        done();
    }

    private void fail(String reason) {
        releaseAll();
        room.rejectedUpdates.increment();
        sender.send(TopicsyncWire.reject(room.alloc, reason));
        done();
    }

    private void releaseAll() {
        for (int i = 0; i < holding; i++) {
            Topic t = order.get(i);
            t.run(t::release);
        }
        holding = 0;
    }

    private void done() {
        try {
            sender.loop().execute(sender::ownerTaskDone);
        } catch (RejectedExecutionException e) {
            // the loop is shutting down: nothing is read any more
        }
    }
}
