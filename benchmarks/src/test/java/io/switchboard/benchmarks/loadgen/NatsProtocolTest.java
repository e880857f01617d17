package io.switchboard.benchmarks.loadgen;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The NATS client's stream parsing: operations cut anywhere by WebSocket frames, PING answered. */
class NatsProtocolTest {

    private final ByteBufAllocator alloc = new UnpooledByteBufAllocator(false);
    private final List<String> sent = new ArrayList<>();
    private final List<String> delivered = new ArrayList<>();
    private final List<String> events = new ArrayList<>();

    private final Protocol.Events sink = new Protocol.Events() {
        @Override
        public void send(ByteBuf payload, boolean flush) {
            try {
                sent.add(payload.toString(StandardCharsets.US_ASCII));
            } finally {
                payload.release();
            }
        }

        @Override
        public void joined() {
            events.add("joined");
        }

        @Override
        public void delivered(ByteBuf buf, int contentAt) {
            long[] parsed = new long[2];
            events.add(Content.parse(buf, contentAt, parsed) ? "delivered " + parsed[0] + ":" + parsed[1] : "junk");
        }

        @Override
        public void answered(boolean ok, ByteBuf payload) {
            events.add("answered");
        }

        @Override
        public void refused(String why) {
            events.add("refused " + why);
        }

        @Override
        public void serverError(String text) {
            events.add("error " + text);
        }
    };

    @Test
    void connectsSubscribesAndIsReadyAtThePong() {
        Protocol.Client client = NatsProtocol.INSTANCE.client(sink, List.of("a-0", "a-1"));
        feed(client, "INFO {\"server_id\":\"x\"}\r\n");
        assertEquals(1, sent.size());
        String hello = sent.get(0);
        assertEquals(true, hello.startsWith("CONNECT {\"verbose\":false"), hello);
        assertEquals(true, hello.endsWith("\r\nSUB a-0 1\r\nSUB a-1 2\r\nPING\r\n"), hello);
        feed(client, "PONG\r\n");
        assertEquals(List.of("joined"), events);
        client.closed();
    }

    @Test
    void parsesMessagesSplitAnywhereAndAnswersPings() {
        Protocol.Client client = NatsProtocol.INSTANCE.client(sink, List.of("a-0"));
        feed(client, "INFO {}\r\nPONG\r\n");
        String stream = "MSG a-0 1 8\r\n1f:2a:xx\r\nPING\r\nMSG a-0 1 reply.to 8\r\n20:2b:yy\r\n-ERR 'Slow Consumer'\r\n";
        // Every cut of the stream into two frames gives the same operations.
        for (int cut = 0; cut <= stream.length(); cut++) {
            events.clear();
            sent.clear();
            feed(client, stream.substring(0, cut));
            feed(client, stream.substring(cut));
            assertEquals(List.of("delivered 31:42", "delivered 32:43", "error -ERR 'Slow Consumer'"), events,
                    "cut at " + cut);
            assertEquals(List.of("PONG\r\n"), sent, "cut at " + cut);
        }
        client.closed();
    }

    @Test
    void publishesThePayloadWithItsLength() {
        Protocol.Client client = NatsProtocol.INSTANCE.client(sink, List.of("a-0"));
        ByteBuf pub = client.publish(alloc, "a-0", 0x1f, 0x2a, 10);
        try {
            assertEquals("PUB a-0 10\r\n1f:2a:xxxx\r\n", pub.toString(StandardCharsets.US_ASCII));
        } finally {
            pub.release();
        }
    }

    private void feed(Protocol.Client client, String frame) {
        ByteBuf payload = Unpooled.copiedBuffer(frame, StandardCharsets.US_ASCII);
        try {
            client.onMessage(alloc, payload);
        } finally {
            payload.release();
        }
    }
}
