package io.switchboard.protocol.minichats;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.switchboard.protocol.JsonStrings;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MinichatsEncoderTest {

    private static final ByteBufAllocator ALLOC = PooledByteBufAllocator.DEFAULT;
    private static final long T = Instant.parse("2026-11-22T01:32:03.123Z").toEpochMilli();

    @Test
    void encodesADeliveryAsOneCompleteTextFrame() {
        ByteBuf content = utf8("{\"x\":[1, 2]}");
        ByteBuf frame = MinichatsEncoder.delivery(ALLOC, JsonStrings.quote("Alice"), JsonStrings.quote("news"),
                T, content);
        try {
            String payload = "{\"sender\":\"Alice\",\"channel_name\":\"news\",\"sent_at\":\"2026-11-22T01:32:03.123Z\","
                    + "\"content\":{\"x\":[1, 2]}}";
            assertEquals(0x81, frame.readUnsignedByte(), "FIN + text opcode");
            assertEquals(payload.length(), frame.readUnsignedByte(), "unmasked 7-bit length");
            assertEquals(payload, frame.toString(StandardCharsets.UTF_8));
            assertEquals(0, content.readerIndex(), "content is read, not consumed");
            assertEquals(payload.length(), MinichatsEncoder.deliveryPayloadLength(
                    JsonStrings.quote("Alice"), JsonStrings.quote("news"), content.readableBytes()));
        } finally {
            frame.release();
            content.release();
        }
    }

    @Test
    void escapesNamesInDeliveries() {
        ByteBuf content = utf8("\"hi\"");
        ByteBuf frame = MinichatsEncoder.delivery(ALLOC, JsonStrings.quote("Al\"ice\\"),
                JsonStrings.quote("caf\u00e9"), T, content);
        try {
            frame.skipBytes(2);
            assertEquals("{\"sender\":\"Al\\\"ice\\\\\",\"channel_name\":\"caf\u00e9\","
                    + "\"sent_at\":\"2026-11-22T01:32:03.123Z\",\"content\":\"hi\"}", frame.toString(StandardCharsets.UTF_8));
        } finally {
            frame.release();
            content.release();
        }
    }

    @Test
    void usesTheExtendedLengthFormsOfRfc6455() {
        // Overhead of the delivery around a content of n bytes, with 1-byte names.
        int overhead = MinichatsEncoder.deliveryPayloadLength(JsonStrings.quote("a"), JsonStrings.quote("b"), 0);
        assertFrameHeader(125 - overhead, 2, 125);
        assertFrameHeader(126 - overhead, 4, 126);
        assertFrameHeader(65535 - overhead, 4, 65535);
        assertFrameHeader(65536 - overhead, 10, 65536);
    }

    private static void assertFrameHeader(int contentLength, int headerLength, int payloadLength) {
        ByteBuf content = Unpooled.wrappedBuffer(new byte[contentLength]);
        ByteBuf frame = MinichatsEncoder.delivery(ALLOC, JsonStrings.quote("a"), JsonStrings.quote("b"), T, content);
        try {
            assertEquals(headerLength + payloadLength, frame.readableBytes());
            assertEquals(0x81, frame.getUnsignedByte(0));
            switch (headerLength) {
                case 2:
                    assertEquals(payloadLength, frame.getUnsignedByte(1));
                    break;
                case 4:
                    assertEquals(126, frame.getUnsignedByte(1));
                    assertEquals(payloadLength, frame.getUnsignedShort(2));
                    break;
                default:
                    assertEquals(127, frame.getUnsignedByte(1));
                    assertEquals(payloadLength, frame.getLong(2));
            }
        } finally {
            frame.release();
        }
    }

    @Test
    void encodesReplies() {
        byte[] id = "\"r1\"".getBytes(StandardCharsets.UTF_8);
        assertJson("{\"status\":\"ok\",\"info\":{\"client_name\":\"Bob\"}}",
                MinichatsEncoder.connected(ALLOC, JsonStrings.quote("Bob")));
        assertJson("{\"status\":\"ok\"}", MinichatsEncoder.ok(ALLOC, null));
        assertJson("{\"status\":\"ok\",\"request_id\":\"r1\"}", MinichatsEncoder.ok(ALLOC, id));
        assertJson("{\"status\":\"ok\",\"request_id\":7,\"info\":{\"channel_name\":\"c\",\"total_subscribers\":3}}",
                MinichatsEncoder.subscribed(ALLOC, "7".getBytes(StandardCharsets.UTF_8), JsonStrings.quote("c"), 3));
        assertJson("{\"status\":\"ok\",\"info\":{\"channels\":[]}}", MinichatsEncoder.channels(ALLOC, null, List.of(), 65536));
        assertJson("{\"status\":\"ok\",\"info\":{\"channels\":[{\"channel_name\":\"a\",\"total_subscribers\":1},"
                        + "{\"channel_name\":\"b\",\"total_subscribers\":20}]}}",
                MinichatsEncoder.channels(ALLOC, null, List.of(summary("a", 1), summary("b", 20)), 65536));
        assertJson("{\"status\":\"error\",\"request_id\":\"r1\",\"info\":{\"detail\":\"Unknown action 'x\\\"'\","
                        + "\"code\":\"unknown_action\"}}",
                MinichatsEncoder.error(ALLOC, id, ErrorCode.UNKNOWN_ACTION, "Unknown action 'x\"'"));
    }

    @Test
    void listsChannelsUpToTheLimitAndSaysItTruncated() {
        java.util.List<MinichatsEncoder.ChannelSummary> many = new java.util.ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            many.add(summary(String.format("channel-%05d-with-a-long-name", i), Integer.MAX_VALUE));
        }
        for (int limit : new int[] {100, 1000, 4096, 65536}) {
            ByteBuf reply = MinichatsEncoder.channels(ALLOC, "\"r1\"".getBytes(StandardCharsets.UTF_8), many, limit);
            try {
                String json = reply.toString(StandardCharsets.UTF_8);
                assertTrue(reply.readableBytes() <= limit, limit + ": " + reply.readableBytes() + " bytes");
                assertTrue(json.endsWith("],\"truncated\":true}}"), json);
                // The bound is used: one more entry (81 bytes) would not have fitted.
                assertTrue(reply.readableBytes() + 81 > limit, limit + ": " + reply.readableBytes() + " bytes");
            } finally {
                reply.release();
            }
        }
        ByteBuf all = MinichatsEncoder.channels(ALLOC, null, many.subList(0, 3), 65536);
        try {
            assertFalse(all.toString(StandardCharsets.UTF_8).contains("truncated"));
        } finally {
            all.release();
        }
    }

    @Test
    void listsChannelNamesAsStringsUpToTheLimitAndSaysItTruncated() {
        assertJson("{\"status\":\"ok\",\"info\":{\"channels\":[]}}",
                MinichatsEncoder.channelNames(ALLOC, null, List.of(), 65536));
        assertJson("{\"status\":\"ok\",\"request_id\":\"r1\",\"info\":{\"channels\":[\"a\",\"b \\\"q\\\"\"]}}",
                MinichatsEncoder.channelNames(ALLOC, "\"r1\"".getBytes(StandardCharsets.UTF_8),
                        List.of(JsonStrings.quote("a"), JsonStrings.quote("b \"q\"")), 65536));
        java.util.List<byte[]> many = new java.util.ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            many.add(JsonStrings.quote(String.format("channel-%05d-with-a-long-name", i)));
        }
        for (int limit : new int[] {100, 1000, 4096, 65536}) {
            ByteBuf reply = MinichatsEncoder.channelNames(ALLOC, null, many, limit);
            try {
                String json = reply.toString(StandardCharsets.UTF_8);
                assertTrue(reply.readableBytes() <= limit, limit + ": " + reply.readableBytes() + " bytes");
                assertTrue(json.endsWith("\"],\"truncated\":true}}"), json);
                // The bound is used: one more name (a comma and its 32 bytes) would not have fitted.
                assertTrue(reply.readableBytes() + 33 > limit, limit + ": " + reply.readableBytes() + " bytes");
            } finally {
                reply.release();
            }
        }
    }

    @Test
    void listsPresenceUpToTheLimitAndSaysItTruncated() {
        List<MinichatsEncoder.PresenceMember> two = List.of(member("4f2a-uuid", "Al\"ice", "minichats"),
                member("127.0.0.1:36832", "127.0.0.1:36832", "line"));
        String whole = "{\"status\":\"ok\",\"request_id\":7,\"info\":{\"channel_name\":\"room\",\"clients\":["
                + "{\"client_id\":\"4f2a-uuid\",\"client_name\":\"Al\\\"ice\",\"dialect\":\"minichats\"},"
                + "{\"client_id\":\"127.0.0.1:36832\",\"client_name\":\"127.0.0.1:36832\",\"dialect\":\"line\"}]}}";
        byte[] id = "7".getBytes(StandardCharsets.UTF_8);
        assertJson(whole, MinichatsEncoder.presence(ALLOC, id, JsonStrings.quote("room"), two, 65536));
        assertJson("{\"status\":\"ok\",\"info\":{\"channel_name\":\"room\",\"clients\":[]}}",
                MinichatsEncoder.presence(ALLOC, null, JsonStrings.quote("room"), List.of(), 65536));
        // Room is kept for ',"truncated":true' (17 bytes): the whole list fits in its length plus 17, not in one less.
        int fits = whole.length() + 17;
        assertJson(whole, MinichatsEncoder.presence(ALLOC, id, JsonStrings.quote("room"), two, fits));
        ByteBuf cut = MinichatsEncoder.presence(ALLOC, id, JsonStrings.quote("room"), two, fits - 1);
        try {
            String json = cut.toString(StandardCharsets.UTF_8);
            assertTrue(cut.readableBytes() <= fits - 1, json);
            assertEquals(whole.substring(0, whole.indexOf(",{\"client_id\":\"127")) + "],\"truncated\":true}}", json);
        } finally {
            cut.release();
        }
    }

    @Test
    void encodesJoinAndLeaveEventsAsOneCompleteTextFrame() {
        MinichatsEncoder.PresenceMember dora = member("0b6f-uuid", "dora", "disposable");
        for (boolean join : new boolean[] {true, false}) {
            ByteBuf frame = MinichatsEncoder.joinLeave(ALLOC, join, JsonStrings.quote("caf\u00e9"), dora);
            try {
                String payload = "{\"event\":\"" + (join ? "join" : "leave") + "\",\"channel_name\":\"caf\u00e9\","
                        + "\"client\":{\"client_id\":\"0b6f-uuid\",\"client_name\":\"dora\",\"dialect\":\"disposable\"}}";
                assertEquals(0x81, frame.readUnsignedByte(), "FIN + text opcode");
                assertEquals(payload.getBytes(StandardCharsets.UTF_8).length, frame.readUnsignedByte(),
                        "unmasked 7-bit length");
                assertEquals(payload, frame.toString(StandardCharsets.UTF_8));
            } finally {
                frame.release();
            }
        }
    }

    private static MinichatsEncoder.PresenceMember member(String id, String name, String dialect) {
        return new MinichatsEncoder.PresenceMember() {
            @Override
            public byte[] quotedId() {
                return JsonStrings.quote(id);
            }

            @Override
            public byte[] quotedName() {
                return JsonStrings.quote(name);
            }

            @Override
            public String dialect() {
                return dialect;
            }
        };
    }

    private static MinichatsEncoder.ChannelSummary summary(String name, int count) {
        return new MinichatsEncoder.ChannelSummary() {
            @Override
            public byte[] quotedName() {
                return JsonStrings.quote(name);
            }

            @Override
            public int totalSubscribers() {
                return count;
            }
        };
    }

    private static void assertJson(String expected, ByteBuf actual) {
        try {
            assertEquals(expected, actual.toString(StandardCharsets.UTF_8));
        } finally {
            actual.release();
        }
    }

    private static ByteBuf utf8(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }
}
