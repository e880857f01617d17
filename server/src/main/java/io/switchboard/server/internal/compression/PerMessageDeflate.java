package io.switchboard.server.internal.compression;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionData;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtensionUtil;
import io.netty.util.concurrent.FastThreadLocal;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * permessage-deflate on one WebSocket connection (RFC 7692), from the upgrade request on, when
 * {@code COMPRESSION} is on. It sits between the router's place and Netty's protocol handler
 * ({@code PipelineNames}), so it sees the upgrade request, the 101 response, every inbound frame
 * before the UTF-8 validator and the aggregator, and every reply the session writes; deliveries,
 * written from the backpressure handler's context, pass it by (the broker compressed them already).
 *
 * <ul>
 *   <li>Negotiation: the first {@code permessage-deflate} offer whose parameters the node can honour
 *       is accepted, answered with {@code server_no_context_takeover; client_no_context_takeover}.
 *       An offer is declined when it has an unknown or malformed parameter (section 7.1) or asks
 *       for {@code server_max_window_bits} under 15 (the JDK's deflater always uses a 32 KiB
 *       window). {@code client_max_window_bits} is accepted and left out of the answer: the inflater
 *       takes any window (section 7.1.2.2).</li>
 *   <li>Inbound: a message whose first frame has RSV1 is inflated, fragments included (RSV1 on the
 *       first frame only, section 6.1), and passes on as a plain frame; inflation stops and the
 *       connection closes with 1009 once the message passes {@code MAX_MESSAGE_BYTES}, whatever its
 *       compressed size ({@link InflatedTooLargeException}). RSV1 on a control or continuation frame,
 *       RSV2 or RSV3, RSV1 without the extension, and data that is not deflate close with 1002.</li>
 *   <li>Outbound: a final text or binary reply of at least {@code COMPRESSION_MIN_BYTES} is compressed
 *       with the node's {@link FrameCompressor} (no context takeover); others, and fragmented ones,
 *       go plain.</li>
 * </ul>
 *
 * <p>With {@code client_no_context_takeover} every inbound message starts a new stream, so an
 * {@link Inflater} is held only while a message is being read and otherwise waits in a per-thread
 * pool. One instance per connection; it lives on the connection's event loop and is not thread-safe.
 */
public final class PerMessageDeflate extends ChannelDuplexHandler {

    static final String EXTENSION = "permessage-deflate";
    static final String RESPONSE = EXTENSION + "; server_no_context_takeover; client_no_context_takeover";
    private static final int RSV1 = 0x04;
    private static final int RSV2_RSV3 = 0x03;
    /** What section 7.2.2 appends to a message before inflating it. */
    private static final byte[] TAIL = {0x00, 0x00, (byte) 0xFF, (byte) 0xFF};
    /** Idle inflaters a thread keeps for the next message; more are ended. */
    private static final int POOLED_PER_THREAD = 64;
    private static final FastThreadLocal<ArrayDeque<Inflater>> INFLATERS = new FastThreadLocal<>() {
        @Override
        protected ArrayDeque<Inflater> initialValue() {
            return new ArrayDeque<>();
        }

        @Override
        protected void onRemoval(ArrayDeque<Inflater> pool) {
            for (Inflater i : pool) {
                i.end();
            }
        }
    };

    private final FrameCompressor compressor;
    private final int maxMessageBytes;
    /** The client made an offer the node accepts; the extension is on once the 101 is written. */
    private boolean accepted;
    private boolean negotiated;
    /** Inflating a message: its inflater and how many bytes it has inflated to so far. */
    private Inflater inflater;
    private long inflated;
    /** A violation was found: what follows is dropped while the session closes the connection. */
    private boolean failed;

    public PerMessageDeflate(FrameCompressor compressor, int maxMessageBytes) {
        this.compressor = compressor;
        this.maxMessageBytes = maxMessageBytes;
    }

    /** Whether the connection of {@code pipeline} negotiated permessage-deflate. Call from its event loop. */
    public static boolean negotiated(ChannelPipeline pipeline) {
        PerMessageDeflate handler = pipeline.get(PerMessageDeflate.class);
        return handler != null && handler.negotiated;
    }

    /**
     * Whether the node accepts one of the offers of a {@code Sec-WebSocket-Extensions} header
     * ({@code null}: none).
     */
    static boolean acceptsAnOffer(String header) {
        if (header == null) {
            return false;
        }
        for (WebSocketExtensionData offer : WebSocketExtensionUtil.extractExtensions(header)) {
            if (EXTENSION.equalsIgnoreCase(offer.name()) && acceptable(offer.parameters())) {
                return true;
            }
        }
        return false;
    }

    private static boolean acceptable(Map<String, String> parameters) {
        for (Map.Entry<String, String> p : parameters.entrySet()) {
            String value = p.getValue();
            switch (p.getKey().toLowerCase(Locale.ROOT)) {
                case "server_no_context_takeover":
                case "client_no_context_takeover":
                    if (value != null) {
                        return false;
                    }
                    break;
                case "server_max_window_bits":
                    // The JDK deflates with a 32 KiB window only: an offer for a smaller one is declined.
                    if (!"15".equals(value)) {
                        return false;
                    }
                    break;
                case "client_max_window_bits":
                    if (value != null && !isWindowBits(value)) {
                        return false;
                    }
                    break;
                default:
                    return false;
            }
        }
        return true;
    }

    private static boolean isWindowBits(String value) {
        if (value.length() < 1 || value.length() > 2 || !value.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return false;
        }
        int bits = Integer.parseInt(value);
        return bits >= 8 && bits <= 15;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof WebSocketFrame) {
            WebSocketFrame frame = (WebSocketFrame) msg;
            if (failed) {
                frame.release();
                return;
            }
            ctx.fireChannelRead(inbound(ctx, frame));
        } else {
            if (msg instanceof HttpRequest) {
                accepted = acceptsAnOffer(((HttpRequest) msg).headers().get(HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS));
            }
            ctx.fireChannelRead(msg);
        }
    }

    /** Checks {@code frame}'s RSV bits and inflates it if it is compressed. Takes ownership of {@code frame}. */
    private WebSocketFrame inbound(ChannelHandlerContext ctx, WebSocketFrame frame) {
        int rsv = frame.rsv();
        boolean data = frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame;
        boolean continuation = frame instanceof ContinuationWebSocketFrame;
        if (rsv == 0 && (!continuation || inflater == null)) {
            return frame;
        }
        try {
            if (!negotiated || (rsv & RSV2_RSV3) != 0 || rsv != 0 && !data) {
                failed = true;
                throw new CorruptedWebSocketFrameException(WebSocketCloseStatus.PROTOCOL_ERROR,
                        !negotiated ? "RSV bits set without a negotiated extension"
                                : (rsv & RSV2_RSV3) != 0 ? "RSV2 or RSV3 set: no extension defines them"
                                : "RSV1 set on a " + (continuation ? "continuation" : "control") + " frame");
            }
            if (data) {
                inflater = takeInflater();
                inflated = 0;
            }
            ByteBuf content = inflate(ctx.alloc(), frame.content(), frame.isFinalFragment());
            WebSocketFrame plain = frame instanceof TextWebSocketFrame
                    ? new TextWebSocketFrame(frame.isFinalFragment(), 0, content)
                    : frame instanceof BinaryWebSocketFrame
                    ? new BinaryWebSocketFrame(frame.isFinalFragment(), 0, content)
                    : new ContinuationWebSocketFrame(frame.isFinalFragment(), 0, content);
            if (frame.isFinalFragment()) {
                returnInflater();
            }
            return plain;
        } finally {
            frame.release();
        }
    }

    /**
     * Inflates {@code compressed} (and, at the end of the message, the tail section 7.2.2 restores)
     * into a new buffer, stopping past {@code MAX_MESSAGE_BYTES} for the whole message. Does not take
     * ownership of {@code compressed}; the caller must release the returned buffer.
     */
    private ByteBuf inflate(ByteBufAllocator alloc, ByteBuf compressed, boolean last) {
        int budget = (int) Math.min(Integer.MAX_VALUE - 1, maxMessageBytes - inflated);
        // One byte more than the budget, so that "more than the limit" can be seen.
        ByteBuf out = alloc.buffer(Math.min(budget + 1, Math.max(256, compressed.readableBytes() * 4)), budget + 1);
        boolean release = true;
        try {
            inflater.setInput(compressed.nioBuffer());
            drain(out, budget);
            if (last) {
                inflater.setInput(TAIL);
                drain(out, budget);
            }
            inflated += out.readableBytes();
            release = false;
            return out;
        } catch (DataFormatException e) {
            failed = true;
            throw new CorruptedWebSocketFrameException(WebSocketCloseStatus.PROTOCOL_ERROR,
                    "Invalid compressed data: " + e.getMessage());
        } finally {
            if (release) {
                out.release();
            }
        }
    }

    /**
     * Inflates what the inflater has into {@code out} until it has no more output: an output that
     * fills the room offered may be incomplete (zlib may hold more), so only one that leaves room
     * ends the loop.
     */
    private void drain(ByteBuf out, int budget) throws DataFormatException {
        for (;;) {
            if (!out.isWritable()) {
                out.ensureWritable(Math.min(out.capacity(), out.maxCapacity() - out.writerIndex()));
            }
            int writerIndex = out.writerIndex();
            ByteBuffer target = out.nioBuffer(writerIndex, out.writableBytes());
            int n = inflater.inflate(target);
            out.writerIndex(writerIndex + n);
            if (out.writerIndex() > budget) {
                failed = true;
                throw new InflatedTooLargeException(maxMessageBytes);
            }
            if (target.hasRemaining()) {
                if (inflater.needsDictionary()) {
                    throw new DataFormatException("a preset dictionary is not allowed");
                }
                return;
            }
        }
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (negotiated && (msg instanceof TextWebSocketFrame || msg instanceof BinaryWebSocketFrame)) {
            WebSocketFrame frame = (WebSocketFrame) msg;
            if (frame.isFinalFragment() && frame.rsv() == 0) {
                ByteBuf compressed = compressor.compressPayload(ctx.alloc(), frame.content());
                if (compressed != null) {
                    frame.release();
                    msg = frame instanceof TextWebSocketFrame ? new TextWebSocketFrame(true, RSV1, compressed)
                            : new BinaryWebSocketFrame(true, RSV1, compressed);
                }
            }
        } else if (accepted && msg instanceof HttpResponse
                && HttpResponseStatus.SWITCHING_PROTOCOLS.equals(((HttpResponse) msg).status())) {
            ((HttpResponse) msg).headers().set(HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS, RESPONSE);
            // Frames are read only once the 101 is on its way: nothing compressed can come before this.
            negotiated = true;
        }
        ctx.write(msg, promise);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        returnInflater();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        returnInflater();
        super.channelInactive(ctx);
    }

    private static Inflater takeInflater() {
        Inflater i = INFLATERS.get().poll();
        return i != null ? i : new Inflater(true);
    }

    /** Hands the message's inflater, if any, back to this thread's pool (with no context takeover, it is reset). */
    private void returnInflater() {
        Inflater i = inflater;
        if (i == null) {
            return;
        }
        inflater = null;
        i.reset();
        ArrayDeque<Inflater> pool = INFLATERS.get();
        if (pool.size() < POOLED_PER_THREAD) {
            pool.push(i);
        } else {
            i.end();
        }
    }
}
