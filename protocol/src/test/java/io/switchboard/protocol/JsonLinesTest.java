package io.switchboard.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonLinesTest {

    private static String compact(String json) {
        ByteBuf in = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
        ByteBuf out = JsonLines.compact(ByteBufAllocator.DEFAULT, in);
        try {
            assertFalse(JsonLines.hasLineBreak(out));
            return out.toString(StandardCharsets.UTF_8);
        } finally {
            in.release();
            out.release();
        }
    }

    private static boolean hasLineBreak(String json) {
        ByteBuf in = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
        try {
            return JsonLines.hasLineBreak(in);
        } finally {
            in.release();
        }
    }

    @Test
    void findsRawLineBreaksOnly() {
        assertFalse(hasLineBreak("{\"a\": \"x\\ny\"}"), "an escaped newline is two characters");
        assertTrue(hasLineBreak("{\"a\":\n1}"));
        assertTrue(hasLineBreak("{\"a\":\r1}"));
    }

    @Test
    void removesWhitespaceBetweenTokensAndKeepsStringsAsTheyAre() {
        assertEquals("{\"a\":[1,2],\"b\":{\"c\":null}}", compact("{\n  \"a\" : [ 1,\r\n 2 ],\n\t\"b\": { \"c\": null }\n}"));
        assertEquals("{\"s\":\"two  spaces \\\" quoted \\\\\",\"t\":\"\\n\"}",
                compact("{ \"s\" : \"two  spaces \\\" quoted \\\\\" ,\n \"t\" : \"\\n\" }"));
        assertEquals("\"caf\u00e9 \u2603\"", compact("\n\"caf\u00e9 \u2603\"\n"));
    }

    @Test
    void escapesARawLineBreakInsideAString() {
        assertEquals("{\"s\":\"a\\nb\\rc\"}", compact("{\"s\":\"a\nb\rc\"}"));
    }
}
