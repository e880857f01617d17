package io.switchboard.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class JsonStringsTest {

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "`\"plain\"` | -1",
            "`\"\\ud83d\\ude00 a pair\"` | -1",
            "`\"\\uD83D\\uDE00 upper case\"` | -1",
            "`\"\\\\ud800 an escaped backslash, then text\"` | -1",
            "`\"\\u00e9\\u2603\"` | -1",
            "`\"\\ud800\"` | 1",
            "`\"\\udc00\"` | 1",
            "`\"a\\ud800b\"` | 2",
            "`\"\\ud800\\u0041\"` | 1",
            "`\"\\ud800\\ud800\"` | 1",
            "`\"\\ud83d\\ude00\\udc00\"` | 13",
            "`\"\\\\\\ud800\"` | 3",
            "`{\"\\ud800\":1}` | 2",
    })
    void findsTheFirstUnpairedSurrogateEscape(String json, int expected) {
        ByteBuf buf = Unpooled.copiedBuffer("xx" + json, StandardCharsets.UTF_8);
        assertEquals(expected < 0 ? -1 : expected + 2, JsonStrings.unpairedSurrogate(buf, 2, buf.readableBytes() - 2));
    }

    @Test
    void findsASurrogateEncodedAsUtf8Bytes() {
        ByteBuf cesu = Unpooled.wrappedBuffer(new byte[] {'"', 'a', (byte) 0xED, (byte) 0xA0, (byte) 0x80, '"'});
        assertEquals(2, JsonStrings.unpairedSurrogate(cesu, 0, cesu.readableBytes()));
        ByteBuf hangul = Unpooled.copiedBuffer("\"\uD55C\"", StandardCharsets.UTF_8); // U+D55C is ED 95 9C
        assertEquals(-1, JsonStrings.unpairedSurrogate(hangul, 0, hangul.readableBytes()));
    }

    @Test
    void findsUnpairedSurrogatesInJavaStrings() {
        assertEquals(-1, JsonStrings.unpairedSurrogate("caf\u00e9 \uD83D\uDE00"));
        assertEquals(0, JsonStrings.unpairedSurrogate("\uD800"));
        assertEquals(1, JsonStrings.unpairedSurrogate("a\uDC00"));
        assertEquals(0, JsonStrings.unpairedSurrogate("\uD800a"));
        assertEquals(2, JsonStrings.unpairedSurrogate("\uD83D\uDE00\uD83D"));
    }

    @Test
    void namesRefuseUnpairedSurrogates() {
        assertEquals("'channel_name' must not contain an unpaired surrogate", Names.check("channel_name", "a\uD800", 128));
        assertEquals("'client_name' must not contain an unpaired surrogate", Names.check("client_name", "\uDC00", 64));
        assertNull(Names.check("channel_name", "\uD83D\uDE00", 128));
    }
}
