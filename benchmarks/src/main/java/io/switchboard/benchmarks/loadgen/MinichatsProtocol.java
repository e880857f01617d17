package io.switchboard.benchmarks.loadgen;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * minichats (PROTOCOL.md section 1): {@code subscribe} each channel after the connection
 * confirmation, {@code publish} with the content as a JSON string; every publish is answered.
 */
final class MinichatsProtocol extends Protocol {

    static final MinichatsProtocol INSTANCE = new MinichatsProtocol();

    private static final ByteBuf CONTENT_KEY = ascii("\"content\":\"");
    private static final ByteBuf STATUS_OK = ascii("\"status\":\"ok\"");

    @Override
    String name() {
        return "minichats";
    }

    @Override
    URI defaultUrl() {
        return URI.create("ws://127.0.0.1:3501/api/connect");
    }

    @Override
    boolean repliesToPublish() {
        return true;
    }

    @Override
    String target(String base, String clientName, List<String> channels) {
        return withQuery(base, "client_name=" + encode(clientName));
    }

    @Override
    Client client(Events events, List<String> channels) {
        return new Client(events, channels) {
            private boolean confirmed;
            private int joining = channels.size();

            @Override
            void onMessage(ByteBufAllocator alloc, ByteBuf payload) {
                int content = after(payload, CONTENT_KEY);
                if (content >= 0) {
                    events.delivered(payload, content);
                } else if (!confirmed) {
                    confirmed = true;
                    for (String channel : channels) {
                        events.send(Unpooled.copiedBuffer("{\"action\":\"subscribe\",\"params\":{\"channel_name\":\""
                                + channel + "\"}}", StandardCharsets.UTF_8), true);
                    }
                    if (joining == 0) {
                        events.joined();
                    }
                } else if (joining > 0) {
                    if (!contains(payload, STATUS_OK)) {
                        events.refused("subscribe refused: " + payload.toString(StandardCharsets.UTF_8));
                    } else if (--joining == 0) {
                        events.joined();
                    }
                } else {
                    events.answered(contains(payload, STATUS_OK), payload);
                }
            }

            @Override
            ByteBuf publish(ByteBufAllocator alloc, String channel, long seq, long intendedNanos, int bytes) {
                // bytes counts the JSON string's quotes, as loadgen always has for minichats.
                int contentBytes = Math.max(0, bytes - 2);
                String head = "{\"action\":\"publish\",\"params\":{\"channel_name\":\"" + channel + "\",\"content\":\"";
                ByteBuf json = alloc.buffer(head.length() + Content.length(seq, intendedNanos, contentBytes) + 4);
                json.writeCharSequence(head, StandardCharsets.US_ASCII);
                Content.write(json, seq, intendedNanos, contentBytes);
                json.writeCharSequence("\"}}", StandardCharsets.US_ASCII);
                return json;
            }
        };
    }

    static ByteBuf ascii(String s) {
        return Unpooled.unreleasableBuffer(Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII));
    }
}
