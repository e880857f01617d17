package io.switchboard.server.internal.dialect.line;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/**
 * Drops telnet's option negotiation from a line client's bytes (RFC 854): {@code IAC} followed by
 * a command, by {@code WILL}/{@code WONT}/{@code DO}/{@code DONT} and an option, or a subnegotiation
 * {@code IAC SB ... IAC SE}. {@code IAC IAC} stands for the byte 255. The server offers no
 * options and answers none: a telnet client then keeps its defaults, which suit a line chat.
 * Bytes without {@code IAC} pass through as they are.
 *
 * <p>One instance per connection (it remembers a sequence split between reads); not thread-safe.
 */
public final class TelnetFilter extends ByteToMessageDecoder {

    private static final int IAC = 255;
    private static final int SB = 250;
    private static final int SE = 240;
    private static final int WILL = 251;
    private static final int DONT = 254;

    private enum State { DATA, COMMAND, OPTION, SUBNEGOTIATION, SUBNEGOTIATION_IAC }

    private State state = State.DATA;

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (state == State.DATA && in.indexOf(in.readerIndex(), in.writerIndex(), (byte) IAC) < 0) {
            out.add(in.readRetainedSlice(in.readableBytes())); // the common case: plain text
            return;
        }
        ByteBuf data = ctx.alloc().buffer(in.readableBytes());
        while (in.isReadable()) {
            int b = in.readUnsignedByte();
            switch (state) {
                case DATA:
                    if (b == IAC) {
                        state = State.COMMAND;
                    } else {
                        data.writeByte(b);
                    }
                    break;
                case COMMAND:
                    if (b == IAC) {
                        data.writeByte(b); // an escaped 255
                        state = State.DATA;
                    } else if (b == SB) {
                        state = State.SUBNEGOTIATION;
                    } else if (b >= WILL && b <= DONT) {
                        state = State.OPTION;
                    } else {
                        state = State.DATA; // a two-byte command: NOP, AYT, GA, ...
                    }
                    break;
                case OPTION:
                    state = State.DATA;
                    break;
                case SUBNEGOTIATION:
                    if (b == IAC) {
                        state = State.SUBNEGOTIATION_IAC;
                    }
                    break;
                default: // SUBNEGOTIATION_IAC
                    state = b == SE ? State.DATA : State.SUBNEGOTIATION;
                    break;
            }
        }
        if (data.isReadable()) {
            out.add(data);
        } else {
            data.release();
        }
    }
}
