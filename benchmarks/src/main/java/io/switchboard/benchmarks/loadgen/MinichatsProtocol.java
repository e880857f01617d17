package io.switchboard.benchmarks.loadgen;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * minichats (PROTOCOL.md section 1): {@code subscribe} each channel after the connection
 * confirmation, {@code publish} with the content as a JSON string; every publish is answered.
 */
final class MinichatsProtocol extends Protocol {

    static final MinichatsProtocol INSTANCE = new MinichatsProtocol();

    private static final byte[] CONTENT_KEY = key("\"content\":\"");
    private static final byte[] STATUS_OK = key("\"status\":\"ok\"");

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

    /**
     * What a subscriber with positions (PROTOCOL.md section 1a, {@code --recover}) tells its client
     * and is told by it, besides {@link Events}. Called from the connection's event loop.
     */
    interface Positions extends Events {
        /** The epoch to recover in, or {@code null}: subscribe with positions only (the first time). */
        String epoch();

        /** The last offset received in {@link #epoch()}. */
        long offset();

        /**
         * The subscribe's ok: {@code recovered} is what a {@code recover} said ({@code null} for a
         * first subscribe), {@code offset} the channel's latest publish and {@code epoch} its epoch.
         * {@link #joined()} follows.
         */
        void subscribed(Boolean recovered, long offset, String epoch);

        /** A delivery, as {@link #delivered(ByteBuf, int)}, with its {@code offset} (-1: it has none). */
        void delivered(ByteBuf buf, int contentAt, long offset);
    }

    /**
     * A client that joins {@code channel} with positions, or with {@code recover} from where
     * {@code subscriber} says, and reads each delivery's offset.
     */
    Client positions(Positions subscriber, String channel) {
        // The anonymous class's inherited field "events" is the same object, typed as plain Events.
        return new Client(subscriber, List.of(channel)) {
            private boolean confirmed;
            private boolean subscribing;

            @Override
            void onMessage(ByteBufAllocator alloc, ByteBuf payload) {
                int content = after(payload, CONTENT_KEY);
                if (content >= 0) {
                    subscriber.delivered(payload, content, Json.topLevelLong(payload, "offset"));
                } else if (!confirmed) {
                    confirmed = true;
                    subscribing = true;
                    events.send(Unpooled.copiedBuffer(subscribeRequest(channel, subscriber.epoch(), subscriber.offset()),
                            StandardCharsets.UTF_8), true);
                } else if (subscribing) {
                    subscribing = false;
                    subscribed(payload.toString(StandardCharsets.UTF_8), subscriber.epoch() != null);
                } else {
                    events.answered(contains(payload, STATUS_OK), payload);
                }
            }

            private void subscribed(String reply, boolean recovering) {
                Map<String, Object> info = null;
                try {
                    Map<String, Object> r = Json.object(Json.parse(reply), "the reply");
                    if ("ok".equals(r.get("status")) && r.get("info") instanceof Map) {
                        info = Json.object(r.get("info"), "info");
                    }
                } catch (IllegalArgumentException e) {
                    // not JSON: refused below
                }
                if (info == null) {
                    events.refused("subscribe refused: " + reply + (reply.contains("not_available")
                            ? " (history is off on the node: start it with HISTORY_SIZE > 0)" : ""));
                    return;
                }
                Object offset = info.get("offset");
                Object epoch = info.get("epoch");
                Object recovered = info.get("recovered");
                if (!(offset instanceof Long) || !(epoch instanceof String)
                        || recovering && !(recovered instanceof Boolean)) {
                    events.refused("the node answered a subscribe with " + (recovering ? "recover" : "positions")
                            + " without " + (recovering ? "recovered, " : "") + "offset and epoch (is HISTORY_SIZE > 0 "
                            + "on it?): " + reply);
                    return;
                }
                subscriber.subscribed(recovering ? (Boolean) recovered : null, (Long) offset, (String) epoch);
                events.joined();
            }

            @Override
            ByteBuf publish(ByteBufAllocator alloc, String channel, long seq, long intendedNanos, int bytes) {
                throw new UnsupportedOperationException("a subscriber does not publish");
            }
        };
    }

    /** The subscribe of {@link #positions}: with {@code recover} from {@code offset} when {@code epoch} is known. */
    static String subscribeRequest(String channel, String epoch, long offset) {
        Map<String, Object> params = new LinkedHashMap<>();
        params.put("channel_name", channel);
        if (epoch == null) {
            params.put("positions", true);
        } else {
            Map<String, Object> recover = new LinkedHashMap<>();
            recover.put("offset", offset);
            recover.put("epoch", epoch);
            params.put("recover", recover);
        }
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("action", "subscribe");
        request.put("params", params);
        return Json.write(request);
    }
}
