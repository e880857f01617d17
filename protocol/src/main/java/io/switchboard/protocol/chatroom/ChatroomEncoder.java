package io.switchboard.protocol.chatroom;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;
import io.switchboard.protocol.WebSocketFrames;

import java.io.IOException;
import java.util.Map;

/**
 * Encodes the server messages of the chatroom dialect (PROTOCOL.md section 4), each
 * {@code {"type": T, "content": {...}}} with the seed's field names. {@code update} goes to every
 * subscriber of a topic, so it is encoded as a complete WebSocket frame, header included, whose
 * bytes serve them all; the others are payloads for the transport to frame. Every method returns a
 * new buffer the caller must release (or pass on to a write, which releases it). Stateless and
 * thread-safe.
 */
public final class ChatroomEncoder {

    private static final JsonFactory JSON = new JsonFactory();

    private ChatroomEncoder() {
    }

    /** {@code {"type":"hello","content":{"id":N}}}. */
    public static ByteBuf hello(ByteBufAllocator alloc, long id) {
        ByteBuf out = alloc.buffer(48);
        try (JsonGenerator g = start(out, "hello")) {
            g.writeNumberField("id", id);
            end(g);
        } catch (IOException | RuntimeException e) {
            throw failed(out, e);
        }
        return out;
    }

    /**
     * The payload of {@code {"type":"update","content":{"topic_name":T,"change":{...,"version":V}}}}:
     * {@code change} as {@link TopicChange} returned it, the topic's new version added.
     */
    public static ByteBuf updatePayload(ByteBufAllocator alloc, String topicName, Map<String, Object> change,
                                        long version) {
        ByteBuf out = alloc.buffer(64 + topicName.length());
        try (JsonGenerator g = start(out, "update")) {
            g.writeStringField("topic_name", topicName);
            g.writeFieldName("change");
            g.writeStartObject();
            for (Map.Entry<String, Object> e : change.entrySet()) {
                if (!e.getKey().equals("version")) {
                    g.writeFieldName(e.getKey());
                    JsonValues.write(g, e.getValue());
                }
            }
            g.writeNumberField("version", version);
            g.writeEndObject();
            end(g);
        } catch (IOException | RuntimeException e) {
            throw failed(out, e);
        }
        return out;
    }

    /**
     * {@code payload} (an {@link #updatePayload}) as one complete, unmasked WebSocket text frame.
     * Does not take ownership of {@code payload}.
     */
    public static ByteBuf frame(ByteBufAllocator alloc, ByteBuf payload) {
        int length = payload.readableBytes();
        ByteBuf frame = alloc.directBuffer(WebSocketFrames.textHeaderLength(length) + length);
        WebSocketFrames.writeTextHeader(frame, length);
        return frame.writeBytes(payload, payload.readerIndex(), length);
    }

    /** {@code {"type":"reject_update","content":{"topic_name":T,"change":C,"reason":R}}}, {@code change} as sent. */
    public static ByteBuf rejectUpdate(ByteBufAllocator alloc, String topicName, Object change, String reason) {
        ByteBuf out = alloc.buffer(96 + topicName.length() + reason.length());
        try (JsonGenerator g = start(out, "reject_update")) {
            g.writeStringField("topic_name", topicName);
            g.writeFieldName("change");
            JsonValues.write(g, change);
            g.writeStringField("reason", reason);
            end(g);
        } catch (IOException | RuntimeException e) {
            throw failed(out, e);
        }
        return out;
    }

    /** {@code {"type":"request","content":{"service_name":S,"args":A,"request_id":I}}}. */
    public static ByteBuf request(ByteBufAllocator alloc, String serviceName, Object args, long requestId) {
        ByteBuf out = alloc.buffer(96 + serviceName.length());
        try (JsonGenerator g = start(out, "request")) {
            g.writeStringField("service_name", serviceName);
            g.writeFieldName("args");
            JsonValues.write(g, args);
            g.writeNumberField("request_id", requestId);
            end(g);
        } catch (IOException | RuntimeException e) {
            throw failed(out, e);
        }
        return out;
    }

    /**
     * {@code {"type":"response","content":{"response":R,"request_id":I}}}, with {@code "error":E}
     * after them (and {@code response} null) when the request failed.
     */
    public static ByteBuf response(ByteBufAllocator alloc, Object response, Object requestId, String error) {
        ByteBuf out = alloc.buffer(64);
        try (JsonGenerator g = start(out, "response")) {
            g.writeFieldName("response");
            JsonValues.write(g, error == null ? response : null);
            g.writeFieldName("request_id");
            JsonValues.write(g, requestId);
            if (error != null) {
                g.writeStringField("error", error);
            }
            end(g);
        } catch (IOException | RuntimeException e) {
            throw failed(out, e);
        }
        return out;
    }

    private static JsonGenerator start(ByteBuf out, String type) throws IOException {
        JsonGenerator g = JSON.createGenerator((java.io.OutputStream) new ByteBufOutputStream(out));
        g.writeStartObject();
        g.writeStringField("type", type);
        g.writeFieldName("content");
        g.writeStartObject();
        return g;
    }

    private static void end(JsonGenerator g) throws IOException {
        g.writeEndObject();
        g.writeEndObject();
    }

    private static RuntimeException failed(ByteBuf out, Exception e) {
        out.release();
        return e instanceof RuntimeException ? (RuntimeException) e : new IllegalStateException(e);
    }
}
