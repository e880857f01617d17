package io.switchboard.protocol.minichats;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MinichatsDecoderTest {

    private final MinichatsDecoder decoder = new MinichatsDecoder(65536, 32, 128);

    @Test
    void decodesSubscribe() throws Exception {
        MinichatsRequest r = decode("{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"news\"}}");
        assertEquals(Action.SUBSCRIBE, r.action());
        assertEquals("news", r.channelName());
        assertNull(r.content());
        assertNull(r.requestId());
    }

    @Test
    void decodesUnsubscribe() throws Exception {
        MinichatsRequest r = decode("{\"action\":\"unsubscribe\",\"params\":{\"channel_name\":\"news\"}}");
        assertEquals(Action.UNSUBSCRIBE, r.action());
        assertEquals("news", r.channelName());
    }

    @Test
    void decodesListChannelsAndListAsTwoActions() throws Exception {
        MinichatsRequest all = decode("{\"action\":\"list_channels\"}");
        assertEquals(Action.LIST_CHANNELS, all.action());
        assertNull(all.channelName());
        MinichatsRequest own = decode("{\"action\":\"list\"}");
        assertEquals(Action.LIST, own.action());
        assertNull(own.channelName());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "\"hello\"",
            "\"esc\\\"aped \\u00e9 \\\\ \"",
            "\"caf\u00e9 \u2603 \uD83D\uDE00\"",
            "12",
            "-0.5e+10",
            "123456789012345678901234567890123456789012345678901234567890",
            "true",
            "false",
            "null",
            "{ \"a\" : [1, 2, {\"b\": null}] }",
            "[ ]",
            "{}",
    })
    void relaysContentOfAnyJsonTypeByteForByte(String content) throws Exception {
        String json = "{\"action\":\"publish\",\"params\":{\"channel_name\":\"c\",\"content\":" + content + "}}";
        assertEquals(content, contentOf(decode(json)));
        // Same with whitespace around the value and params before the action.
        json = "{ \"params\" : { \"content\" :  " + content + "  , \"channel_name\":\"c\" } , \"action\":\"publish\" }";
        assertEquals(content, contentOf(decode(json)));
    }

    @Test
    void relaysContentFromADirectBuffer() throws Exception {
        String json = "{\"action\":\"publish\",\"params\":{\"channel_name\":\"c\",\"content\":{\"x\":[1,\"\u00e9\"]}}}";
        ByteBuf direct = Unpooled.directBuffer().writeBytes(json.getBytes(StandardCharsets.UTF_8));
        try {
            assertEquals("{\"x\":[1,\"\u00e9\"]}", contentOf(decoder.decode(direct)));
        } finally {
            direct.release();
        }
    }

    @Test
    void relaysContentFromASlicedHeapBuffer() throws Exception {
        byte[] json = ("xxxx{\"action\":\"publish\",\"params\":{\"channel_name\":\"c\",\"content\":\"hi\"}}yy")
                .getBytes(StandardCharsets.UTF_8);
        ByteBuf slice = Unpooled.wrappedBuffer(json, 4, json.length - 6);
        assertEquals("\"hi\"", contentOf(decoder.decode(slice)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"r-1\"", "7", "-3.25", "99999999999999999999999999"})
    void keepsTheRawRequestId(String requestId) throws Exception {
        MinichatsRequest r = decode("{\"request_id\":" + requestId + ",\"action\":\"list\"}");
        assertArrayEquals(requestId.getBytes(StandardCharsets.UTF_8), r.requestId());
    }

    @Test
    void ignoresUnknownFieldsAndNullParams() throws Exception {
        MinichatsRequest r = decode("{\"action\":\"list\",\"params\":null,\"extra\":{\"deep\":[1]},\"request_id\":null}");
        assertEquals(Action.LIST, r.action());
        assertNull(r.requestId());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            // input | code | detail
            "not json | invalid_json | `Malformed JSON at line 1, column 5: Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')`",
            "{\"action\": | invalid_json | Malformed JSON at line 1, column 11: Unexpected end-of-input within/between Object entries",
            "`` | invalid_json | Empty message",
            "`   ` | invalid_json | Empty message",
            "{\"action\":\"list\"} trailing | invalid_json | `Malformed JSON at line 1, column 27: Unrecognized token 'trailing': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')`",
            "{\"action\":\"list\"} {} | invalid_json | Unexpected data after the JSON value at line 1, column 19",
            "[1,2] | invalid_request | A request must be a JSON object",
            "\"subscribe\" | invalid_request | A request must be a JSON object",
            "{} | invalid_request | Missing 'action'",
            "{\"action\":5} | invalid_request | 'action' must be a string",
            "{\"action\":\"list\",\"params\":[]} | invalid_request | 'params' must be an object",
            "{\"action\":\"list\",\"request_id\":{}} | invalid_request | 'request_id' must be a string or a number",
            "{\"action\":\"dance\"} | unknown_action | Unknown action 'dance'",
            "{\"action\":\"Subscribe\",\"params\":{\"channel_name\":\"c\"}} | unknown_action | Unknown action 'Subscribe'",
            "{\"action\":\"subscribe\"} | missing_param | Missing parameter 'channel_name'",
            "{\"action\":\"subscribe\",\"params\":{}} | missing_param | Missing parameter 'channel_name'",
            "{\"action\":\"unsubscribe\",\"params\":{\"channel\":\"c\"}} | missing_param | Missing parameter 'channel_name'",
            "{\"action\":\"publish\",\"params\":{\"channel_name\":\"c\"}} | missing_param | Missing parameter 'content'",
            "{\"action\":\"subscribe\",\"params\":{\"channel_name\":7}} | invalid_param | 'channel_name' must be a string",
            "{\"action\":\"subscribe\",\"params\":{\"channel_name\":null}} | invalid_param | 'channel_name' must be a string",
            "{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"\"}} | invalid_param | 'channel_name' must not be empty",
            "{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"a\\u0007b\"}} | invalid_param | 'channel_name' must not contain control characters",
            "{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"a\\nb\"}} | invalid_param | 'channel_name' must not contain control characters",
    })
    void refusesMalformedRequestsWithExactErrors(String input, String code, String detail) {
        MinichatsException e = assertThrows(MinichatsException.class, () -> decode(input));
        assertEquals(code, e.code().wireName());
        assertEquals(detail, e.detail());
    }

    @Test
    void refusesAChannelNameOverTheByteLimitCountingUtf8() throws Exception {
        // 64 two-byte characters are 128 bytes: allowed. One more is 130 bytes: refused.
        String ok = "\u00e9".repeat(64);
        assertEquals(ok, decode(subscribe(ok)).channelName());
        MinichatsException e = assertThrows(MinichatsException.class, () -> decode(subscribe(ok + "\u00e9")));
        assertEquals(ErrorCode.INVALID_PARAM, e.code());
        assertEquals("'channel_name' is longer than 128 bytes", e.detail());
    }

    @Test
    void refusesNestingDeeperThanTheLimit() throws Exception {
        // The request object itself is level 1, params level 2: content may nest 30 more.
        String ok = "[".repeat(30) + "]".repeat(30);
        assertEquals(ok, contentOf(decode(publish(ok))));
        String deep = "[".repeat(31) + "]".repeat(31);
        MinichatsException e = assertThrows(MinichatsException.class, () -> decode(publish(deep)));
        assertEquals(ErrorCode.INVALID_REQUEST, e.code());
        assertEquals("JSON nesting is deeper than 32 levels", e.detail());
    }

    @Test
    void echoesTheRequestIdOfARefusedRequestWhereverItStands() {
        MinichatsException e = assertThrows(MinichatsException.class,
                () -> decode("{\"action\":\"nope\",\"request_id\":\"abc\"}"));
        assertEquals(ErrorCode.UNKNOWN_ACTION, e.code());
        assertArrayEquals("\"abc\"".getBytes(StandardCharsets.UTF_8), e.requestId());

        e = assertThrows(MinichatsException.class, () -> decode("{\"request_id\":12,\"action\":"));
        assertEquals(ErrorCode.INVALID_JSON, e.code());
        assertArrayEquals("12".getBytes(StandardCharsets.UTF_8), e.requestId());
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"bad \\q escape\"", "\"raw \u0001 control\"", "\"unterminated"})
    void refusesAMalformedStringContentThatIsSkippedNotDecoded(String content) {
        MinichatsException e = assertThrows(MinichatsException.class, () -> decode(publish(content)));
        assertEquals(ErrorCode.INVALID_JSON, e.code());
    }

    @Test
    void findsTheEndOfScalarContentBeforeACommaWhitespaceOrTheClosingBrace() throws Exception {
        assertEquals("\"a\"", contentOf(decode("{\"action\":\"publish\",\"params\":{\"content\":\"a\"\n\t ,\r\n"
                + " \"channel_name\":\"c\"}}")));
        assertEquals("7", contentOf(decode("{\"action\":\"publish\",\"params\":{\"channel_name\":\"c\",\"content\":7}}")));
        assertEquals("\"\\\\\"", contentOf(decode("{\"action\":\"publish\",\"params\":{\"channel_name\":\"c\","
                + "\"content\":\"\\\\\"  }}")));
        assertEquals("\", \"", contentOf(decode("{\"action\":\"publish\",\"params\":{\"content\":\", \",\"x\":1,"
                + "\"channel_name\":\"c\"}}")));
    }

    @Test
    void relaysAHugeNumberVerbatim() throws Exception {
        String huge = "9".repeat(5000) + ".5e-99999";
        assertEquals(huge, contentOf(decode(publish(huge))));
    }

    @Test
    void relaysALongString() throws Exception {
        String text = "\"" + "x".repeat(60_000) + "\"";
        assertEquals(text, contentOf(decode(publish(text))));
    }

    @Test
    void decodesAnHttpApiPublishBody() throws Exception {
        ApiPublish a = decoder.decodeApiPublish(utf8("{\"sender\":\"backend\",\"channel_name\":\"news\","
                + "\"content\":{\"k\": [1, true]}}"), 64);
        assertEquals("news", a.channelName());
        assertEquals("backend", a.sender());
        assertEquals("{\"k\": [1, true]}", a.content().toString(StandardCharsets.UTF_8));
        assertNull(decoder.decodeApiPublish(utf8("{\"channel_name\":\"n\",\"content\":1}"), 64).sender());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "[1] | invalid_request | A request must be a JSON object",
            "{\"content\":1} | missing_param | Missing parameter 'channel_name'",
            "{\"channel_name\":\"c\"} | missing_param | Missing parameter 'content'",
            "{\"channel_name\":\"c\",\"content\":1,\"sender\":5} | invalid_param | 'sender' must be a string",
            "{\"channel_name\":\"c\",\"content\":1,\"sender\":\"\"} | invalid_param | 'sender' must not be empty",
            "{\"channel_name\":\"c\",\"content\":} | invalid_json | `Malformed JSON at line 1, column 31: Unexpected character ('}' (code 125)): expected a value`",
    })
    void refusesBadHttpApiPublishBodies(String input, String code, String detail) {
        MinichatsException e = assertThrows(MinichatsException.class, () -> decoder.decodeApiPublish(utf8(input), 64));
        assertEquals(code, e.code().wireName());
        assertEquals(detail, e.detail());
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "`{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"\\ud800\"}}` | 49",
            "`{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"\\udc00\"}}` | 49",
            "`{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"a\\ud800b\"}}` | 50",
            "`{\"action\":\"sub\\ud800\",\"params\":{\"channel_name\":\"c\"}}` | 15",
            "`{\"action\":\"publish\",\"params\":{\"channel_name\":\"c\",\"content\":\"\\ud800\"}}` | 61",
            "`{\"action\":\"publish\",\"params\":{\"channel_name\":\"c\",\"content\":{\"k\":[\"x\\ud800\"]}}}` | 68",
            "`{\"action\":\"publish\",\"params\":{\"channel_name\":\"c\",\"content\":{\"\\udfff\":1}}}` | 62",
            "`{\"action\":\"publish\",\"params\":{\"channel_name\":\"c\",\"content\":\"\\ud83d\\u0041\"}}` | 61",
            "`{\"action\":\"list\",\"ignored\":\"\\ud800\"}` | 29",
            "`{\"action\":\"list\",\n\"ignored\":\"\\ud800\"}` | `2, column 12`",
    })
    void refusesAnUnpairedSurrogateAnywhereAsInvalidJson(String input, String column) {
        MinichatsException e = assertThrows(MinichatsException.class, () -> decode(input));
        assertEquals(ErrorCode.INVALID_JSON, e.code());
        String at = column.contains(",") ? column : "1, column " + column;
        assertEquals("Malformed JSON at line " + at + ": a string has an unpaired surrogate, which is not Unicode text",
                e.detail());
    }

    @Test
    void echoesTheRequestIdOfARequestWithAnUnpairedSurrogateUnlessItHasOne() {
        MinichatsException e = assertThrows(MinichatsException.class, () -> decode(
                "{\"request_id\":\"r1\",\"action\":\"subscribe\",\"params\":{\"channel_name\":\"\\ud800\"}}"));
        assertEquals("\"r1\"", new String(e.requestId(), StandardCharsets.UTF_8));
        e = assertThrows(MinichatsException.class, () -> decode(
                "{\"request_id\":\"\\ud800\",\"action\":\"list\"}"));
        assertEquals(ErrorCode.INVALID_JSON, e.code());
        assertNull(e.requestId());
    }

    @Test
    void acceptsSurrogatePairsAndEscapedBackslashes() throws Exception {
        MinichatsRequest r = decode(publish("\"\\ud83d\\ude00 \\\\ud800\""));
        assertEquals("\"\\ud83d\\ude00 \\\\ud800\"", contentOf(r));
        assertEquals("\uD83D\uDE00", decode(subscribe("\\ud83d\\ude00")).channelName());
    }

    @Test
    void refusesAnHttpApiPublishWithAnUnpairedSurrogateOrInvalidUtf8() {
        for (String body : new String[] {
                "{\"channel_name\":\"\\ud800\",\"content\":1}",
                "{\"channel_name\":\"c\",\"content\":\"\\udc00\"}",
                "{\"channel_name\":\"c\",\"content\":1,\"sender\":\"x\\ud800\"}"}) {
            MinichatsException e = assertThrows(MinichatsException.class, () -> decoder.decodeApiPublish(utf8(body), 64));
            assertEquals(ErrorCode.INVALID_JSON, e.code(), body);
        }
        byte[] cesu = "{\"channel_name\":\"c\",\"content\":\"...\"}".getBytes(StandardCharsets.UTF_8);
        cesu[29] = (byte) 0xED; // U+D800 as three UTF-8 bytes, which no UTF-8 text has
        cesu[30] = (byte) 0xA0;
        cesu[31] = (byte) 0x80;
        MinichatsException e = assertThrows(MinichatsException.class,
                () -> decoder.decodeApiPublish(Unpooled.wrappedBuffer(cesu), 64));
        assertEquals(ErrorCode.INVALID_JSON, e.code());
        assertEquals("The body is not valid UTF-8", e.detail());
    }

    private static ByteBuf utf8(String json) {
        return Unpooled.wrappedBuffer(json.getBytes(StandardCharsets.UTF_8));
    }

    private static String publish(String content) {
        return "{\"action\":\"publish\",\"params\":{\"channel_name\":\"c\",\"content\":" + content + "}}";
    }

    private static String subscribe(String channel) {
        return "{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"" + channel + "\"}}";
    }

    private MinichatsRequest decode(String json) throws MinichatsException {
        return decoder.decode(Unpooled.wrappedBuffer(json.getBytes(StandardCharsets.UTF_8)));
    }

    private static String contentOf(MinichatsRequest r) {
        return r.content().toString(StandardCharsets.UTF_8);
    }
}
