package io.switchboard.protocol.line;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.switchboard.protocol.JsonStrings;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The line dialect's texts, word for word as PROTOCOL.md section 3 has them. */
class LineMessagesTest {

    @Test
    void saysWhatTheProtocolSays() {
        assertEquals("Congratulations! You've successfully joined the chat server.\nYour id is: '127.0.0.1:36832'.\n"
                + "There are 1 client(s) connected to this server.\n", LineMessages.welcome("127.0.0.1:36832", 1));
        assertEquals("A new client has connected to the chat: id = 127.0.0.1:36832\n",
                LineMessages.joined("127.0.0.1:36832"));
        assertEquals("127.0.0.1:36832 has left the chat\n", LineMessages.left("127.0.0.1:36832"));
        assertEquals("The chat has been shut down\n", LineMessages.shutdown());
    }

    @Test
    void keepsAMessageOnOneLine() {
        assertEquals("ann: caf\u00e9 \uD83D\uDE00\n", message("ann", "caf\u00e9 \uD83D\uDE00"));
        assertEquals("ann: a b  c\td e f\n", message("ann", "a\nb\r\nc\td\u2028e\u0000f"));
    }

    @Test
    void showsJsonStringsAsTheirValueAndOtherValuesAsJson() {
        assertEquals("a \"q\"\n\u00e9", text("\"a \\\"q\\\"\\n\\u00e9\""));
        assertEquals("{\"n\":[1,2.5]}", text("{\"n\":[1,2.5]}"));
        assertEquals("42", text("42"));
        assertEquals("null", text("null"));
    }

    private static String message(String name, String text) {
        ByteBuf b = LineMessages.message(ByteBufAllocator.DEFAULT, name, text);
        try {
            return b.toString(StandardCharsets.UTF_8);
        } finally {
            b.release();
        }
    }

    private static String text(String json) {
        ByteBuf b = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
        try {
            return JsonStrings.text(b);
        } finally {
            b.release();
        }
    }
}
