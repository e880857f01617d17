package io.switchboard.protocol.randomchat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RandomchatCodecTest {

    private final RandomchatDecoder decoder = new RandomchatDecoder(65536, 8, 64, 128, 4096);

    private RandomchatRequest decode(String json) throws RandomchatException {
        ByteBuf buf = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
        try {
            return decoder.decode(buf);
        } finally {
            buf.release();
        }
    }

    private void assertRefused(String json, String message, String request) {
        RandomchatException e = assertThrows(RandomchatException.class, () -> decode(json));
        assertEquals(message, e.getMessage());
        assertEquals(request, e.request());
    }

    @Test
    void refusesAnUnpairedSurrogateInAnyStringWithTheRequestTypeWhenItIsUnicode() {
        assertRefused("{\"type\":\"register\",\"user\":{\"name\":\"\\ud800\",\"phone\":\"555\"}}",
                RandomchatDecoder.NOT_UNICODE, "register");
        assertRefused("{\"type\":\"create_chat\",\"name\":\"x\\udc00\"}", RandomchatDecoder.NOT_UNICODE, "create_chat");
        assertRefused("{\"type\":\"send_message\",\"chat\":\"c\",\"message\":\"\\ud800\\u0041\"}",
                RandomchatDecoder.NOT_UNICODE, "send_message");
        assertRefused("{\"type\":\"x\\ud800\"}", RandomchatDecoder.NOT_UNICODE, null);
        assertRefused("{\"type\":\"create_chat\",\"name\":\"ok\",\"extra\":\"\\ud800\"}",
                RandomchatDecoder.NOT_UNICODE, "create_chat");
    }

    @Test
    void acceptsSurrogatePairs() throws Exception {
        assertEquals("\uD83D\uDE00", decode("{\"type\":\"create_chat\",\"name\":\"\\ud83d\\ude00\"}").chat());
    }

    private static String text(ByteBuf buf) {
        try {
            return buf.toString(StandardCharsets.UTF_8);
        } finally {
            buf.release();
        }
    }

    @Test
    void decodesEveryOperationOfTheSeed() throws Exception {
        assertEquals(new RandomchatRequest(RandomchatRequest.Type.REGISTER, "Ann", "555-1", null, null, null),
                decode("{\"type\":\"register\",\"user\":{\"name\":\"Ann\",\"phone\":\"555-1\","
                        + "\"disconnection_date\":null}}"));
        assertEquals(new RandomchatRequest(RandomchatRequest.Type.REGISTER, "Ann", "555-1", "tok", null, null),
                decode("{\"user\":{\"phone\":\"555-1\",\"name\":\"Ann\"},\"token\":\"tok\",\"type\":\"register\"}"));
        assertEquals(new RandomchatRequest(RandomchatRequest.Type.CREATE_CHAT, null, null, null, "friends", null),
                decode("{\"type\":\"create_chat\",\"name\":\"friends\"}"));
        assertEquals(new RandomchatRequest(RandomchatRequest.Type.SEND_MESSAGE, null, null, null, "friends", "hi\n"),
                decode("{\"type\":\"send_message\",\"chat\":\"friends\",\"message\":\"hi\\n\",\"extra\":[1,{}]}"));
        assertEquals(new RandomchatRequest(RandomchatRequest.Type.DELETE_CHAT, null, null, null, "friends", null),
                decode("{\"type\":\"delete_chat\",\"chat\":\"friends\"}"));
        assertEquals(new RandomchatRequest(RandomchatRequest.Type.ADD_MEMBER, null, "555-2", null, "friends", null),
                decode("{\"type\":\"add_member\",\"chat\":\"friends\",\"phone\":\"555-2\"}"));
        assertEquals(new RandomchatRequest(RandomchatRequest.Type.REMOVE_MEMBER, null, "555-2", null, "friends", null),
                decode("{\"type\":\"remove_member\",\"chat\":\"friends\",\"phone\":\"555-2\"}"));
    }

    @Test
    void refusesMalformedRequestsWithTheRequestTypeWhenItIsKnown() {
        assertRefused("not json", RandomchatDecoder.NOT_A_REQUEST, null);
        assertRefused("[1]", RandomchatDecoder.NOT_A_REQUEST, null);
        assertRefused("{\"type\":\"create_chat\",\"name\":\"x\"} {}", RandomchatDecoder.NOT_A_REQUEST, "create_chat");
        assertRefused("{\"type\":\"create_chat\",\"name\":", RandomchatDecoder.NOT_A_REQUEST, "create_chat");
        assertRefused("{}", "'type' is missing", null);
        assertRefused("{\"type\":7}", "'type' must be a string", null);
        assertRefused("{\"type\":\"dance\"}", "Unknown request type 'dance': expected register, create_chat, "
                + "send_message, delete_chat, add_member or remove_member", "dance");
        assertRefused("{\"type\":\"register\"}", "'user' is missing", "register");
        assertRefused("{\"type\":\"register\",\"user\":\"ann\"}",
                "'user' must be an object like {\"name\":\"Ann\",\"phone\":\"555\"}", "register");
        assertRefused("{\"type\":\"register\",\"user\":{\"name\":\"Ann\"}}", "'user.phone' is missing", "register");
        assertRefused("{\"type\":\"register\",\"user\":{\"phone\":\"1\"}}", "'user.name' is missing", "register");
        assertRefused("{\"type\":\"register\",\"user\":{\"name\":\"\",\"phone\":\"1\"}}",
                "'user.name' must not be empty", "register");
        assertRefused("{\"type\":\"register\",\"user\":{\"name\":\"a\",\"phone\":\"" + "9".repeat(33) + "\"}}",
                "'user.phone' is longer than 32 bytes", "register");
        assertRefused("{\"type\":\"register\",\"user\":{\"name\":\"a\\u0007\",\"phone\":\"1\"}}",
                "'user.name' must not contain control characters", "register");
        assertRefused("{\"type\":\"register\",\"user\":{\"name\":\"a\",\"phone\":\"1\"},\"token\":5}",
                "'token' must be a string", "register");
        assertRefused("{\"type\":\"create_chat\"}", "'name' is missing", "create_chat");
        assertRefused("{\"type\":\"create_chat\",\"name\":\"" + "c".repeat(129) + "\"}",
                "'name' is longer than 128 bytes", "create_chat");
        assertRefused("{\"type\":\"send_message\",\"chat\":\"c\"}", "'message' is missing", "send_message");
        assertRefused("{\"type\":\"send_message\",\"chat\":\"c\",\"message\":\"\"}", "'message' must not be empty",
                "send_message");
        assertRefused("{\"type\":\"send_message\",\"chat\":\"c\",\"message\":{}}", "'message' must be a string",
                "send_message");
        assertRefused("{\"type\":\"send_message\",\"chat\":\"c\",\"message\":\"" + "\u00e9".repeat(2049) + "\"}",
                "'message' is longer than 4096 bytes", "send_message");
        assertRefused("{\"type\":\"delete_chat\",\"chat\":null}", "'chat' is missing", "delete_chat");
        assertRefused("{\"type\":\"add_member\",\"chat\":\"c\"}", "'phone' is missing", "add_member");
        assertRefused("{\"type\":\"remove_member\",\"chat\":[],\"phone\":\"1\"}", "'chat' must be a string",
                "remove_member");
        assertRefused("{\"type\":\"create_chat\",\"x\":" + "[".repeat(9) + "]".repeat(9) + "}",
                RandomchatDecoder.TOO_LARGE, "create_chat");
    }

    @Test
    void encodesTheSeedsObjectsFieldForField() {
        User ann = new User("Ann", "1", User.NEVER);
        User bob = new User("Bob \"B\"", "2", 1_795_000_000_123L);
        Chat chat = new Chat("friends", List.of(ann, bob), ann);
        String chatJson = "{\"name\":\"friends\",\"members\":[{\"name\":\"Ann\",\"phone\":\"1\",\"disconnection_date\":null},"
                + "{\"name\":\"Bob \\\"B\\\"\",\"phone\":\"2\",\"disconnection_date\":\"2026-11-18T11:06:40.123Z\"}],"
                + "\"owner\":{\"name\":\"Ann\",\"phone\":\"1\",\"disconnection_date\":null}}";
        String bobJson = "{\"name\":\"Bob \\\"B\\\"\",\"phone\":\"2\",\"disconnection_date\":\"2026-11-18T11:06:40.123Z\"}";
        var alloc = UnpooledByteBufAllocator.DEFAULT;
        assertEquals("{\"type\":\"message\",\"chat\":" + chatJson + ",\"from\":" + bobJson
                + ",\"date\":\"1970-01-01T00:00:01.000Z\",\"message\":\"h\u00e9\\n\"}",
                text(RandomchatEncoder.message(alloc, chat, bob, 1000, "h\u00e9\n")));
        assertEquals("{\"type\":\"new_member\",\"chat\":" + chatJson + ",\"user\":" + bobJson + "}",
                text(RandomchatEncoder.newMember(alloc, chat, bob)));
        assertEquals("{\"type\":\"member_removed\",\"chat\":" + chatJson + ",\"user\":" + bobJson + "}",
                text(RandomchatEncoder.memberRemoved(alloc, chat, bob)));
        assertEquals("{\"type\":\"chat_deleted\",\"chat\":" + chatJson + "}",
                text(RandomchatEncoder.chatDeleted(alloc, chat)));
        assertEquals("{\"type\":\"state\",\"chats\":[{\"chat\":" + chatJson + ",\"messages\":[{\"from\":" + bobJson
                        + ",\"date\":\"1970-01-01T00:00:00.005Z\",\"message\":\"x\"}]}],\"token\":\"t\"}",
                text(RandomchatEncoder.state(alloc, List.of(new ChatState(chat, List.of(new BriefMessage(bob, 5, "x")))),
                        "t")));
        assertEquals("{\"type\":\"state\",\"chats\":[]}", text(RandomchatEncoder.state(alloc, List.of(), null)));
        assertEquals("{\"type\":\"error\",\"message\":\"no\",\"request\":null}",
                text(RandomchatEncoder.error(alloc, "no", null)));
        assertEquals("{\"type\":\"error\",\"message\":\"no\",\"request\":\"register\"}",
                text(RandomchatEncoder.error(alloc, "no", "register")));
    }
}
