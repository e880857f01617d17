package io.switchboard.benchmarks.loadgen;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;


/**
 * chatroom topics (PROTOCOL.md section 4): a channel is a {@code string} topic. After {@code hello}
 * the client subscribes to each; the first {@code update} per subscribe is the topic's current
 * value (from before the run: not a delivery), and it is joined when all have come. A publish is an
 * {@code update} whose change is {@code set} to the content; the node sends it to every subscriber,
 * the sender included, with the topic's next version.
 */
final class ChatroomProtocol extends Protocol {

    static final ChatroomProtocol INSTANCE = new ChatroomProtocol();

    private static final byte[] UPDATE = key("{\"type\":\"update\"");
    private static final byte[] HELLO = key("{\"type\":\"hello\"");
    private static final byte[] REJECT = key("{\"type\":\"reject_update\"");
    private static final byte[] VALUE_KEY = key("\"value\":\"");

    @Override
    String name() {
        return "chatroom";
    }

    @Override
    URI defaultUrl() {
        return URI.create("ws://127.0.0.1:3501/chatroom");
    }

    @Override
    String target(String base, String clientName, List<String> channels) {
        return base;
    }

    @Override
    Client client(Events events, List<String> channels) {
        return new Client(events, channels) {
            private boolean greeted;
            private int joining = channels.size();

            @Override
            void onMessage(ByteBufAllocator alloc, ByteBuf payload) {
                if (startsWith(payload, UPDATE)) {
                    if (joining > 0) {
                        if (--joining == 0) {
                            events.joined();
                        }
                    } else {
                        int value = after(payload, VALUE_KEY);
                        if (value >= 0) {
                            events.delivered(payload, value);
                        }
                    }
                } else if (!greeted && startsWith(payload, HELLO)) {
                    greeted = true;
                    for (String topic : channels) {
                        events.send(Unpooled.copiedBuffer("{\"type\":\"subscribe\",\"content\":{\"topic_name\":\""
                                + topic + "\",\"type\":\"string\"}}", StandardCharsets.UTF_8), true);
                    }
                    if (joining == 0) {
                        events.joined();
                    }
                } else if (startsWith(payload, REJECT)) {
                    events.serverError(payload.toString(StandardCharsets.UTF_8));
                }
            }

            @Override
            ByteBuf publish(ByteBufAllocator alloc, String channel, long seq, long intendedNanos, int bytes) {
                String head = "{\"type\":\"update\",\"content\":{\"topic_name\":\"" + channel
                        + "\",\"change\":{\"type\":\"set\",\"value\":\"";
                ByteBuf json = alloc.buffer(head.length() + Content.length(seq, intendedNanos, bytes - 2) + 4);
                json.writeCharSequence(head, StandardCharsets.US_ASCII);
                Content.write(json, seq, intendedNanos, bytes - 2); // bytes counts the quotes
                json.writeCharSequence("\"}}}", StandardCharsets.US_ASCII);
                return json;
            }
        };
    }
}
