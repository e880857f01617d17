package io.switchboard.server.internal.compression;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.switchboard.protocol.WebSocketFrames;
import io.switchboard.server.internal.metrics.Metrics;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** permessage-deflate on an {@link EmbeddedChannel}: negotiation, inbound checks and inflation, replies. */
class PerMessageDeflateTest {

    private static final int MAX = 4096;
    private final Metrics metrics = new Metrics();
    private final FrameCompressor compressor = new FrameCompressor(6, 64, metrics);

    @Test
    void acceptsTheOffersItCanHonourAndDeclinesTheOthers() {
        assertTrue(PerMessageDeflate.acceptsAnOffer("permessage-deflate"));
        assertTrue(PerMessageDeflate.acceptsAnOffer("permessage-deflate; client_max_window_bits")); // browsers
        assertTrue(PerMessageDeflate.acceptsAnOffer("permessage-deflate; client_max_window_bits=10; server_no_context_takeover"));
        assertTrue(PerMessageDeflate.acceptsAnOffer("permessage-deflate; server_max_window_bits=15; client_no_context_takeover"));
        // The first acceptable offer wins.
        assertTrue(PerMessageDeflate.acceptsAnOffer("permessage-deflate; server_max_window_bits=10, permessage-deflate"));
        assertFalse(PerMessageDeflate.acceptsAnOffer(null));
        assertFalse(PerMessageDeflate.acceptsAnOffer("x-webkit-deflate-frame"));
        assertFalse(PerMessageDeflate.acceptsAnOffer("permessage-deflate; server_max_window_bits=10"));
        assertFalse(PerMessageDeflate.acceptsAnOffer("permessage-deflate; client_max_window_bits=16"));
        assertFalse(PerMessageDeflate.acceptsAnOffer("permessage-deflate; client_max_window_bits=7"));
        assertFalse(PerMessageDeflate.acceptsAnOffer("permessage-deflate; server_no_context_takeover=1"));
        assertFalse(PerMessageDeflate.acceptsAnOffer("permessage-deflate; unknown"));
    }

    @Test
    void answersTheUpgradeWithNoContextTakeoverBothWays() {
        EmbeddedChannel ch = negotiated();
        assertTrue(PerMessageDeflate.negotiated(ch.pipeline()));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void withoutAnOfferTheUpgradeIsLeftAloneAndRsvBitsAreRefused() {
        EmbeddedChannel ch = new EmbeddedChannel(new PerMessageDeflate(compressor, MAX));
        ch.writeInbound(upgradeRequest(null));
        ch.<DefaultFullHttpRequest>readInbound().release();
        ch.writeOutbound(switchingProtocols());
        FullHttpResponse response = ch.readOutbound();
        assertNull(response.headers().get(HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS));
        response.release();
        assertFalse(PerMessageDeflate.negotiated(ch.pipeline()));
        assertViolation(ch, new TextWebSocketFrame(true, 4, Unpooled.wrappedBuffer(deflate(bytes(200)))),
                WebSocketCloseStatus.PROTOCOL_ERROR, "RSV bits set without a negotiated extension");
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void inflatesACompressedMessage() {
        EmbeddedChannel ch = negotiated();
        byte[] text = bytes(3000);
        ch.writeInbound(new TextWebSocketFrame(true, 4, Unpooled.wrappedBuffer(deflate(text))));
        TextWebSocketFrame plain = ch.readInbound();
        assertEquals(0, plain.rsv());
        assertArrayEquals(text, bytesOf(plain.content()));
        plain.release();
        // A plain message passes as it is.
        ch.writeInbound(new TextWebSocketFrame("hello"));
        TextWebSocketFrame hello = ch.readInbound();
        assertEquals("hello", hello.text());
        hello.release();
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void inflatesAFragmentedMessageWithRsv1OnItsFirstFrameOnly() {
        EmbeddedChannel ch = negotiated();
        byte[] text = bytes(3000);
        byte[] z = deflate(text);
        int a = z.length / 3;
        int b = 2 * z.length / 3;
        ch.writeInbound(new BinaryWebSocketFrame(false, 4, Unpooled.wrappedBuffer(Arrays.copyOfRange(z, 0, a))));
        ch.writeInbound(new ContinuationWebSocketFrame(false, 0, Unpooled.wrappedBuffer(Arrays.copyOfRange(z, a, b))));
        ch.writeInbound(new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(Arrays.copyOfRange(z, b, z.length))));
        ByteArrayOutputStream joined = new ByteArrayOutputStream();
        for (WebSocketFrame f; (f = ch.readInbound()) != null; ) {
            assertEquals(0, f.rsv());
            joined.writeBytes(bytesOf(f.content()));
            f.release();
        }
        assertArrayEquals(text, joined.toByteArray());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void refusesRsv1OnAControlOrContinuationFrameAndRsv2() {
        EmbeddedChannel ping = negotiated();
        assertViolation(ping, new PingWebSocketFrame(true, 4, Unpooled.EMPTY_BUFFER), WebSocketCloseStatus.PROTOCOL_ERROR,
                "RSV1 set on a control frame");
        assertFalse(ping.finishAndReleaseAll());

        EmbeddedChannel continuation = negotiated();
        continuation.writeInbound(new TextWebSocketFrame(false, 0, Unpooled.copiedBuffer("plain ", StandardCharsets.UTF_8)));
        continuation.<WebSocketFrame>readInbound().release();
        assertViolation(continuation, new ContinuationWebSocketFrame(true, 4, Unpooled.wrappedBuffer(deflate(bytes(10)))),
                WebSocketCloseStatus.PROTOCOL_ERROR, "RSV1 set on a continuation frame");
        assertFalse(continuation.finishAndReleaseAll());

        EmbeddedChannel rsv2 = negotiated();
        assertViolation(rsv2, new TextWebSocketFrame(true, 2, Unpooled.copiedBuffer("x", StandardCharsets.UTF_8)),
                WebSocketCloseStatus.PROTOCOL_ERROR, "RSV2 or RSV3 set: no extension defines them");
        assertFalse(rsv2.finishAndReleaseAll());
    }

    @Test
    void refusesDataThatIsNotDeflate() {
        EmbeddedChannel ch = negotiated();
        CorruptedWebSocketFrameException e = assertThrows(CorruptedWebSocketFrameException.class, () ->
                ch.writeInbound(new TextWebSocketFrame(true, 4, Unpooled.wrappedBuffer(new byte[] {(byte) 0xFF, 1, 2, 3}))));
        assertEquals(WebSocketCloseStatus.PROTOCOL_ERROR, e.closeStatus());
        assertTrue(e.getMessage().startsWith("Invalid compressed data"), e.getMessage());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void stopsInflatingAtTheMessageLimitWhateverTheCompressedSize() {
        EmbeddedChannel ch = negotiated();
        byte[] bomb = deflate(new byte[1024 * 1024]); // 1 MiB of zeros: about 1 KiB
        InflatedTooLargeException e = assertThrows(InflatedTooLargeException.class, () ->
                ch.writeInbound(new BinaryWebSocketFrame(true, 4, Unpooled.wrappedBuffer(bomb))));
        assertEquals("Message inflates to more than 4096 bytes", e.getMessage());
        // What follows is dropped while the session closes the connection.
        ch.writeInbound(new TextWebSocketFrame("after"));
        assertNull(ch.readInbound());
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void theLimitHoldsAcrossFragments() {
        EmbeddedChannel ch = negotiated();
        byte[] z = deflate(new byte[MAX + 1]);
        int half = z.length / 2;
        ch.writeInbound(new BinaryWebSocketFrame(false, 4, Unpooled.wrappedBuffer(Arrays.copyOfRange(z, 0, half))));
        WebSocketFrame first = ch.readInbound();
        first.release();
        assertThrows(InflatedTooLargeException.class, () ->
                ch.writeInbound(new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(Arrays.copyOfRange(z, half, z.length)))));
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void aMessageOfExactlyTheLimitPasses() {
        EmbeddedChannel ch = negotiated();
        byte[] text = new byte[MAX];
        Arrays.fill(text, (byte) 'a');
        ch.writeInbound(new TextWebSocketFrame(true, 4, Unpooled.wrappedBuffer(deflate(text))));
        TextWebSocketFrame plain = ch.readInbound();
        assertArrayEquals(text, bytesOf(plain.content()));
        plain.release();
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void compressesRepliesOverTheMinimumOnly() throws Exception {
        EmbeddedChannel ch = negotiated();
        byte[] text = bytes(1000);
        ch.writeOutbound(new TextWebSocketFrame(Unpooled.wrappedBuffer(text)));
        TextWebSocketFrame compressed = ch.readOutbound();
        assertEquals(4, compressed.rsv());
        assertArrayEquals(text, inflate(bytesOf(compressed.content())));
        compressed.release();
        ch.writeOutbound(new TextWebSocketFrame("short"));
        TextWebSocketFrame plain = ch.readOutbound();
        assertEquals(0, plain.rsv());
        assertEquals("short", plain.text());
        plain.release();
        assertFalse(ch.finishAndReleaseAll());
    }

    @Test
    void compressesAPreEncodedFrameKeepingItsOpcodeWithEachHeaderLength() throws Exception {
        ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
        // Payload sizes whose compressed form needs a 2-, 4- and 10-byte header.
        for (int size : new int[] {200, 2000, 400_000}) {
            byte[] payload = randomText(size);
            ByteBuf frame = alloc.buffer();
            WebSocketFrames.writeTextHeader(frame, payload.length);
            frame.writeBytes(payload);
            ByteBuf z = compressor.compressFrame(alloc, frame);
            try {
                assertEquals(0x81 | 0x40, z.getUnsignedByte(z.readerIndex()), "FIN, RSV1, text");
                int len7 = z.getUnsignedByte(z.readerIndex() + 1);
                int header = len7 <= 125 ? 2 : len7 == 126 ? 4 : 10;
                long length = len7 <= 125 ? len7 : len7 == 126 ? z.getUnsignedShort(z.readerIndex() + 2)
                        : z.getLong(z.readerIndex() + 2);
                assertEquals(z.readableBytes() - header, length);
                byte[] body = new byte[(int) length];
                z.getBytes(z.readerIndex() + header, body);
                assertArrayEquals(payload, inflate(body), "size " + size);
            } finally {
                z.release();
                frame.release();
            }
        }
    }

    @Test
    void leavesAFrameDeflateWouldNotShortenOrUnderTheMinimumPlain() {
        ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;
        byte[] noise = new byte[1000];
        new Random(1).nextBytes(noise);
        ByteBuf frame = alloc.buffer();
        frame.writeByte(0x82).writeByte(126).writeShort(noise.length).writeBytes(noise);
        assertNull(compressor.compressFrame(alloc, frame));
        frame.release();
        ByteBuf small = alloc.buffer();
        WebSocketFrames.writeTextHeader(small, 10);
        small.writeBytes(new byte[10]);
        assertNull(compressor.compressFrame(alloc, small));
        small.release();
    }

    private EmbeddedChannel negotiated() {
        EmbeddedChannel ch = new EmbeddedChannel(new PerMessageDeflate(compressor, MAX));
        ch.writeInbound(upgradeRequest("permessage-deflate; client_max_window_bits"));
        ch.<DefaultFullHttpRequest>readInbound().release();
        ch.writeOutbound(switchingProtocols());
        FullHttpResponse response = ch.readOutbound();
        assertEquals("permessage-deflate; server_no_context_takeover; client_no_context_takeover",
                response.headers().get(HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS));
        response.release();
        return ch;
    }

    private static DefaultFullHttpRequest upgradeRequest(String extensions) {
        DefaultFullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/api/connect");
        request.headers().set(HttpHeaderNames.UPGRADE, "websocket").set(HttpHeaderNames.CONNECTION, "Upgrade");
        if (extensions != null) {
            request.headers().set(HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS, extensions);
        }
        return request;
    }

    private static FullHttpResponse switchingProtocols() {
        return new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
    }

    private static void assertViolation(EmbeddedChannel ch, WebSocketFrame frame, WebSocketCloseStatus status, String message) {
        CorruptedWebSocketFrameException e = assertThrows(CorruptedWebSocketFrameException.class, () -> ch.writeInbound(frame));
        assertEquals(status, e.closeStatus());
        assertEquals(message, e.getMessage());
    }

    /** Text that deflate shrinks: words, repeated. */
    private static byte[] bytes(int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; b.length() < n; i++) {
            b.append("word").append(i % 13).append(' ');
        }
        return b.substring(0, n).getBytes(StandardCharsets.US_ASCII);
    }

    /** Letters at random: deflate shrinks them by its Huffman codes only. */
    private static byte[] randomText(int n) {
        Random r = new Random(n);
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ('a' + r.nextInt(26));
        }
        return b;
    }

    private static byte[] bytesOf(ByteBuf buf) {
        byte[] b = new byte[buf.readableBytes()];
        buf.getBytes(buf.readerIndex(), b);
        return b;
    }

    /** Deflates as a client does (raw, sync flush, the tail removed: RFC 7692 section 7.2.1). */
    private static byte[] deflate(byte[] data) {
        Deflater d = new Deflater(6, true);
        d.setInput(data);
        byte[] buf = new byte[data.length + 64];
        int n = d.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH);
        d.end();
        return Arrays.copyOf(buf, n - 4);
    }

    private static byte[] inflate(byte[] payload) throws Exception {
        Inflater i = new Inflater(true);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        byte[] withTail = Arrays.copyOf(payload, payload.length + 4);
        withTail[payload.length + 2] = (byte) 0xFF;
        withTail[payload.length + 3] = (byte) 0xFF;
        i.setInput(withTail);
        for (int n; (n = i.inflate(buf)) > 0 || !i.needsInput(); ) {
            out.write(buf, 0, n);
        }
        i.end();
        return out.toByteArray();
    }
}
