package io.switchboard.benchmarks.loadgen;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;


/**
 * disposable rooms (PROTOCOL.md section 2): a connection is in the one room of its URL
 * ({@code /ws?name=&room=}), joined when its {@code welcome} arrives; a publish is
 * {@code {"text": content}}, which comes back to the whole room, sender included, as a {@code chat}.
 */
final class DisposableProtocol extends Protocol {

    static final DisposableProtocol INSTANCE = new DisposableProtocol();

    private static final byte[] CHAT = key("{\"type\":\"chat\"");
    private static final byte[] WELCOME = key("{\"type\":\"welcome\"");
    private static final byte[] ERROR = key("{\"type\":\"error\"");
    private static final byte[] TEXT_KEY = key("\"text\":\"");

    @Override
    String name() {
        return "disposable";
    }

    @Override
    URI defaultUrl() {
        return URI.create("ws://127.0.0.1:3501/ws");
    }

    @Override
    int maxContentBytes() {
        return 302; // the seed's limit on a chat text, 300 characters, and its quotes
    }

    @Override
    boolean oneChannelPerConnection() {
        return true;
    }

    @Override
    String target(String base, String clientName, List<String> channels) {
        return withQuery(base, "name=" + encode(clientName) + "&room=" + encode(channels.get(0)));
    }

    @Override
    Client client(Events events, List<String> channels) {
        return new Client(events, channels) {
            private boolean welcomed;

            @Override
            void onMessage(ByteBufAllocator alloc, ByteBuf payload) {
                if (startsWith(payload, CHAT)) {
                    int text = after(payload, TEXT_KEY);
                    if (text >= 0) {
                        events.delivered(payload, text);
                    }
                } else if (!welcomed && startsWith(payload, WELCOME)) {
                    welcomed = true;
                    events.joined();
                } else if (startsWith(payload, ERROR)) {
                    events.serverError(payload.toString(StandardCharsets.UTF_8));
                }
                // info (someone joined or left): not counted
            }

            @Override
            ByteBuf publish(ByteBufAllocator alloc, String channel, long seq, long intendedNanos, int bytes) {
                ByteBuf json = alloc.buffer(Content.length(seq, intendedNanos, bytes - 2) + 12);
                json.writeCharSequence("{\"text\":\"", StandardCharsets.US_ASCII);
                Content.write(json, seq, intendedNanos, bytes - 2); // bytes counts the quotes
                json.writeCharSequence("\"}", StandardCharsets.US_ASCII);
                return json;
            }
        };
    }
}
