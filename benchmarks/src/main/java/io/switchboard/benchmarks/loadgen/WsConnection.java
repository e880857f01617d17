package io.switchboard.benchmarks.loadgen;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.switchboard.benchmarks.Frames;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A minimal WebSocket client connection (RFC 6455) for load: sends the upgrade request, checks the
 * 101, then parses server frames from the byte stream and hands each complete message (text or
 * binary) to its {@link Listener}. Answers pings; reports close frames. Sends masked frames.
 *
 * <p>With {@code deflate} it has offered permessage-deflate (RFC 7692, {@code --compression}): the
 * server must accept it, and a message whose first frame has RSV1 is inflated before the listener
 * gets it (what a browser does for each compressed message; its cost is the client's, not the
 * server's). What it sends stays plain, which the extension allows.
 *
 * <p>One per connection; used from its event loop.
 */
final class WsConnection extends ChannelInboundHandlerAdapter {

    interface Listener {
        void onOpen(WsConnection connection);

        /** A complete text or binary message; {@code payload} is valid during the call only (not released by the listener). */
        void onMessage(WsConnection connection, ByteBuf payload);

        void onFailure(WsConnection connection, String reason);

        /** The connection is closed, whatever the reason; called once, last. */
        void onClosed(WsConnection connection);
    }

    private static final ByteBuf HEAD_END = Unpooled.unreleasableBuffer(
            Unpooled.wrappedBuffer(new byte[] {'\r', '\n', '\r', '\n'}));

    final int index;
    private final byte[] upgrade;
    private final Listener listener;
    private ChannelHandlerContext ctx;
    private ByteBuf buffered;
    private CompositeByteBuf fragments;
    private boolean open;
    private boolean failed;
    private final boolean deflate;
    /** Counts the messages that came compressed; {@code null} without {@code --compression}. */
    private final LongAdder compressedMessages;
    /** The message being reassembled started with RSV1. */
    private boolean compressed;
    private Inflater inflater;

    /** The offer {@code --compression} makes: what browsers send. */
    static final String DEFLATE_OFFER = "permessage-deflate; client_max_window_bits";
    private static final byte[] DEFLATE_TAIL = {0x00, 0x00, (byte) 0xFF, (byte) 0xFF};

    /** @param compressedMessages with permessage-deflate offered: counts compressed messages; {@code null}: not offered */
    WsConnection(int index, byte[] upgrade, LongAdder compressedMessages, Listener listener) {
        this.index = index;
        this.upgrade = upgrade;
        this.deflate = compressedMessages != null;
        this.compressedMessages = compressedMessages;
        this.listener = listener;
    }

    ChannelHandlerContext ctx() {
        return ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        ctx.writeAndFlush(Unpooled.wrappedBuffer(upgrade));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        ByteBuf buf;
        if (buffered == null) {
            buf = in;
        } else {
            buffered.writeBytes(in);
            in.release();
            buf = buffered;
        }
        try {
            if (!open) {
                int end = ByteBufUtil.indexOf(HEAD_END, buf);
                if (end < 0) {
                    keep(buf);
                    return;
                }
                String head = buf.toString(buf.readerIndex(), end - buf.readerIndex(), StandardCharsets.ISO_8859_1);
                if (!head.startsWith("HTTP/1.1 101")) {
                    fail("upgrade refused: " + head.lines().findFirst().orElse(head));
                    return;
                }
                buf.readerIndex(end + 4);
                if (deflate && !head.toLowerCase(Locale.ROOT).contains("permessage-deflate")) {
                    fail("the server did not accept permessage-deflate (is COMPRESSION on?)");
                    return;
                }
                open = true;
                listener.onOpen(this);
            }
            while (!failed && parseFrame(buf)) {
                // one frame at a time
            }
            keep(buf);
        } finally {
            if (buf == in) {
                in.release();
            }
        }
    }

    /** Keeps the unread rest of {@code buf} for the next read. */
    private void keep(ByteBuf buf) {
        if (buf == buffered) {
            buffered.discardReadBytes();
            if (!buffered.isReadable()) {
                buffered.release();
                buffered = null;
            }
        } else if (buf.isReadable()) {
            buffered = ctx.alloc().buffer(Math.max(1024, buf.readableBytes() * 2));
            buffered.writeBytes(buf);
        }
    }

    /** Parses one complete frame if {@code buf} holds it. */
    private boolean parseFrame(ByteBuf buf) {
        int readable = buf.readableBytes();
        if (readable < 2) {
            return false;
        }
        int i = buf.readerIndex();
        int b0 = buf.getUnsignedByte(i);
        int b1 = buf.getUnsignedByte(i + 1);
        long length = b1 & 0x7F;
        int header = 2;
        if (length == 126) {
            if (readable < 4) {
                return false;
            }
            length = buf.getUnsignedShort(i + 2);
            header = 4;
        } else if (length == 127) {
            if (readable < 10) {
                return false;
            }
            length = buf.getLong(i + 2);
            header = 10;
        }
        if ((b1 & 0x80) != 0 || length > Integer.MAX_VALUE - header) {
            fail("a malformed frame from the server");
            return false;
        }
        if (readable < header + length) {
            return false;
        }
        ByteBuf payload = buf.slice(i + header, (int) length);
        buf.readerIndex(i + header + (int) length);
        boolean fin = (b0 & 0x80) != 0;
        int opcode = b0 & 0x0F;
        switch (opcode) {
            case 0x1:
            case 0x2:
            case 0x0:
                if (opcode != 0) {
                    compressed = (b0 & 0x40) != 0;
                    if (compressed && !deflate) {
                        fail("a compressed frame without permessage-deflate");
                        return false;
                    }
                }
                if (fin && fragments == null) {
                    message(payload);
                } else {
                    if (fragments == null) {
                        fragments = ctx.alloc().compositeBuffer();
                    }
                    fragments.addComponent(true, payload.retain());
                    if (fin) {
                        message(fragments);
                        fragments.release();
                        fragments = null;
                    }
                }
                break;
            case 0x9:
                ctx.writeAndFlush(frame(ctx.alloc(), Frames.PONG, payload));
                break;
            case 0x8:
                int code = payload.readableBytes() >= 2 ? payload.getUnsignedShort(payload.readerIndex()) : 1005;
                fail("closed by the server with " + code);
                break;
            default:
                break; // pong: ignored
        }
        return true;
    }

    /** Hands a complete message to the listener, inflated first if it came compressed. Does not release {@code payload}. */
    private void message(ByteBuf payload) {
        if (!compressed) {
            listener.onMessage(this, payload);
            return;
        }
        if (inflater == null) {
            inflater = new Inflater(true);
        }
        compressedMessages.increment();
        ByteBuf plain = ctx.alloc().heapBuffer(Math.max(256, payload.readableBytes() * 4));
        try {
            inflater.setInput(payload.nioBuffer());
            drain(plain);
            inflater.setInput(DEFLATE_TAIL);
            drain(plain);
            inflater.reset(); // the server takes no context over (server_no_context_takeover)
            listener.onMessage(this, plain);
        } catch (DataFormatException e) {
            fail("a compressed message that does not inflate: " + e.getMessage());
        } finally {
            plain.release();
        }
    }

    private void drain(ByteBuf out) throws DataFormatException {
        for (;;) {
            out.ensureWritable(Math.max(256, out.writableBytes()));
            int n = inflater.inflate(out.array(), out.arrayOffset() + out.writerIndex(), out.writableBytes());
            out.writerIndex(out.writerIndex() + n);
            if (out.isWritable()) {
                return; // room left: the inflater has nothing more (an output that fills the room may be incomplete)
            }
        }
    }

    /** Sends a masked frame ({@code firstByte}: FIN and opcode) carrying {@code payload}; takes ownership of it. */
    void send(int firstByte, ByteBuf payload, boolean flush) {
        ByteBuf frame;
        try {
            frame = frame(ctx.alloc(), firstByte, payload);
        } finally {
            payload.release();
        }
        if (flush) {
            ctx.writeAndFlush(frame, ctx.voidPromise());
        } else {
            ctx.write(frame, ctx.voidPromise());
        }
    }

    /** A frame of {@code payload} (not released) with a fresh random mask. */
    private static ByteBuf frame(ByteBufAllocator alloc, int firstByte, ByteBuf payload) {
        return Frames.masked(alloc.buffer(payload.readableBytes() + 14), firstByte, payload,
                ThreadLocalRandom.current().nextInt());
    }

    private void fail(String reason) {
        if (!failed) {
            failed = true;
            listener.onFailure(this, reason);
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (buffered != null) {
            buffered.release();
            buffered = null;
        }
        if (fragments != null) {
            fragments.release();
            fragments = null;
        }
        if (inflater != null) {
            inflater.end();
            inflater = null;
        }
        if (!failed) {
            failed = true;
            listener.onFailure(this, "connection closed");
        }
        listener.onClosed(this);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(cause.toString());
    }
}
