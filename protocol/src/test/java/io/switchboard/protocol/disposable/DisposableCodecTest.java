package io.switchboard.protocol.disposable;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.switchboard.protocol.JsonStrings;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The disposable dialect's frames, field for field as disposable-chat-server writes them. */
class DisposableCodecTest {

    private final DisposableDecoder decoder = new DisposableDecoder(65536, 32);
    private final ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;

    record M(byte[] quotedId, byte[] quotedName) implements DisposableEncoder.Member {
    }

    @Test
    void encodesEveryServerFrame() {
        byte[] room = JsonStrings.quote("room-1");
        byte[] id = JsonStrings.quote("a1");
        byte[] name = JsonStrings.quote("Ann \"A\"");
        assertEquals("{\"type\":\"welcome\",\"data\":{\"room\":{\"name\":\"room-1\",\"activeClients\":["
                        + "{\"id\":\"a1\",\"name\":\"Ann \\\"A\\\"\"},{\"id\":\"b2\",\"name\":\"Bob\"}]}}}",
                payload(DisposableEncoder.welcome(alloc, room, List.of(new M(id, name),
                        new M(JsonStrings.quote("b2"), JsonStrings.quote("Bob"))))));
        assertEquals("{\"type\":\"info\",\"data\":{\"room\":{\"name\":\"room-1\"},\"client\":{\"id\":\"a1\","
                + "\"name\":\"Ann \\\"A\\\"\"},\"action\":\"registered\"}}", frame(DisposableEncoder.info(alloc, room, id,
                name, true)));
        assertEquals("{\"type\":\"info\",\"data\":{\"room\":{\"name\":\"room-1\"},\"client\":{\"id\":\"a1\","
                + "\"name\":\"Ann \\\"A\\\"\"},\"action\":\"unregistered\"}}", frame(DisposableEncoder.info(alloc, room,
                id, name, false)));
        assertEquals("{\"type\":\"chat\",\"data\":{\"room\":{\"name\":\"room-1\"},\"client\":{\"id\":\"a1\","
                + "\"name\":\"Ann \\\"A\\\"\"},\"text\":\"hi\\n\"}}", frame(DisposableEncoder.chat(alloc, room, id,
                name, JsonStrings.quote("hi\n"))));
        assertEquals("{\"type\":\"error\",\"data\":{\"text\":\"'text' must not be empty\"}}",
                payload(DisposableEncoder.error(alloc, DisposableDecoder.EMPTY)));
    }

    @Test
    void encodesLongFramesWithAnExtendedLength() {
        String text = "x".repeat(70_000);
        ByteBuf f = DisposableEncoder.chat(alloc, JsonStrings.quote("r"), JsonStrings.quote("i"),
                JsonStrings.quote("n"), JsonStrings.quote(text));
        try {
            assertEquals(0x81, f.getUnsignedByte(0));
            assertEquals(127, f.getUnsignedByte(1));
            assertEquals(f.readableBytes() - 10, f.getLong(2));
        } finally {
            f.release();
        }
    }

    @Test
    void decodesTheTextAndIgnoresOtherFields() throws Exception {
        assertEquals("hi", decode("{\"text\":\"hi\"}"));
        assertEquals("b", decode("{\"text\":\"a\",\"x\":{\"y\":[1,2]},\"text\":\"b\"}"));
        assertEquals("\u00e9\"\n", decode("{\"text\":\"\\u00e9\\\"\\n\"}"));
        assertEquals("x".repeat(300), decode("{\"text\":\"" + "x".repeat(300) + "\"}"));
        assertEquals("\uD83D\uDE00".repeat(300), decode("{\"text\":\"" + "\uD83D\uDE00".repeat(300) + "\"}"));
    }

    @Test
    void refusesWithTheSeedsWordsWhereItHasThem() {
        assertRefused(DisposableDecoder.EMPTY, "{\"text\":\"\"}");
        assertRefused(DisposableDecoder.EMPTY, "{}");
        assertRefused(DisposableDecoder.EMPTY, "{\"text\":null}");
        assertRefused(DisposableDecoder.TOO_LONG, "{\"text\":\"" + "x".repeat(301) + "\"}");
        assertRefused(DisposableDecoder.NOT_A_STRING, "{\"text\":[\"a\"]}");
        assertRefused(DisposableDecoder.NOT_A_STRING, "{\"text\":true}");
        assertRefused(DisposableDecoder.NOT_A_MESSAGE, "");
        assertRefused(DisposableDecoder.NOT_A_MESSAGE, "\"text\"");
        assertRefused(DisposableDecoder.NOT_A_MESSAGE, "{\"text\":\"a\"");
        assertRefused(DisposableDecoder.NOT_A_MESSAGE, "{\"text\":\"a\"}{}");
        assertRefused(DisposableDecoder.NOT_A_MESSAGE, "[".repeat(100) + "]".repeat(100));
        assertRefused(DisposableDecoder.NOT_A_MESSAGE, "{\"x\":" + "[".repeat(100) + "]".repeat(100) + "}");
    }

    @Test
    void checksNameAndRoomAsTheSeedDoes() {
        assertNull(DisposableParams.check("Ann", "room_1-A"));
        assertNull(DisposableParams.check("Zo\u00eb", "abc"));
        assertNull(DisposableParams.check("x".repeat(30), "r".repeat(30)));
        assertEquals(DisposableParams.INVALID + " (`name` has 2 characters)", DisposableParams.check("An", "abc"));
        assertEquals(DisposableParams.INVALID + " (`room` has 31 characters)", DisposableParams.check("Ann", "r".repeat(31)));
        assertEquals(DisposableParams.INVALID + " (`room` is missing)", DisposableParams.check("Ann", null));
        assertEquals(DisposableParams.INVALID + " (`room` has a character other than a-z, A-Z, 0-9, '-' and '_')",
                DisposableParams.check("Ann", "a.b"));
        assertEquals(DisposableParams.INVALID + " (`name` has a control character)", DisposableParams.check("A\u0007n", "abc"));
        assertEquals("Ann", DisposableParams.trim("  Ann\t"));
    }

    @Test
    void refusesAnUnpairedSurrogateInAnyString() throws Exception {
        assertRefused(DisposableDecoder.NOT_UNICODE, "{\"text\":\"\\ud800\"}");
        assertRefused(DisposableDecoder.NOT_UNICODE, "{\"text\":\"a\\udc00\"}");
        assertRefused(DisposableDecoder.NOT_UNICODE, "{\"text\":\"\\ud800\\u0041\"}");
        assertRefused(DisposableDecoder.NOT_UNICODE, "{\"text\":\"fine\",\"other\":[\"\\ud800\"]}");
        assertEquals("\uD83D\uDE00", decode("{\"text\":\"\\ud83d\\ude00\"}"));
        assertEquals(DisposableParams.INVALID + " (`name` has an unpaired surrogate)",
                DisposableParams.check("An\uD800n", "abc"));
    }

    private String decode(String json) throws DisposableException {
        ByteBuf b = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
        try {
            return decoder.decode(b);
        } finally {
            b.release();
        }
    }

    /** The refusal's text is {@code expected}, and its kind the one that text stands for. */
    private void assertRefused(String expected, String json) {
        DisposableException e = assertThrows(DisposableException.class, () -> decode(json));
        assertEquals(expected, e.getMessage(), json);
        assertEquals(switch (expected) {
            case DisposableDecoder.EMPTY -> DisposableException.Kind.EMPTY;
            case DisposableDecoder.TOO_LONG -> DisposableException.Kind.TOO_LONG;
            case DisposableDecoder.NOT_UNICODE -> DisposableException.Kind.NOT_UNICODE;
            default -> DisposableException.Kind.INVALID;
        }, e.kind(), json);
    }

    private static String payload(ByteBuf b) {
        try {
            return b.toString(StandardCharsets.UTF_8);
        } finally {
            b.release();
        }
    }

    /** The payload of a complete frame with a short header (the frames here are under 126 bytes or 64 KiB). */
    private static String frame(ByteBuf b) {
        try {
            int header = b.getUnsignedByte(1) == 126 ? 4 : 2;
            assertEquals(0x81, b.getUnsignedByte(0), "a final, unmasked text frame");
            return b.toString(header, b.readableBytes() - header, StandardCharsets.UTF_8);
        } finally {
            b.release();
        }
    }
}
