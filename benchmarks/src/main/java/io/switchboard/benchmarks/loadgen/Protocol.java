package io.switchboard.benchmarks.loadgen;

import io.netty.buffer.ByteBuf;
import io.switchboard.benchmarks.Bytes;
import io.netty.buffer.ByteBufAllocator;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * What differs between the protocols loadgen speaks: how a connection joins its channels, how a
 * publish looks on the wire and how a delivery is recognised. Everything else (the schedule, the
 * accounting, the report) is the same for all of them. One instance per protocol, stateless; each
 * connection gets a {@link Client} of its own.
 */
abstract class Protocol {

    static final List<String> NAMES = List.of("minichats", "disposable", "chatroom", "nats");

    /** The protocol called {@code name}; IllegalArgumentException with the choices otherwise. */
    static Protocol named(String name) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "minichats":
                return MinichatsProtocol.INSTANCE;
            case "disposable":
                return DisposableProtocol.INSTANCE;
            case "chatroom":
                return ChatroomProtocol.INSTANCE;
            case "nats":
                return NatsProtocol.INSTANCE;
            default:
                throw new IllegalArgumentException("--protocol " + name + ": expected one of " + String.join(", ", NAMES));
        }
    }

    abstract String name();

    /** The URL loadgen uses without {@code --url}. */
    abstract URI defaultUrl();

    /** The largest content a publish may carry (the protocol's own limit), in bytes. */
    int maxContentBytes() {
        return 1 << 20;
    }

    /** Whether a connection is in exactly one channel (a disposable room). */
    boolean oneChannelPerConnection() {
        return false;
    }

    /**
     * Whether the server answers each publish (a minichats {@code ok}); otherwise a publisher takes
     * its own copy of a publish, which it receives as a member of the channel, as the answer.
     */
    boolean repliesToPublish() {
        return false;
    }

    /** The first byte (FIN and opcode) of the frames a client sends. */
    int frameType() {
        return 0x81;
    }

    /** The request target (path and query) of a connection called {@code clientName} joining {@code channels}. */
    abstract String target(String base, String clientName, List<String> channels);

    /** A client for one connection that joins {@code channels}. */
    abstract Client client(Events events, List<String> channels);

    /** A key to look for in a message with {@link Client#after} and the like. */
    static byte[] key(String ascii) {
        return ascii.getBytes(StandardCharsets.US_ASCII);
    }

    static String withQuery(String base, String query) {
        return base + (base.contains("?") ? "&" : "?") + query;
    }

    static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** What a client tells its connection. Called from the connection's event loop. */
    interface Events {
        /** Sends one WebSocket message; takes ownership of {@code payload}. */
        void send(ByteBuf payload, boolean flush);

        /** Every channel is joined: the connection is ready. */
        void joined();

        /** A delivery; its content starts at {@code contentAt} in {@code buf} (valid during the call only). */
        void delivered(ByteBuf buf, int contentAt);

        /** The server answered a publish ({@link #repliesToPublish()} protocols only). */
        void answered(boolean ok, ByteBuf payload);

        /** The server refused to let this connection join: the run cannot go on. */
        void refused(String why);

        /** An error the server sent (the connection lives on). */
        void serverError(String text);
    }

    /** One connection's protocol state. Not thread-safe: every method is called from its event loop. */
    abstract static class Client {
        final Events events;
        final List<String> channels;

        Client(Events events, List<String> channels) {
            this.events = events;
            this.channels = channels;
        }

        /** The upgrade is done. */
        void opened() {
        }

        /** A complete message from the server; {@code payload} is valid during the call only (not released here). */
        abstract void onMessage(ByteBufAllocator alloc, ByteBuf payload);

        /** The payload of a publish of {@code content} bytes to {@code channel}. The caller must release (or send) it. */
        abstract ByteBuf publish(ByteBufAllocator alloc, String channel, long seq, long intendedNanos, int bytes);

        /** The connection is gone: release what is held. */
        void closed() {
        }

        static boolean contains(ByteBuf haystack, byte[] needle) {
            return indexOf(haystack, needle) >= 0;
        }

        /** The index just after {@code key} in {@code buf}, or -1. */
        static int after(ByteBuf buf, byte[] key) {
            int at = indexOf(buf, key);
            return at < 0 ? -1 : at + key.length;
        }

        static boolean startsWith(ByteBuf buf, byte[] prefix) {
            return buf.readableBytes() >= prefix.length && Bytes.matches(buf, buf.readerIndex(), prefix);
        }

        /** The first index of {@code needle} in {@code haystack}'s readable bytes, or -1: {@link Bytes#indexOf}. */
        static int indexOf(ByteBuf haystack, byte[] needle) {
            return Bytes.indexOf(haystack, needle);
        }

    }
}
