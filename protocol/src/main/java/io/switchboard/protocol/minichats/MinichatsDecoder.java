package io.switchboard.protocol.minichats;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.switchboard.protocol.JsonLimits;
import io.netty.util.concurrent.FastThreadLocal;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.Names;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Decodes the payload of a minichats text frame into a {@link MinichatsRequest} with jackson's
 * streaming parser: no tree, no databind. {@code content} is never parsed into values; its raw
 * bytes are located and sliced from the frame, so it is relayed byte for byte.
 *
 * <p>Thread-safe; one instance serves every connection. Fields may come in any order; unknown
 * fields are ignored. The first problem found decides the error, but parsing goes on to the end
 * of the document so that a {@code request_id} anywhere in it is still echoed.
 *
 * <p>A request with an unpaired surrogate in any string ({@code "\\ud800"}), {@code content} and
 * ignored fields included, is {@code invalid_json}: such a string is no Unicode text (I-JSON,
 * RFC 7493 section 2.1), could not be written back as UTF-8, and relayed raw in {@code content} it
 * would reach clients whose parsers refuse it.
 */
public final class MinichatsDecoder {

    /** Heap copy of a direct payload, one per thread, grown to the largest message seen. */
    private static final FastThreadLocal<byte[]> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[4096];
        }
    };

    /** The largest {@code limit} a {@code history} request may ask for; the node also caps it at what it keeps. */
    public static final int MAX_LIMIT = 1_000_000;

    private final JsonFactory json;
    private final int maxNestingDepth;
    private final int maxChannelNameBytes;

    /**
     * @param maxMessageBytes the largest payload the transport lets through; strings, names and
     *                        numbers are bounded by it (a huge number in {@code content} is relayed,
     *                        not refused)
     * @param maxNestingDepth the deepest nesting of objects and arrays accepted
     * @param maxChannelNameBytes the longest channel name, in UTF-8 bytes
     */
    public MinichatsDecoder(int maxMessageBytes, int maxNestingDepth, int maxChannelNameBytes) {
        if (maxMessageBytes <= 0) {
            throw new IllegalArgumentException("maxMessageBytes: " + maxMessageBytes + " (expected: > 0)");
        }
        if (maxNestingDepth <= 0) {
            throw new IllegalArgumentException("maxNestingDepth: " + maxNestingDepth + " (expected: > 0)");
        }
        if (maxChannelNameBytes <= 0) {
            throw new IllegalArgumentException("maxChannelNameBytes: " + maxChannelNameBytes + " (expected: > 0)");
        }
        this.maxNestingDepth = maxNestingDepth;
        this.maxChannelNameBytes = maxChannelNameBytes;
        this.json = JsonLimits.factory(maxMessageBytes, maxNestingDepth);
    }

    /**
     * Decodes one request from the readable bytes of {@code payload} (UTF-8 JSON, already
     * validated as UTF-8 by the WebSocket layer). Does not take ownership of {@code payload}; the
     * returned request's content is a slice of it.
     *
     * @throws MinichatsException when the payload is not a valid request; its code and detail are
     *                            what the client is told
     */
    public MinichatsRequest decode(ByteBuf payload) throws MinichatsException {
        return parseDocument(payload, false).toRequest(payload);
    }

    /**
     * Decodes the body of an HTTP publish, {@code {"channel_name": C, "content": X, "sender": S}}
     * ({@code sender} optional), with the same rules as a minichats publish. Does not take
     * ownership of {@code body}; the returned content is a slice of it.
     *
     * @param maxSenderBytes the longest sender name, in UTF-8 bytes
     * @throws MinichatsException when the body is not a valid publish
     */
    public ApiPublish decodeApiPublish(ByteBuf body, int maxSenderBytes) throws MinichatsException {
        // No WebSocket layer has checked an HTTP body's UTF-8, and content is relayed as it is.
        if (!ByteBufUtil.isText(body, StandardCharsets.UTF_8)) {
            throw new MinichatsException(ErrorCode.INVALID_JSON, "The body is not valid UTF-8", null);
        }
        return parseDocument(body, true).toApiPublish(body, maxSenderBytes);
    }

    /** Parses the whole document; {@code paramsAtRoot} for the HTTP API's flat body. */
    private State parseDocument(ByteBuf payload, boolean paramsAtRoot) throws MinichatsException {
        int length = payload.readableBytes();
        byte[] bytes;
        int base;
        if (payload.hasArray()) {
            bytes = payload.array();
            base = payload.arrayOffset() + payload.readerIndex();
        } else {
            bytes = scratch(length);
            payload.getBytes(payload.readerIndex(), bytes, 0, length);
            base = 0;
        }
        State s = new State();
        try (JsonParser p = json.createParser(bytes, base, length)) {
            parse(p, bytes, base, s, paramsAtRoot);
            int surrogate = JsonStrings.unpairedSurrogate(payload, payload.readerIndex(), length);
            if (surrogate >= 0) {
                byte[] requestId = s.requestId;
                if (requestId != null && JsonStrings.unpairedSurrogate(Unpooled.wrappedBuffer(requestId), 0,
                        requestId.length) >= 0) {
                    requestId = null; // not echoed: it would carry the surrogate back
                }
                throw new MinichatsException(ErrorCode.INVALID_JSON, "Malformed JSON at "
                        + where(bytes, base, surrogate - payload.readerIndex())
                        + ": a string has an unpaired surrogate, which is not Unicode text", requestId);
            }
        } catch (StreamConstraintsException e) {
            s.fail(ErrorCode.INVALID_REQUEST, "JSON nesting is deeper than " + maxNestingDepth + " levels");
            throw s.error();
        } catch (JsonProcessingException e) {
            // The syntax error wins over any earlier semantic one: the frame is not JSON at all.
            throw new MinichatsException(ErrorCode.INVALID_JSON,
                    "Malformed JSON at " + where(e.getLocation()) + ": " + e.getOriginalMessage(),
                    s.requestId);
        } catch (IOException e) {
            // A byte array source does no I/O; anything else is a bug of ours.
            throw new MinichatsException(ErrorCode.INTERNAL, "Failed to read the request", s.requestId);
        }
        return s;
    }

    private static byte[] scratch(int length) {
        byte[] bytes = SCRATCH.get();
        if (bytes.length < length) {
            bytes = new byte[Math.max(length, bytes.length * 2)];
            SCRATCH.set(bytes);
        }
        return bytes;
    }

    private void parse(JsonParser p, byte[] bytes, int base, State s, boolean paramsAtRoot)
            throws IOException, MinichatsException {
        JsonToken t = p.nextToken();
        if (t == null) {
            throw new MinichatsException(ErrorCode.INVALID_JSON, "Empty message", null);
        }
        if (t != JsonToken.START_OBJECT) {
            p.skipChildren();
            s.fail(ErrorCode.INVALID_REQUEST, "A request must be a JSON object");
        } else if (paramsAtRoot) {
            parseParams(p, bytes, base, s);
        } else {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                t = p.nextToken();
                switch (field) {
                    case "action":
                        if (t == JsonToken.VALUE_STRING) {
                            s.actionName = p.getText();
                        } else {
                            p.skipChildren();
                            s.fail(ErrorCode.INVALID_REQUEST, "'action' must be a string");
                        }
                        break;
                    case "params":
                        if (t == JsonToken.START_OBJECT) {
                            parseParams(p, bytes, base, s);
                        } else if (t != JsonToken.VALUE_NULL) {
                            p.skipChildren();
                            s.fail(ErrorCode.INVALID_REQUEST, "'params' must be an object");
                        }
                        break;
                    case "request_id":
                        if (t == JsonToken.VALUE_STRING || t == JsonToken.VALUE_NUMBER_INT
                                || t == JsonToken.VALUE_NUMBER_FLOAT) {
                            int start = offset(p.currentTokenLocation().getByteOffset());
                            int end = endOfValue(p, t);
                            s.requestId = Arrays.copyOfRange(bytes, base + start, base + end);
                        } else if (t != JsonToken.VALUE_NULL) {
                            p.skipChildren();
                            s.fail(ErrorCode.INVALID_REQUEST, "'request_id' must be a string or a number");
                        }
                        break;
                    default:
                        p.skipChildren();
                        break;
                }
            }
        }
        if (p.nextToken() != null) {
            throw new MinichatsException(ErrorCode.INVALID_JSON,
                    "Unexpected data after the JSON value at " + where(p.currentTokenLocation()), s.requestId);
        }
    }

    private static void parseParams(JsonParser p, byte[] bytes, int base, State s) throws IOException {
        // A scalar content's end is found from the token after it (see endBefore): that lets jackson
        // skip a long string instead of decoding it only to find where it ends.
        boolean contentEndPending = false;
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            if (contentEndPending) {
                s.contentEnd = endBefore(bytes, base, offset(p.currentTokenLocation().getByteOffset()));
                contentEndPending = false;
            }
            String field = p.currentName();
            t = p.nextToken();
            switch (field) {
                case "channel_name":
                    if (t == JsonToken.VALUE_STRING) {
                        s.channelName = p.getText();
                        s.channelNameInvalid = false;
                    } else {
                        p.skipChildren();
                        s.channelName = null;
                        s.channelNameInvalid = true;
                    }
                    break;
                case "token":
                    if (t == JsonToken.VALUE_STRING) {
                        s.token = p.getText();
                    } else {
                        p.skipChildren();
                        s.tokenInvalid = true;
                    }
                    break;
                case "positions":
                    s.positions = flag(p, t, s, "positions");
                    break;
                case "join_leave":
                    s.joinLeave = flag(p, t, s, "join_leave");
                    break;
                case "recover":
                    s.recover = position(p, t, s, "recover");
                    break;
                case "since":
                    s.since = position(p, t, s, "since");
                    break;
                case "limit":
                    if (t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT
                            && p.getIntValue() >= 1 && p.getIntValue() <= MAX_LIMIT) {
                        s.limit = p.getIntValue();
                    } else if (t != JsonToken.VALUE_NULL) {
                        p.skipChildren();
                        s.paramError("'limit' must be an integer from 1 to " + MAX_LIMIT);
                    }
                    break;
                case "sender":
                    if (t == JsonToken.VALUE_STRING) {
                        s.sender = p.getText();
                    } else {
                        p.skipChildren();
                        s.senderInvalid = true;
                    }
                    break;
                case "content":
                    s.contentStart = offset(p.currentTokenLocation().getByteOffset());
                    if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                        p.skipChildren();
                        s.contentEnd = offset(p.currentLocation().getByteOffset());
                    } else {
                        contentEndPending = true;
                    }
                    break;
                default:
                    p.skipChildren();
                    break;
            }
        }
        if (contentEndPending) {
            // t is the END_OBJECT of params.
            s.contentEnd = endBefore(bytes, base, offset(p.currentTokenLocation().getByteOffset()));
        }
    }

    /** A boolean parameter: {@code null} counts as absent, anything but a boolean is an error. */
    private static boolean flag(JsonParser p, JsonToken t, State s, String name) throws IOException {
        if (t == JsonToken.VALUE_TRUE) {
            return true;
        }
        if (t != JsonToken.VALUE_FALSE && t != JsonToken.VALUE_NULL) {
            p.skipChildren();
            s.paramError("'" + name + "' must be true or false");
        }
        return false;
    }

    /**
     * A stream position parameter, {@code {"offset": O, "epoch": E}} (PROTOCOL.md section 1a):
     * {@code O} an integer from 0 to 2^63-1, {@code E} a string of 1 to
     * {@link StreamPosition#MAX_EPOCH_LENGTH} characters; {@code null} counts as absent.
     */
    private static StreamPosition position(JsonParser p, JsonToken t, State s, String name) throws IOException {
        if (t == JsonToken.VALUE_NULL) {
            return null;
        }
        String invalid = "'" + name + "' must be an object {\"offset\": integer >= 0, \"epoch\": string}";
        if (t != JsonToken.START_OBJECT) {
            p.skipChildren();
            s.paramError(invalid);
            return null;
        }
        long offset = -1;
        String epoch = null;
        boolean bad = false;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken v = p.nextToken();
            if (field.equals("offset")) {
                if (v == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER
                        && p.getLongValue() >= 0) {
                    offset = p.getLongValue();
                } else {
                    p.skipChildren();
                    bad = true;
                }
            } else if (field.equals("epoch")) {
                if (v == JsonToken.VALUE_STRING && !p.getText().isEmpty()
                        && p.getText().length() <= StreamPosition.MAX_EPOCH_LENGTH) {
                    epoch = p.getText();
                } else {
                    p.skipChildren();
                    bad = true;
                }
            } else {
                p.skipChildren();
            }
        }
        if (bad || offset < 0 || epoch == null) {
            s.paramError(invalid);
            return null;
        }
        return new StreamPosition(offset, epoch);
    }

    /**
     * Returns the offset just past the value that precedes the token at {@code next}: between a
     * value and the next token of its object stand only JSON whitespace and at most one comma.
     */
    private static int endBefore(byte[] bytes, int base, int next) {
        int i = next;
        boolean comma = false;
        while (i > 0) {
            byte b = bytes[base + i - 1];
            if (b == ' ' || b == '\t' || b == '\n' || b == '\r' || (b == ',' && !comma)) {
                comma |= b == ',';
                i--;
            } else {
                break;
            }
        }
        return i;
    }

    /** Consumes the value whose first token is {@code t} and returns the offset just past it. */
    private static int endOfValue(JsonParser p, JsonToken t) throws IOException {
        if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
            p.skipChildren();
        } else if (t == JsonToken.VALUE_STRING) {
            // Strings are tokenized lazily; finish this one so the location is past its closing quote.
            p.finishToken();
        }
        return offset(p.currentLocation().getByteOffset());
    }

    private static int offset(long byteOffset) {
        return (int) byteOffset;
    }

    /** What one decode has seen so far. */
    private final class State {
        String actionName;
        String channelName;
        boolean channelNameInvalid;
        String sender;
        boolean senderInvalid;
        String token;
        boolean tokenInvalid;
        boolean positions;
        boolean joinLeave;
        StreamPosition recover;
        StreamPosition since;
        int limit;
        /** The first bad section 1a parameter: reported after the channel name's own checks. */
        String paramError;
        int contentStart = -1;
        int contentEnd = -1;
        byte[] requestId;
        ErrorCode errorCode;
        String errorDetail;

        void fail(ErrorCode code, String detail) {
            if (errorCode == null) {
                errorCode = code;
                errorDetail = detail;
            }
        }

        void paramError(String detail) {
            if (paramError == null) {
                paramError = detail;
            }
        }

        MinichatsException error() {
            return new MinichatsException(errorCode, errorDetail, requestId);
        }

        MinichatsRequest toRequest(ByteBuf payload) throws MinichatsException {
            if (errorCode != null) {
                throw error();
            }
            if (actionName == null) {
                throw new MinichatsException(ErrorCode.INVALID_REQUEST, "Missing 'action'", requestId);
            }
            Action action = Action.forWireName(actionName);
            if (action == null) {
                throw new MinichatsException(ErrorCode.UNKNOWN_ACTION,
                        "Unknown action '" + abbreviate(actionName) + "'", requestId);
            }
            if (action == Action.LIST_CHANNELS || action == Action.LIST) {
                return new MinichatsRequest(action, null, null, requestId);
            }
            if (action == Action.REFRESH) {
                if (tokenInvalid) {
                    throw new MinichatsException(ErrorCode.INVALID_PARAM, "'token' must be a string", requestId);
                }
                if (token == null || token.isEmpty()) {
                    throw new MinichatsException(ErrorCode.MISSING_PARAM, "Missing parameter 'token'", requestId);
                }
                return new MinichatsRequest(action, null, null, requestId, token);
            }
            checkChannelName();
            ByteBuf content = action == Action.PUBLISH ? content(payload) : null;
            if ((action == Action.SUBSCRIBE || action == Action.HISTORY) && paramError != null) {
                throw new MinichatsException(ErrorCode.INVALID_PARAM, paramError, requestId);
            }
            return new MinichatsRequest(action, channelName, content, requestId, null, positions, joinLeave,
                    recover, limit, since);
        }

        ApiPublish toApiPublish(ByteBuf body, int maxSenderBytes) throws MinichatsException {
            if (errorCode != null) {
                throw error();
            }
            checkChannelName();
            ByteBuf content = content(body);
            if (senderInvalid) {
                throw new MinichatsException(ErrorCode.INVALID_PARAM, "'sender' must be a string", null);
            }
            if (sender != null) {
                String invalid = Names.check("sender", sender, maxSenderBytes);
                if (invalid != null) {
                    throw new MinichatsException(ErrorCode.INVALID_PARAM, invalid, null);
                }
            }
            return new ApiPublish(channelName, sender, content);
        }

        private void checkChannelName() throws MinichatsException {
            if (channelNameInvalid) {
                throw new MinichatsException(ErrorCode.INVALID_PARAM, "'channel_name' must be a string", requestId);
            }
            if (channelName == null) {
                throw new MinichatsException(ErrorCode.MISSING_PARAM, "Missing parameter 'channel_name'", requestId);
            }
            String invalid = Names.check("channel_name", channelName, maxChannelNameBytes);
            if (invalid != null) {
                throw new MinichatsException(ErrorCode.INVALID_PARAM, invalid, requestId);
            }
        }

        private ByteBuf content(ByteBuf payload) throws MinichatsException {
            if (contentStart < 0) {
                throw new MinichatsException(ErrorCode.MISSING_PARAM, "Missing parameter 'content'", requestId);
            }
            return payload.slice(payload.readerIndex() + contentStart, contentEnd - contentStart);
        }
    }

    private static String where(JsonLocation location) {
        return "line " + location.getLineNr() + ", column " + location.getColumnNr();
    }

    /** The line and column (in bytes, from 1) of {@code offset} in the document at {@code base}. */
    private static String where(byte[] bytes, int base, int offset) {
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < offset; i++) {
            if (bytes[base + i] == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        return "line " + line + ", column " + (offset - lineStart + 1);
    }

    private static String abbreviate(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }
}
