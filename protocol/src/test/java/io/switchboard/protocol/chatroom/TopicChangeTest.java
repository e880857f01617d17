package io.switchboard.protocol.chatroom;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TopicChangeTest {

    private static final JsonFactory JSON = new JsonFactory();

    private static Object parse(String json) throws IOException {
        try (JsonParser p = JSON.createParser(json)) {
            p.nextToken();
            return JsonValues.read(p);
        }
    }

    private static String json(Object value) throws IOException {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            JsonValues.write(g, value);
        }
        return out.toString();
    }

    private static TopicChange.Applied apply(TopicType type, String value, String change) throws Exception {
        return TopicChange.apply(type, parse(value), parse(change), 1 << 20);
    }

    private static String reason(TopicType type, String value, String change) {
        return assertThrows(ChangeRejected.class, () -> apply(type, value, change)).getMessage();
    }

    @Test
    void stringPositionsCountCodePoints() throws Exception {
        TopicChange.Applied a = apply(TopicType.STRING, "\"a😀b\"", "{\"type\":\"insert\",\"position\":2,\"text\":\"é\"}");
        assertEquals("a😀éb", a.value());
        assertEquals("{\"type\":\"insert\",\"position\":2,\"text\":\"é\"}", json(a.change()));
        assertEquals("ab", apply(TopicType.STRING, "\"a😀b\"", "{\"type\":\"delete\",\"position\":1,\"length\":1}").value());
        assertEquals("Deleting 9223372036854775807 characters at position 1 is out of range: the string has 3 characters",
                reason(TopicType.STRING, "\"a😀b\"", "{\"type\":\"delete\",\"position\":1,\"length\":9223372036854775807}"));
    }

    @Test
    void listAndDictChangesCopyAndLeaveTheOldValueAlone() throws Exception {
        Object list = parse("[1,[2],3]");
        TopicChange.Applied popped = TopicChange.apply(TopicType.LIST, list, parse("{\"type\":\"pop\",\"index\":1}"), 1 << 20);
        assertEquals("[1,3]", json(popped.value()));
        assertEquals("[1,[2],3]", json(list));
        Object dict = parse("{\"a\":1,\"b\":2}");
        TopicChange.Applied changed = TopicChange.apply(TopicType.DICT, dict,
                parse("{\"type\":\"change_value\",\"key\":\"a\",\"value\":{\"x\":null},\"id\":\"c\"}"), 1 << 20);
        assertEquals("{\"a\":{\"x\":null},\"b\":2}", json(changed.value()));
        assertEquals("{\"type\":\"change_value\",\"key\":\"a\",\"value\":{\"x\":null},\"id\":\"c\"}", json(changed.change()));
        assertEquals("{\"a\":1,\"b\":2}", json(dict));
    }

    @Test
    void numbersKeepTheirTopicsType() throws Exception {
        assertEquals(3.5, apply(TopicType.FLOAT, "1.5", "{\"type\":\"add\",\"value\":2}").value());
        assertEquals(2.0, apply(TopicType.FLOAT, "1.5", "{\"type\":\"set\",\"value\":2}").value());
        assertEquals(-1L, apply(TopicType.INT, "1", "{\"type\":\"add\",\"value\":-2}").value());
        assertEquals("An int topic cannot hold a float", reason(TopicType.INT, "1", "{\"type\":\"set\",\"value\":2.0}"));
        assertEquals("The value 99999999999999999999 is out of range of an int topic (64 bits)",
                reason(TopicType.INT, "1", "{\"type\":\"set\",\"value\":99999999999999999999}"));
        assertEquals("The sum is out of range of a float topic",
                reason(TopicType.FLOAT, "1.7e308", "{\"type\":\"add\",\"value\":1.7e308}"));
        assertThrows(IOException.class, () -> parse("1e400"));
    }

    @Test
    void malformedChangesSayWhatIsWrong() {
        assertEquals("A change needs a \"type\": one of set, insert, pop for a list topic",
                reason(TopicType.LIST, "[]", "{\"index\":0}"));
        assertEquals("\"index\" must be an integer, not a string",
                reason(TopicType.LIST, "[]", "{\"type\":\"insert\",\"index\":\"0\",\"value\":1}"));
        assertEquals("The 'insert' change needs a \"value\"", reason(TopicType.LIST, "[]", "{\"type\":\"insert\",\"index\":0}"));
        assertEquals("\"key\" must be a string, not an integer", reason(TopicType.DICT, "{}", "{\"type\":\"pop\",\"key\":1}"));
        assertEquals("A string topic takes no 'pop' change: only set, insert, delete",
                reason(TopicType.STRING, "\"\"", "{\"type\":\"pop\",\"index\":0}"));
    }

    @Test
    void theSizeIsTheValuesLengthAsJsonAndTheLimitHolds() throws Exception {
        Random random = new Random(7);
        Object value = List.of();
        long size = 2;
        for (int i = 0; i < 200; i++) {
            String change = random.nextInt(4) == 0 && !((List<?>) value).isEmpty()
                    ? "{\"type\":\"pop\",\"index\":" + random.nextInt(((List<?>) value).size()) + "}"
                    : "{\"type\":\"insert\",\"index\":0,\"value\":" + (random.nextBoolean() ? "\"\\u00e9\\n" + i + "\""
                    : "{\"k\":[" + i + ",1.25,true]}") + "}";
            TopicChange.Applied a = TopicChange.apply(TopicType.LIST, value, size, parse(change), 1 << 20);
            value = a.value();
            size = a.size();
            assertEquals(json(value).getBytes(StandardCharsets.UTF_8).length, size);
        }
        Object dict = Map.of();
        long dictSize = 2;
        for (int i = 0; i < 200; i++) {
            String key = "k\\u00e9" + random.nextInt(20);
            boolean present = ((Map<?, ?>) dict).containsKey(key.replace("\\u00e9", "\u00e9"));
            String change = !present ? "{\"type\":\"add\",\"key\":\"" + key + "\",\"value\":[" + i + "]}"
                    : random.nextBoolean() ? "{\"type\":\"pop\",\"key\":\"" + key + "\"}"
                    : "{\"type\":\"change_value\",\"key\":\"" + key + "\",\"value\":\"v\\n" + i + "\"}";
            TopicChange.Applied a = TopicChange.apply(TopicType.DICT, dict, dictSize, parse(change), 1 << 20);
            dict = a.value();
            dictSize = a.size();
            assertEquals(json(dict).getBytes(StandardCharsets.UTF_8).length, dictSize, change);
        }
        assertEquals("The value would be over the limit of 10 bytes",
                assertThrows(ChangeRejected.class, () -> TopicChange.apply(TopicType.STRING, "",
                        Map.of("type", "set", "value", "12345678901"), 10)).getMessage());
        assertEquals(10, TopicChange.apply(TopicType.STRING, "", Map.of("type", "set", "value", "12345678"), 10).size());
        // ["1234"] is 8 bytes; inserting 1 makes [1,"1234"], 10.
        assertEquals(10, TopicChange.apply(TopicType.LIST, List.of("1234"), 8,
                Map.of("type", "insert", "index", 0L, "value", 1L), 10).size());
        assertEquals("The value would be over the limit of 9 bytes",
                assertThrows(ChangeRejected.class, () -> TopicChange.apply(TopicType.LIST, List.of("1234"), 8,
                        Map.of("type", "insert", "index", 0L, "value", 1L), 9)).getMessage());
    }

    @Test
    void theHeapCostIsKeptExactlyAcrossChangesAsIfMeasuredWhole() throws Exception {
        Random random = new Random(11);
        Object list = List.of();
        long size = 2;
        long cost = JsonValues.heapCost(list);
        for (int i = 0; i < 300; i++) {
            String change = random.nextInt(4) == 0 && !((List<?>) list).isEmpty()
                    ? "{\"type\":\"pop\",\"index\":" + random.nextInt(((List<?>) list).size()) + "}"
                    : "{\"type\":\"insert\",\"index\":0,\"value\":" + switch (random.nextInt(4)) {
                        case 0 -> "\"\\u4e2d" + i + "\"";
                        case 1 -> "{\"k\":[" + i + ",1.25,true,null]}";
                        case 2 -> "123456789012345678901234567890";
                        default -> "[]";
                    } + "}";
            TopicChange.Applied a = TopicChange.apply(TopicType.LIST, list, size, cost, parse(change), 1 << 20,
                    Long.MAX_VALUE);
            list = a.value();
            size = a.size();
            cost = a.cost();
            assertEquals(JsonValues.heapCost(list), cost, change);
        }
        Object dict = Map.of();
        size = 2;
        cost = JsonValues.heapCost(dict);
        for (int i = 0; i < 300; i++) {
            String key = "k" + random.nextInt(30);
            boolean present = ((Map<?, ?>) dict).containsKey(key);
            String change = !present ? "{\"type\":\"add\",\"key\":\"" + key + "\",\"value\":{\"x\":" + i + "}}"
                    : random.nextBoolean() ? "{\"type\":\"pop\",\"key\":\"" + key + "\"}"
                    : "{\"type\":\"change_value\",\"key\":\"" + key + "\",\"value\":\"v" + i + "\"}";
            TopicChange.Applied a = TopicChange.apply(TopicType.DICT, dict, size, cost, parse(change), 1 << 20,
                    Long.MAX_VALUE);
            dict = a.value();
            size = a.size();
            cost = a.cost();
            assertEquals(JsonValues.heapCost(dict), cost, change);
        }
    }

    @Test
    void aValueCostlierThanItsHeapBoundIsRejectedAtTheBound() throws Exception {
        // A string of n Latin-1 characters: 24 + align8(16 + n); 8 of them fit 48, 9 do not.
        assertEquals(48, JsonValues.heapCost("12345678"));
        assertEquals(56, JsonValues.heapCost("123456789"));
        assertEquals(56, JsonValues.heapCost("\u4e2d".repeat(5))); // two bytes a character: 24 + align8(16 + 10)
        assertEquals(48, TopicChange.apply(TopicType.STRING, "", -1, -1, Map.of("type", "set", "value", "12345678"),
                1 << 20, 48).cost());
        assertEquals("The value would take over 48 bytes of the server's memory (it would take about 56)",
                assertThrows(ChangeRejected.class, () -> TopicChange.apply(TopicType.STRING, "", -1, -1,
                        Map.of("type", "set", "value", "123456789"), 1 << 20, 48)).getMessage());
        // Three empty dicts: 48 + 3 * (6 + 88); a fourth takes the list to 424 > 400, while its JSON is 11 bytes.
        Object three = parse("[{},{},{}]");
        assertEquals(330, JsonValues.heapCost(three));
        assertEquals("The value would take over 400 bytes of the server's memory (it would take about 424)",
                assertThrows(ChangeRejected.class, () -> TopicChange.apply(TopicType.LIST, three, 10, 330,
                        parse("{\"type\":\"insert\",\"index\":3,\"value\":{}}"), 64, 400)).getMessage());
        // What makes the values costly: many tiny items cost ~30 times their JSON.
        String dicts = "[" + "{},".repeat(999) + "{}]";
        assertTrue(JsonValues.heapCost(parse(dicts)) > 30L * dicts.length());
    }

    @Test
    void decoderAndEncoderSpeakTheEnvelope() throws Exception {
        ChatroomDecoder decoder = new ChatroomDecoder(1024, 8);
        ChatroomMessage m = decoder.decode(Unpooled.copiedBuffer(
                "{\"type\":\"request\",\"content\":{\"service_name\":\"s\",\"args\":[1,{\"a\":null}],\"request_id\":\"x\"}}",
                StandardCharsets.UTF_8));
        assertEquals("request", m.type());
        assertEquals("s", m.string("service_name"));
        assertEquals("[1,{\"a\":null}]", json(m.value("args")));
        assertEquals("subscribe", decoder.decode(Unpooled.copiedBuffer("{\"type\":\"subscribe\"}", StandardCharsets.UTF_8)).type());
        assertEquals("'subscribe' needs \"topic_name\" in its content", assertThrows(ChatroomException.class,
                () -> decoder.decode(Unpooled.copiedBuffer("{\"type\":\"subscribe\"}", StandardCharsets.UTF_8))
                        .string("topic_name")).getMessage());
        assertThrows(ChatroomException.class, () -> decoder.decode(Unpooled.copiedBuffer("[1]", StandardCharsets.UTF_8)));
        assertThrows(ChatroomException.class, () -> decoder.decode(Unpooled.copiedBuffer("{\"content\":{}}", StandardCharsets.UTF_8)));
        assertThrows(ChatroomException.class, () -> decoder.decode(Unpooled.copiedBuffer("{\"type\":\"x\",\"content\":[]}", StandardCharsets.UTF_8)));
        assertThrows(ChatroomException.class, () -> decoder.decode(Unpooled.copiedBuffer("{\"type\":\"x\"} {}", StandardCharsets.UTF_8)));
        assertThrows(ChatroomException.class, () -> decoder.decode(Unpooled.copiedBuffer(
                "{\"type\":\"x\",\"content\":{\"a\":" + "[".repeat(20) + "]".repeat(20) + "}}", StandardCharsets.UTF_8)));

        ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
        assertEquals("{\"type\":\"hello\",\"content\":{\"id\":42}}", text(ChatroomEncoder.hello(alloc, 42)));
        assertEquals("{\"type\":\"response\",\"content\":{\"response\":null,\"request_id\":[1],\"error\":\"e\"}}",
                text(ChatroomEncoder.response(alloc, "ignored", List.of(1L), "e")));
        ByteBuf payload = ChatroomEncoder.updatePayload(alloc, "t", Map.of("type", "set"), 3);
        ByteBuf frame = ChatroomEncoder.frame(alloc, payload);
        assertEquals(0x81, frame.getUnsignedByte(0));
        assertEquals(payload.readableBytes(), frame.getUnsignedByte(1));
        assertEquals("{\"type\":\"update\",\"content\":{\"topic_name\":\"t\",\"change\":{\"type\":\"set\",\"version\":3}}}",
                frame.toString(2, frame.readableBytes() - 2, StandardCharsets.UTF_8));
        payload.release();
        frame.release();
    }

    @Test
    void decoderRefusesAnUnpairedSurrogateInAnyString() throws Exception {
        ChatroomDecoder decoder = new ChatroomDecoder(1024, 8);
        for (String json : new String[] {
                "{\"type\":\"subscribe\",\"content\":{\"topic_name\":\"\\ud800\"}}",
                "{\"type\":\"update\",\"content\":{\"topic_name\":\"t\",\"change\":{\"type\":\"set\",\"value\":[\"\\udc00\"]}}}",
                "{\"type\":\"update\",\"content\":{\"topic_name\":\"t\",\"change\":{\"type\":\"set\",\"value\":{\"\\ud800\":1}}}}",
                "{\"type\":\"sub\\ud800\"}"}) {
            ByteBuf buf = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
            try {
                assertEquals(ChatroomDecoder.NOT_UNICODE,
                        assertThrows(ChatroomException.class, () -> decoder.decode(buf)).getMessage(), json);
            } finally {
                buf.release();
            }
        }
        ByteBuf pair = Unpooled.copiedBuffer("{\"type\":\"subscribe\",\"content\":{\"topic_name\":\"\\ud83d\\ude00\"}}",
                StandardCharsets.UTF_8);
        assertEquals("\uD83D\uDE00", decoder.decode(pair).string("topic_name"));
        pair.release();
    }

    private static String text(ByteBuf buf) {
        try {
            return buf.toString(StandardCharsets.UTF_8);
        } finally {
            buf.release();
        }
    }
}
