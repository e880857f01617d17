package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.RawClient;
import io.switchboard.server.testing.RedisProcess;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The 2023 ChatRoom client's protocol at {@code /topicsync} (docs/chatroom.md), frame for frame as
 * {@code chatroom-client} 0.5.3 (eri24816/topicsync-client at 3898b58) sends and reads them: its
 * messages are {@code JSON.stringify({type, args})}, its change ids {@code <client id>_<n>}. The JDK's
 * WebSocket client over loopback, a node of its own per test (ids start at 1).
 */
@Timeout(60)
class TopicsyncIT {

    private static final String LIST_ENTRY = "{\"type\":\"list\",\"is_stateful\":true,\"boundary_value\":null}";
    private static final String DICT_ENTRY = "{\"type\":\"dict\",\"is_stateful\":true,\"boundary_value\":null}";
    private static final String INT_ENTRY = "{\"type\":\"int\",\"is_stateful\":true,\"boundary_value\":null}";
    private static final String EMPTY_LIST = "{\"type\":\"init\",\"args\":{\"topic_name\":\"_chatroom/topic_list\","
            + "\"value\":{\"_chatroom/topic_list\":" + DICT_ENTRY + ",\"_chatroom/server_status\":"
            + "{\"type\":\"string\",\"is_stateful\":true,\"boundary_value\":null}}}}";

    private SwitchboardServer server;

    @BeforeEach
    void start() {
        server = Requests.startOnLoopback(SwitchboardConfig.builder().chatroomMaxValueBytes(64));
    }

    @AfterEach
    void stop() {
        server.stop().join();
    }

    private JdkClient connect(String path) {
        return JdkClient.connect(URI.create("ws://127.0.0.1:" + server.localAddress().getPort() + path));
    }

    /** Connects as the 2023 client does: hello, then subscribe to the topic list and read its init. */
    private JdkClient client(long id) {
        JdkClient c = connect("/topicsync");
        assertEquals("{\"type\":\"hello\",\"args\":{\"id\":" + id + "}}", c.next());
        c.send(msg("subscribe", "{\"topic_name\":\"_chatroom/topic_list\"}"));
        assertTrue(c.next().startsWith("{\"type\":\"init\",\"args\":{\"topic_name\":\"_chatroom/topic_list\""));
        return c;
    }

    private static String msg(String type, String args) {
        return "{\"type\":\"" + type + "\",\"args\":" + args + "}";
    }

    private static String action(String actionId, String... changes) {
        return msg("action", "{\"commands\":[" + String.join(",", changes) + "],\"action_id\":\"" + actionId + "\"}");
    }

    private static String update(String actionId, String... changes) {
        return msg("update", "{\"changes\":[" + String.join(",", changes) + "],\"action_id\":\"" + actionId + "\"}");
    }

    private static String addTopic(String name, String entry, String id) {
        return "{\"topic_name\":\"_chatroom/topic_list\",\"topic_type\":\"dict\",\"type\":\"add\",\"key\":\"" + name
                + "\",\"value\":" + entry + ",\"id\":\"" + id + "\"}";
    }

    /** Creates {@code name} (an add to the topic list), reads the list's update, subscribes and reads the init. */
    private static void create(JdkClient c, String name, String entry, String value, String actionId) {
        c.send(action(actionId, addTopic(name, entry, actionId + "a")));
        assertEquals(update(actionId, addTopic(name, entry, actionId + "a")), c.next());
        c.send(msg("subscribe", "{\"topic_name\":\"" + name + "\"}"));
        assertEquals(init(name, value), c.next());
    }

    private static String init(String topic, String value) {
        return msg("init", "{\"topic_name\":\"" + topic + "\",\"value\":" + value + "}");
    }

    @Test
    void twoClientsShareAListAndADictChangedInOneAction() {
        try (JdkClient one = connect("/topicsync"); JdkClient two = connect("/topicsync")) {
            assertEquals("{\"type\":\"hello\",\"args\":{\"id\":1}}", one.next());
            assertEquals("{\"type\":\"hello\",\"args\":{\"id\":2}}", two.next());
            one.send(msg("subscribe", "{\"topic_name\":\"_chatroom/topic_list\"}"));
            assertEquals(EMPTY_LIST, one.next());
            two.send(msg("subscribe", "{\"topic_name\":\"_chatroom/topic_list\"}"));
            assertEquals(EMPTY_LIST, two.next());

            // Client 1 creates both topics in one action (its own change ids echoed), then subscribes.
            String addTodo = addTopic("todo", LIST_ENTRY, "1_2");
            String addPrefs = addTopic("prefs", DICT_ENTRY, "1_3");
            one.send(action("1_1", addTodo, addPrefs));
            for (JdkClient c : List.of(one, two)) {
                assertEquals(update("1_1", addTodo), c.next());
                assertEquals(update("1_1", addPrefs), c.next());
            }
            for (JdkClient c : List.of(one, two)) {
                c.send(msg("subscribe", "{\"topic_name\":\"todo\"}"));
                assertEquals(init("todo", "[]"), c.next());
                c.send(msg("subscribe", "{\"topic_name\":\"prefs\"}"));
                assertEquals(init("prefs", "{}"), c.next());
            }

            String insert = "{\"topic_name\":\"todo\",\"topic_type\":\"list\",\"type\":\"insert\",\"item\":\"milk\","
                    + "\"position\":0,\"id\":\"1_5\"}";
            String add = "{\"topic_name\":\"prefs\",\"topic_type\":\"dict\",\"type\":\"add\",\"key\":\"theme\","
                    + "\"value\":\"dark\",\"id\":\"1_6\"}";
            one.send(action("1_4", insert, add));
            assertEquals(update("1_4", insert, add), one.next());
            assertEquals(update("1_4", insert, add), two.next());

            // The client sends old_value with change_value; the update carries the change without it.
            two.send(action("2_1",
                    "{\"topic_name\":\"todo\",\"topic_type\":\"list\",\"type\":\"insert\",\"item\":\"eggs\",\"position\":-1,\"id\":\"2_2\"}",
                    "{\"topic_name\":\"prefs\",\"topic_type\":\"dict\",\"type\":\"change_value\",\"key\":\"theme\",\"value\":\"light\",\"old_value\":\"dark\",\"id\":\"2_3\"}",
                    "{\"topic_name\":\"todo\",\"topic_type\":\"list\",\"type\":\"pop\",\"position\":-1,\"id\":\"2_4\"}"));
            String expected = update("2_1",
                    "{\"topic_name\":\"todo\",\"topic_type\":\"list\",\"type\":\"insert\",\"item\":\"eggs\",\"position\":0,\"id\":\"2_2\"}",
                    "{\"topic_name\":\"prefs\",\"topic_type\":\"dict\",\"type\":\"change_value\",\"key\":\"theme\",\"value\":\"light\",\"id\":\"2_3\"}",
                    "{\"topic_name\":\"todo\",\"topic_type\":\"list\",\"type\":\"pop\",\"position\":1,\"id\":\"2_4\"}");
            assertEquals(expected, two.next());
            assertEquals(expected, one.next());

            one.send(msg("subscribe", "{\"topic_name\":\"todo\"}"));
            assertEquals(init("todo", "[\"eggs\"]"), one.next());
            one.send(msg("subscribe", "{\"topic_name\":\"prefs\"}"));
            assertEquals(init("prefs", "{\"theme\":\"light\"}"), one.next());
        }
    }

    @Test
    void aRejectedActionChangesNoTopicAndOnlyItsSenderHearsOfIt() {
        try (JdkClient one = client(1); JdkClient two = client(2)) {
            create(one, "todo", LIST_ENTRY, "[]", "1_1");
            assertEquals(update("1_1", addTopic("todo", LIST_ENTRY, "1_1a")), two.next());
            create(one, "prefs", DICT_ENTRY, "{}", "1_2");
            assertEquals(update("1_2", addTopic("prefs", DICT_ENTRY, "1_2a")), two.next());
            two.send(msg("subscribe", "{\"topic_name\":\"todo\"}"));
            assertEquals(init("todo", "[]"), two.next());

            // The insert fits, the pop does not: neither applies.
            one.send(action("1_3",
                    "{\"topic_name\":\"todo\",\"topic_type\":\"list\",\"type\":\"insert\",\"item\":\"milk\",\"position\":0,\"id\":\"1_4\"}",
                    "{\"topic_name\":\"prefs\",\"topic_type\":\"dict\",\"type\":\"pop\",\"key\":\"nope\",\"id\":\"1_5\"}"));
            assertEquals(msg("reject", "{\"reason\":\"Topic 'prefs': No key 'nope'\"}"), one.next());
            // A value over CHATROOM_MAX_VALUE_BYTES (64), the wrong type, a topic that is not there, a reserved one.
            one.send(action("1_6", "{\"topic_name\":\"todo\",\"topic_type\":\"list\",\"type\":\"set\",\"value\":[\""
                    + "x".repeat(80) + "\"],\"id\":\"1_7\"}"));
            assertEquals(msg("reject", "{\"reason\":\"Topic 'todo': The value would be over the limit of 64 bytes\"}"),
                    one.next());
            one.send(action("1_8", "{\"topic_name\":\"todo\",\"topic_type\":\"dict\",\"type\":\"add\",\"key\":\"k\",\"value\":1}"));
            assertEquals(msg("reject", "{\"reason\":\"Topic 'todo': It is a list topic, not dict\"}"), one.next());
            one.send(action("1_9", "{\"topic_name\":\"nowhere\",\"topic_type\":\"list\",\"type\":\"pop\",\"position\":0}"));
            assertEquals(msg("reject", "{\"reason\":\"No topic 'nowhere' (add it to _chatroom/topic_list first)\"}"),
                    one.next());
            one.send(action("1_10", "{\"topic_name\":\"_chatroom/server_status\",\"type\":\"set\",\"value\":\"x\"}"));
            assertEquals(msg("reject", "{\"reason\":\"'_chatroom/server_status' is written by the server only\"}"),
                    one.next());
            one.send(action("1_11", addTopic("todo", LIST_ENTRY, "1_12")));
            assertEquals(msg("reject", "{\"reason\":\"Topic 'todo' exists already\"}"), one.next());
            one.send(msg("action", "{\"commands\":{},\"action_id\":\"1_13\"}"));
            assertEquals(msg("reject", "{\"reason\":\"'action' needs \\\"commands\\\", a list of changes\"}"), one.next());

            // Client 2 heard of none of it: the next thing it gets is the next applied change.
            String insert = "{\"topic_name\":\"todo\",\"topic_type\":\"list\",\"type\":\"insert\",\"item\":\"eggs\",\"position\":0,\"id\":\"1_15\"}";
            one.send(action("1_14", insert));
            assertEquals(update("1_14", insert), two.next());
            two.send(msg("subscribe", "{\"topic_name\":\"prefs\"}"));
            assertEquals(init("prefs", "{}"), two.next());
        }
    }

    /** The topics and services are those of /chatroom: each protocol's clients see the other's changes in their own words. */
    @Test
    void theSeedTextsClientsShareTopicsAndServices() {
        try (JdkClient sync = client(1); JdkClient seed = connect("/chatroom")) {
            assertEquals("{\"type\":\"hello\",\"content\":{\"id\":2}}", seed.next());
            seed.send("{\"type\":\"subscribe\",\"content\":{\"topic_name\":\"todo\",\"type\":\"list\"}}");
            assertEquals("{\"type\":\"update\",\"content\":{\"topic_name\":\"todo\",\"change\":{\"type\":\"set\",\"value\":[],\"version\":0}}}",
                    seed.next());
            // Created by a subscribe at /chatroom: in the topic list under no action of this protocol.
            assertEquals(update("chatroom", addTopic("todo", LIST_ENTRY, "x").replace(",\"id\":\"x\"", "")), sync.next());
            sync.send(msg("subscribe", "{\"topic_name\":\"todo\"}"));
            assertEquals(init("todo", "[]"), sync.next());

            seed.send("{\"type\":\"update\",\"content\":{\"topic_name\":\"todo\",\"change\":{\"type\":\"insert\",\"index\":0,\"value\":\"milk\",\"id\":\"c1\"}}}");
            assertEquals("{\"type\":\"update\",\"content\":{\"topic_name\":\"todo\",\"change\":{\"type\":\"insert\",\"index\":0,\"value\":\"milk\",\"id\":\"c1\",\"version\":1}}}",
                    seed.next());
            assertEquals(update("chatroom", "{\"topic_name\":\"todo\",\"topic_type\":\"list\",\"type\":\"insert\",\"item\":\"milk\",\"position\":0,\"id\":\"c1\"}"),
                    sync.next());

            String pop = "{\"topic_name\":\"todo\",\"topic_type\":\"list\",\"type\":\"pop\",\"position\":0,\"id\":\"1_2\"}";
            sync.send(action("1_1", pop));
            assertEquals(update("1_1", pop), sync.next());
            assertEquals("{\"type\":\"update\",\"content\":{\"topic_name\":\"todo\",\"change\":{\"type\":\"pop\",\"index\":0,\"id\":\"1_2\",\"version\":2}}}",
                    seed.next());

            // A service the /chatroom client provides, called from here; and one nobody provides.
            seed.send("{\"type\":\"register_service\",\"content\":{\"service_name\":\"add\"}}");
            seed.send("{\"type\":\"subscribe\",\"content\":{\"topic_name\":\"_chatroom/client_message/2\",\"type\":\"string\"}}");
            assertTrue(seed.next().contains("_chatroom/client_message/2")); // the registration is in effect
            sync.send(msg("request", "{\"service_name\":\"add\",\"args\":{\"a\":2,\"b\":3},\"request_id\":\"1_3\"}"));
            assertEquals("{\"type\":\"request\",\"content\":{\"service_name\":\"add\",\"args\":{\"a\":2,\"b\":3},\"request_id\":1}}",
                    seed.next());
            seed.send("{\"type\":\"response\",\"content\":{\"response\":5,\"request_id\":1}}");
            assertEquals(msg("response", "{\"response\":5,\"request_id\":\"1_3\"}"), sync.next());
            sync.send(msg("request", "{\"service_name\":\"nobody\",\"args\":{},\"request_id\":\"1_4\"}"));
            assertEquals(msg("response", "{\"response\":null,\"request_id\":\"1_4\",\"error\":\"No service named 'nobody'\"}"),
                    sync.next());
        }
    }

    /**
     * Two clients change two topics, owned by different event loops, in opposite orders, many times
     * over: every action applies whole (each update has both changes) and none waits on another.
     */
    @Test
    void actionsOverTheSameTopicsInOppositeOrdersAllApplyWhole() {
        try (JdkClient one = client(1); JdkClient two = client(2)) {
            create(one, "a", INT_ENTRY, "0", "1_a");
            assertTrue(two.next().contains("\"key\":\"a\""));
            create(two, "b", INT_ENTRY, "0", "2_b");
            assertTrue(one.next().contains("\"key\":\"b\""));
            one.send(msg("subscribe", "{\"topic_name\":\"b\"}"));
            assertEquals(init("b", "0"), one.next());
            two.send(msg("subscribe", "{\"topic_name\":\"a\"}"));
            assertEquals(init("a", "0"), two.next());

            int n = 100;
            for (int i = 0; i < n; i++) {
                one.send(action("1_" + i, addOne("a"), addOne("b")));
                two.send(action("2_" + i, addOne("b"), addOne("a")));
            }
            for (JdkClient c : List.of(one, two)) {
                List<String> updates = new ArrayList<>();
                for (int i = 0; i < 2 * n; i++) {
                    updates.add(c.next());
                }
                for (String u : updates) {
                    assertTrue(u.contains("\"topic_name\":\"a\"") && u.contains("\"topic_name\":\"b\""), u);
                }
                c.send(msg("subscribe", "{\"topic_name\":\"a\"}"));
                assertEquals(init("a", String.valueOf(2 * n)), c.next());
                c.send(msg("subscribe", "{\"topic_name\":\"b\"}"));
                assertEquals(init("b", String.valueOf(2 * n)), c.next());
            }
        }
    }

    /**
     * Three clients flood one topic with actions, far past the 64 tasks a client may have in flight
     * (reading pauses, then resumes): every action applies once, in one order for all.
     */
    @Test
    void aFloodOfActionsOnOneTopicAppliesEveryOneInOneOrder() {
        try (JdkClient one = client(1); JdkClient two = client(2); JdkClient three = client(3)) {
            create(one, "n", INT_ENTRY, "0", "1_n");
            for (JdkClient c : List.of(two, three)) {
                assertTrue(c.next().contains("\"key\":\"n\""));
                c.send(msg("subscribe", "{\"topic_name\":\"n\"}"));
                assertEquals(init("n", "0"), c.next());
            }
            int each = 500;
            List<JdkClient> all = List.of(one, two, three);
            for (int i = 0; i < each; i++) {
                for (int k = 0; k < all.size(); k++) {
                    all.get(k).send(action((k + 1) + "_" + i, addOne("n")));
                }
            }
            List<String> first = null;
            for (JdkClient c : all) {
                List<String> seen = new ArrayList<>();
                for (int i = 0; i < each * all.size(); i++) {
                    seen.add(c.next());
                }
                if (first == null) {
                    first = seen;
                } else {
                    assertEquals(first, seen);
                }
                c.send(msg("subscribe", "{\"topic_name\":\"n\"}"));
                assertEquals(init("n", String.valueOf(each * all.size())), c.next());
            }
        }
    }

    private static String addOne(String topic) {
        return "{\"topic_name\":\"" + topic + "\",\"topic_type\":\"int\",\"type\":\"add\",\"value\":1}";
    }

    /** A string topic: init names the version the client checks edits against; every change goes as a whole value. */
    @Test
    void aStringTopicTravelsAsWholeValuesWithVersions() {
        try (JdkClient one = client(1)) {
            String entry = "{\"type\":\"string\",\"is_stateful\":true,\"boundary_value\":\"hi\"}";
            one.send(action("1_1", addTopic("note", entry, "1_2")));
            assertEquals(update("1_1", addTopic("note", entry.replace("\"hi\"", "null"), "1_2")), one.next());
            one.send(msg("subscribe", "{\"topic_name\":\"note\"}"));
            assertEquals(msg("init", "{\"topic_name\":\"note\",\"value\":\"hi\",\"id\":\"note@1\"}"), one.next());
            one.send(action("1_3", "{\"topic_name\":\"note\",\"topic_type\":\"string\",\"type\":\"insert\",\"topic_version\":\"note@1\","
                    + "\"position\":2,\"insertion\":\" there\",\"result_topic_version\":\"1_5\",\"id\":\"1_4\"}"));
            assertEquals(update("1_3", "{\"topic_name\":\"note\",\"topic_type\":\"string\",\"type\":\"set\",\"value\":\"hi there\",\"id\":\"note@2\"}"),
                    one.next());
            one.send(action("1_6", "{\"topic_name\":\"note\",\"topic_type\":\"string\",\"type\":\"delete\",\"topic_version\":\"note@2\","
                    + "\"position\":0,\"deletion\":\"hi \",\"id\":\"1_7\"}"));
            assertEquals(update("1_6", "{\"topic_name\":\"note\",\"topic_type\":\"string\",\"type\":\"set\",\"value\":\"there\",\"id\":\"note@3\"}"),
                    one.next());
            one.send(action("1_8", "{\"topic_name\":\"note\",\"topic_type\":\"string\",\"type\":\"delete\",\"position\":0,\"deletion\":\"hi\"}"));
            assertEquals(msg("reject", "{\"reason\":\"Topic 'note': There is no \\\"hi\\\" at position 0\"}"), one.next());
        }
    }

    /** What is not an action goes wrong without a reject (that would undo the client's pending actions): a notice. */
    @Test
    void badInputIsANoticeAndTheConnectionStays() {
        try (JdkClient one = client(1)) {
            one.send(msg("subscribe", "{\"topic_name\":\"_chatroom/client_message/1\"}"));
            assertEquals(msg("init", "{\"topic_name\":\"_chatroom/client_message/1\",\"value\":\"\",\"id\":\"_chatroom/client_message/1@0\"}"),
                    one.next());
            one.send("{not json");
            String malformed = one.next();
            assertTrue(malformed.startsWith("{\"type\":\"update\",\"args\":{\"changes\":[{\"topic_name\":\"_chatroom/client_message/1\","
                    + "\"topic_type\":\"string\",\"type\":\"set\",\"value\":\"[error] Malformed JSON: ")
                    && malformed.endsWith("\"id\":\"_chatroom/client_message/1@1\"}],\"action_id\":\"chatroom\"}}"), malformed);
            one.send(msg("emit", "{}"));
            assertEquals(update("chatroom", "{\"topic_name\":\"_chatroom/client_message/1\",\"topic_type\":\"string\",\"type\":\"set\","
                    + "\"value\":\"[error] Unknown message type 'emit' (expected: subscribe, unsubscribe, action, request or response)\","
                    + "\"id\":\"_chatroom/client_message/1@2\"}"), one.next());
            one.send(msg("subscribe", "{\"topic_name\":\"nowhere\"}"));
            assertTrue(one.next().contains("[warning] Cannot subscribe to 'nowhere': there is no such topic"));
            one.send(msg("request", "{\"args\":{}}"));
            assertTrue(one.next().contains("[error] 'request' needs \\\"service_name\\\" in its args"));
            one.send("{\"type\":\"subscribe\",\"args\":[1]}");
            assertTrue(one.next().contains("[error] \\\"args\\\" must be an object, not a list"));

            // _chatroom/pretended_topics is the client's own: its changes come back to it alone.
            String pretend = "{\"topic_name\":\"_chatroom/pretended_topics\",\"topic_type\":\"dict\",\"type\":\"add\",\"key\":\"p\",\"value\":\"list\",\"id\":\"1_2\"}";
            one.send(action("1_1", pretend));
            assertEquals(update("1_1", pretend), one.next());
            one.send(action("1_3", pretend.replace("1_2", "1_4")));
            assertEquals(msg("reject", "{\"reason\":\"Key 'p' exists: use change_value to change it\"}"), one.next());
        }
    }

    /** In a cluster the upgrade is refused, with why: an action over several topics needs one commit in Redis. */
    @Test
    void aClusterNodeRefusesTheUpgradeWith501() throws Exception {
        try (RedisProcess redis = RedisProcess.start()) {
            SwitchboardServer node = Requests.startOnLoopback(SwitchboardConfig.builder().redisEndpoint(redis.endpoint())
                    .redisKeyPrefix("topicsync-it:"));
            try (RawClient raw = new RawClient(node.localAddress())) {
                String head = raw.upgrade("/topicsync");
                assertTrue(head.startsWith("HTTP/1.1 501 "), head);
                Matcher length = Pattern.compile("(?i)content-length: (\\d+)").matcher(head);
                assertTrue(length.find(), head);
                assertTrue(raw.readUtf8(Integer.parseInt(length.group(1))).startsWith("/topicsync is served on a single node only"));
            } finally {
                node.stop().join();
            }
        }
    }
}
