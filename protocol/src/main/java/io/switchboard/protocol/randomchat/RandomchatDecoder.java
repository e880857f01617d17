package io.switchboard.protocol.randomchat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.switchboard.protocol.JsonLimits;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.Names;

import java.io.IOException;
import java.io.InputStream;

/**
 * Decodes a randomchat client frame, {@code {"type": T, ...}}, with jackson's streaming parser,
 * and checks the fields its type needs. Unknown fields are ignored (a client may send the seed's
 * whole User, {@code disconnection_date} included); when a field comes twice, the last one wins.
 * A frame with an unpaired surrogate in any string ({@code "\\ud800"}), which no UTF-8 text can
 * carry, is refused ({@link #NOT_UNICODE}).
 *
 * <p>Thread-safe; one instance serves every connection.
 */
public final class RandomchatDecoder {

    /** The longest phone, in UTF-8 bytes. */
    public static final int MAX_PHONE_BYTES = 32;
    /** The longest token accepted for comparison (issued tokens are 43 characters). */
    public static final int MAX_TOKEN_BYTES = 128;
    public static final String NOT_A_REQUEST =
            "A request must be one JSON object with a \"type\", like {\"type\":\"create_chat\",\"name\":\"friends\"}";
    public static final String TOO_LARGE = "The request is nested too deeply or has a value that is too long";
    public static final String NOT_UNICODE =
            "A request must be Unicode text: it has a string with an unpaired surrogate, such as \"\\ud800\"";

    private final JsonFactory json;
    private final int maxUserNameBytes;
    private final int maxChatNameBytes;
    private final int maxTextBytes;

    /**
     * @param maxMessageBytes  the largest frame the transport lets through
     * @param maxNestingDepth  the deepest nesting of objects and arrays accepted
     * @param maxUserNameBytes the longest user name, in UTF-8 bytes
     * @param maxChatNameBytes the longest chat name, in UTF-8 bytes
     * @param maxTextBytes     the longest message text, in UTF-8 bytes
     */
    public RandomchatDecoder(int maxMessageBytes, int maxNestingDepth, int maxUserNameBytes, int maxChatNameBytes,
                             int maxTextBytes) {
        this.json = JsonLimits.factory(maxMessageBytes, maxNestingDepth);
        this.maxUserNameBytes = maxUserNameBytes;
        this.maxChatNameBytes = maxChatNameBytes;
        this.maxTextBytes = maxTextBytes;
    }

    /** The fields as read, before they are checked against the type. */
    private static final class Fields {
        Object type;
        Object user;
        Object userName;
        Object userPhone;
        Object token;
        Object name;
        Object chat;
        Object message;
        Object phone;

        String typeName() {
            return type instanceof String ? (String) type : null;
        }
    }

    /** A field present with a value that is neither a string nor null. */
    private static final Object NOT_A_STRING = new Object();

    /**
     * Decodes the frame whose payload is {@code payload} (UTF-8, validated by the WebSocket layer).
     * Does not take ownership of {@code payload}.
     *
     * @throws RandomchatException when the frame is refused; its message is what the client is told
     */
    public RandomchatRequest decode(ByteBuf payload) throws RandomchatException {
        Fields f = new Fields();
        try (JsonParser p = json.createParser((InputStream) new ByteBufInputStream(payload.duplicate()))) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new RandomchatException(NOT_A_REQUEST, null);
            }
            for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "type":
                        f.type = string(p, value);
                        break;
                    case "user":
                        if (value == JsonToken.START_OBJECT) {
                            f.user = Boolean.TRUE;
                            readUser(p, f);
                        } else {
                            f.user = value == JsonToken.VALUE_NULL ? null : NOT_A_STRING;
                        }
                        break;
                    case "token":
                        f.token = string(p, value);
                        break;
                    case "name":
                        f.name = string(p, value);
                        break;
                    case "chat":
                        f.chat = string(p, value);
                        break;
                    case "message":
                        f.message = string(p, value);
                        break;
                    case "phone":
                        f.phone = string(p, value);
                        break;
                    default:
                        break;
                }
                p.skipChildren();
            }
            if (p.nextToken() != null) {
                throw new RandomchatException(NOT_A_REQUEST, f.typeName());
            }
        } catch (StreamConstraintsException e) {
            throw new RandomchatException(TOO_LARGE, f.typeName());
        } catch (IOException e) {
            throw new RandomchatException(NOT_A_REQUEST, f.typeName());
        }
        if (JsonStrings.unpairedSurrogate(payload, payload.readerIndex(), payload.readableBytes()) >= 0) {
            String typeName = f.typeName();
            throw new RandomchatException(NOT_UNICODE,
                    typeName != null && JsonStrings.unpairedSurrogate(typeName) < 0 ? typeName : null);
        }
        return check(f);
    }

    private static void readUser(JsonParser p, Fields f) throws IOException {
        for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
            String field = p.currentName();
            JsonToken value = p.nextToken();
            if ("name".equals(field)) {
                f.userName = string(p, value);
            } else if ("phone".equals(field)) {
                f.userPhone = string(p, value);
            }
            p.skipChildren();
        }
    }

    /** A string value, {@code null} for a JSON null, or {@link #NOT_A_STRING}. */
    private static Object string(JsonParser p, JsonToken value) throws IOException {
        if (value == JsonToken.VALUE_STRING) {
            return p.getText();
        }
        return value == JsonToken.VALUE_NULL ? null : NOT_A_STRING;
    }

    private RandomchatRequest check(Fields f) throws RandomchatException {
        if (f.type == null) {
            throw new RandomchatException("'type' is missing", null);
        }
        if (f.type == NOT_A_STRING) {
            throw new RandomchatException("'type' must be a string", null);
        }
        String typeName = (String) f.type;
        RandomchatRequest.Type type = RandomchatRequest.Type.of(typeName);
        if (type == null) {
            throw new RandomchatException("Unknown request type '" + typeName + "': expected register, create_chat, "
                    + "send_message, delete_chat, add_member or remove_member", typeName);
        }
        switch (type) {
            case REGISTER: {
                if (f.user == null) {
                    throw new RandomchatException("'user' is missing", typeName);
                }
                if (f.user == NOT_A_STRING) {
                    throw new RandomchatException("'user' must be an object like {\"name\":\"Ann\",\"phone\":\"555\"}",
                            typeName);
                }
                String name = name(f.userName, "user.name", maxUserNameBytes, typeName);
                String phone = name(f.userPhone, "user.phone", MAX_PHONE_BYTES, typeName);
                String token = null;
                if (f.token == NOT_A_STRING) {
                    throw new RandomchatException("'token' must be a string", typeName);
                }
                if (f.token != null) {
                    token = (String) f.token;
                    if (JsonStrings.utf8Length(token) > MAX_TOKEN_BYTES) {
                        throw new RandomchatException("'token' is longer than " + MAX_TOKEN_BYTES + " bytes", typeName);
                    }
                }
                return new RandomchatRequest(type, name, phone, token, null, null);
            }
            case CREATE_CHAT:
                return new RandomchatRequest(type, null, null, null, name(f.name, "name", maxChatNameBytes, typeName),
                        null);
            case SEND_MESSAGE: {
                String chat = name(f.chat, "chat", maxChatNameBytes, typeName);
                if (f.message == null) {
                    throw new RandomchatException("'message' is missing", typeName);
                }
                if (f.message == NOT_A_STRING) {
                    throw new RandomchatException("'message' must be a string", typeName);
                }
                String message = (String) f.message;
                if (message.isEmpty()) {
                    throw new RandomchatException("'message' must not be empty", typeName);
                }
                if (JsonStrings.utf8Length(message) > maxTextBytes) {
                    throw new RandomchatException("'message' is longer than " + maxTextBytes + " bytes", typeName);
                }
                return new RandomchatRequest(type, null, null, null, chat, message);
            }
            case DELETE_CHAT:
                return new RandomchatRequest(type, null, null, null, name(f.chat, "chat", maxChatNameBytes, typeName),
                        null);
            case ADD_MEMBER:
            case REMOVE_MEMBER: {
                String chat = name(f.chat, "chat", maxChatNameBytes, typeName);
                String phone = name(f.phone, "phone", MAX_PHONE_BYTES, typeName);
                return new RandomchatRequest(type, null, phone, null, chat, null);
            }
            default:
                throw new IllegalStateException("Unhandled type: " + type);
        }
    }

    /** Checks a name-like field: a string of 1 to {@code maxBytes} bytes without control characters. */
    private static String name(Object value, String what, int maxBytes, String typeName) throws RandomchatException {
        if (value == null) {
            throw new RandomchatException("'" + what + "' is missing", typeName);
        }
        if (value == NOT_A_STRING) {
            throw new RandomchatException("'" + what + "' must be a string", typeName);
        }
        String invalid = Names.check(what, (String) value, maxBytes);
        if (invalid != null) {
            throw new RandomchatException(invalid, typeName);
        }
        return (String) value;
    }
}
