package io.switchboard.benchmarks.loadgen;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * NATS over WebSocket (the NATS client protocol: {@code CONNECT}, {@code SUB}, {@code PUB},
 * {@code MSG}, {@code PING}/{@code PONG}), so that the same tool measures a nats-server. A
 * channel is a subject. The protocol is a byte stream cut into WebSocket frames anywhere, so the
 * client keeps what a frame leaves of an operation until the next one. After the server's
 * {@code INFO} it sends {@code CONNECT} (not verbose: no {@code +OK}s), one {@code SUB} per subject
 * and a {@code PING}: the {@code PONG} says every {@code SUB} is in place. It answers the server's
 * {@code PING}s with {@code PONG}, as a client must or be dropped as stale.
 */
final class NatsProtocol extends Protocol {

    static final NatsProtocol INSTANCE = new NatsProtocol();

    private static final String CONNECT = "CONNECT {\"verbose\":false,\"pedantic\":false,\"name\":\"loadgen\","
            + "\"lang\":\"java\",\"version\":\"loadgen\",\"protocol\":1,\"echo\":true,\"headers\":false}\r\n";

    @Override
    String name() {
        return "nats";
    }

    @Override
    URI defaultUrl() {
        return URI.create("ws://127.0.0.1:8080/");
    }

    @Override
    int frameType() {
        return 0x82; // binary, as NATS's own WebSocket clients send
    }

    @Override
    String target(String base, String clientName, List<String> channels) {
        return base;
    }

    @Override
    Client client(Events events, List<String> channels) {
        return new NatsClient(events, channels);
    }

    /** One connection's NATS state: the operation stream's unparsed rest, and whether it is joined. */
    private static final class NatsClient extends Client {
        /** What the last frames left of an operation; released in {@link #closed()}. */
        private ByteBuf rest;
        private boolean connected;
        private boolean joined;

        NatsClient(Events events, List<String> channels) {
            super(events, channels);
        }

        @Override
        void onMessage(ByteBufAllocator alloc, ByteBuf payload) {
            ByteBuf in;
            if (rest == null) {
                in = payload;
            } else {
                rest.writeBytes(payload);
                in = rest;
            }
            while (in.isReadable() && parse(in)) {
                // one operation at a time
            }
            if (in == rest) {
                if (rest.isReadable()) {
                    rest.discardSomeReadBytes();
                } else {
                    rest.release();
                    rest = null;
                }
            } else if (in.isReadable()) {
                rest = alloc.buffer(Math.max(256, in.readableBytes() * 2));
                rest.writeBytes(in);
            }
        }

        /** Parses one operation if {@code in} holds all of it. */
        private boolean parse(ByteBuf in) {
            int start = in.readerIndex();
            int eol = in.indexOf(start, in.writerIndex(), (byte) '\n');
            if (eol < 0) {
                return false;
            }
            int lineEnd = eol > start && in.getByte(eol - 1) == '\r' ? eol - 1 : eol;
            byte first = in.getByte(start);
            if (first == 'M' || first == 'm') {
                // MSG <subject> <sid> [reply-to] <#bytes>\r\n<payload>\r\n
                int size = lastNumber(in, start, lineEnd);
                int payloadAt = eol + 1;
                if (in.writerIndex() < payloadAt + size + 2) {
                    return false;
                }
                in.readerIndex(payloadAt + size + 2);
                events.delivered(in, payloadAt);
                return true;
            }
            String line = in.toString(start, lineEnd - start, StandardCharsets.US_ASCII);
            in.readerIndex(eol + 1);
            String op = line.length() >= 4 ? line.substring(0, 4).toUpperCase(java.util.Locale.ROOT) : line;
            if (op.startsWith("PING")) {
                events.send(ascii("PONG\r\n"), true);
            } else if (op.startsWith("PONG")) {
                if (connected && !joined) {
                    joined = true;
                    events.joined();
                }
            } else if (op.startsWith("INFO")) {
                if (!connected) {
                    connected = true;
                    StringBuilder hello = new StringBuilder(CONNECT);
                    int sid = 1;
                    for (String subject : channels) {
                        hello.append("SUB ").append(subject).append(' ').append(sid++).append("\r\n");
                    }
                    hello.append("PING\r\n");
                    events.send(ascii(hello.toString()), true);
                }
            } else if (op.startsWith("-ERR")) {
                if (joined) {
                    events.serverError(line);
                } else {
                    events.refused(line);
                }
            }
            // +OK: ignored
            return true;
        }

        private static int lastNumber(ByteBuf in, int start, int end) {
            int i = end;
            while (i > start && in.getByte(i - 1) == ' ') {
                i--;
            }
            int n = 0;
            int scale = 1;
            while (i > start) {
                byte b = in.getByte(--i);
                if (b < '0' || b > '9') {
                    break;
                }
                n += (b - '0') * scale;
                scale *= 10;
            }
            return n;
        }

        @Override
        ByteBuf publish(ByteBufAllocator alloc, String channel, long seq, long intendedNanos, int bytes) {
            int length = Content.length(seq, intendedNanos, bytes);
            String head = "PUB " + channel + ' ' + length + "\r\n";
            ByteBuf op = alloc.buffer(head.length() + length + 2);
            op.writeCharSequence(head, StandardCharsets.US_ASCII);
            Content.write(op, seq, intendedNanos, bytes);
            op.writeByte('\r').writeByte('\n');
            return op;
        }

        @Override
        void closed() {
            if (rest != null) {
                rest.release();
                rest = null;
            }
        }

        private static ByteBuf ascii(String s) {
            return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
        }
    }
}
