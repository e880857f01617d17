package io.switchboard.protocol.chatroom;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.switchboard.protocol.JsonLimits;
import io.switchboard.protocol.JsonStrings;

import java.io.IOException;
import java.io.InputStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Decodes chatroom messages (PROTOCOL.md section 4), {@code {"type": T, "content": {...}}}, whole,
 * into {@link JsonValues}: topic values and service arguments are arbitrary JSON the server keeps
 * or passes on. Fields other than {@code type} and {@code content} are ignored; a missing
 * {@code content} is an empty one. A message with an unpaired surrogate in any string
 * ({@code "\\ud800"}) is refused: a topic value must be writable as UTF-8 to every subscriber.
 *
 * <p>Thread-safe; one instance serves every connection.
 */
public final class ChatroomDecoder {

    public static final String NOT_A_MESSAGE =
            "A message must be a JSON object like {\"type\": \"subscribe\", \"content\": {\"topic_name\": \"t\"}}";
    public static final String NOT_UNICODE =
            "Malformed JSON: a string has an unpaired surrogate, such as \"\\ud800\", which is not Unicode text";

    private final JsonFactory json;
    private final String body;
    private final String notAMessage;

    /**
     * @param maxMessageBytes the largest message the transport lets through
     * @param maxNestingDepth the deepest nesting of objects and arrays accepted
     */
    public ChatroomDecoder(int maxMessageBytes, int maxNestingDepth) {
        this(maxMessageBytes, maxNestingDepth, "content", NOT_A_MESSAGE);
    }

    /**
     * A decoder for a wire that names the body otherwise: {@code {"type": T, "args": {...}}} of the
     * 2023 ChatRoom client, say. {@code notAMessage} is what a client is told a message must be.
     */
    public ChatroomDecoder(int maxMessageBytes, int maxNestingDepth, String body, String notAMessage) {
        this.json = JsonLimits.factory(maxMessageBytes, maxNestingDepth);
        this.body = body;
        this.notAMessage = notAMessage;
    }

    /**
     * Decodes one message. Does not take ownership of {@code payload} (UTF-8 JSON).
     *
     * @throws ChatroomException when it is not JSON, not an object, or has no string {@code type}
     *                           or a {@code content} that is not an object
     */
    @SuppressWarnings("unchecked")
    public ChatroomMessage decode(ByteBuf payload) throws ChatroomException {
        Object root;
        try (JsonParser p = json.createParser((InputStream) new ByteBufInputStream(payload.duplicate()))) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new ChatroomException(notAMessage);
            }
            root = JsonValues.read(p);
            if (p.nextToken() != null) {
                throw new ChatroomException(notAMessage + " (there is more after the object)");
            }
        } catch (IOException e) {
            throw new ChatroomException("Malformed JSON: " + firstLine(e.getMessage()));
        }
        if (JsonStrings.unpairedSurrogate(payload, payload.readerIndex(), payload.readableBytes()) >= 0) {
            throw new ChatroomException(NOT_UNICODE);
        }
        Map<String, Object> message = (Map<String, Object>) root;
        Object type = message.get("type");
        if (!(type instanceof String) || ((String) type).isEmpty()) {
            throw new ChatroomException(notAMessage + " (\"type\" is missing or not a string)");
        }
        Object content = message.get(body);
        if (content == null) {
            return new ChatroomMessage((String) type, new LinkedHashMap<>());
        }
        if (!(content instanceof Map)) {
            throw new ChatroomException("\"" + body + "\" must be an object, not " + JsonValues.typeName(content));
        }
        return new ChatroomMessage((String) type, (Map<String, Object>) content);
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
