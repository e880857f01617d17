package io.switchboard.protocol.disposable;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.netty.buffer.ByteBuf;
import io.switchboard.protocol.JsonLimits;
import io.switchboard.protocol.JsonStrings;
import io.netty.buffer.ByteBufInputStream;

import java.io.IOException;
import java.io.InputStream;

/**
 * Decodes a disposable client frame, {@code {"text": "..."}}, with jackson's streaming parser.
 * Other fields are ignored, as by the seed. The text must have 1 to {@link #MAX_TEXT_CHARACTERS}
 * characters (code points); the errors for an empty or a long text are the seed's own. A frame with
 * an unpaired surrogate in any string ({@code "\\ud800"}), which no UTF-8 text can carry, is refused
 * ({@link #NOT_UNICODE}).
 *
 * <p>Thread-safe; one instance serves every connection.
 */
public final class DisposableDecoder {

    public static final int MAX_TEXT_CHARACTERS = 300;
    public static final String EMPTY = "'text' must not be empty";
    public static final String TOO_LONG = "'text' must not contain over " + MAX_TEXT_CHARACTERS + " characters";
    public static final String NOT_A_MESSAGE = "A message must be a JSON object like {\"text\": \"hello\"}";
    public static final String NOT_A_STRING = "'text' must be a string";
    public static final String NOT_UNICODE =
            "A message must be Unicode text: it has a string with an unpaired surrogate, such as \"\\ud800\"";

    private final JsonFactory json;

    /**
     * @param maxMessageBytes the largest frame the transport lets through
     * @param maxNestingDepth the deepest nesting of objects and arrays accepted in ignored fields
     */
    public DisposableDecoder(int maxMessageBytes, int maxNestingDepth) {
        this.json = JsonLimits.factory(maxMessageBytes, maxNestingDepth);
    }

    /**
     * Returns the text of the frame whose payload is {@code payload} (UTF-8, validated by the
     * WebSocket layer). Does not take ownership of {@code payload}.
     *
     * @throws DisposableException when the frame is refused; its message is the error's text
     */
    public String decode(ByteBuf payload) throws DisposableException {
        String text = null;
        boolean notString = false;
        try (JsonParser p = json.createParser((InputStream) new ByteBufInputStream(payload.duplicate()))) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new DisposableException(DisposableException.Kind.INVALID, NOT_A_MESSAGE);
            }
            for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                if ("text".equals(field)) {
                    // The last "text" wins, as with the seed's decoder; null counts as absent.
                    text = value == JsonToken.VALUE_STRING ? p.getText() : null;
                    notString = value != JsonToken.VALUE_STRING && value != JsonToken.VALUE_NULL;
                }
                p.skipChildren();
            }
            if (p.nextToken() != null) {
                throw new DisposableException(DisposableException.Kind.INVALID, NOT_A_MESSAGE);
            }
        } catch (IOException e) {
            throw new DisposableException(DisposableException.Kind.INVALID, NOT_A_MESSAGE);
        }
        if (JsonStrings.unpairedSurrogate(payload, payload.readerIndex(), payload.readableBytes()) >= 0) {
            throw new DisposableException(DisposableException.Kind.NOT_UNICODE, NOT_UNICODE);
        }
        if (notString) {
            throw new DisposableException(DisposableException.Kind.INVALID, NOT_A_STRING);
        }
        if (text == null || text.isEmpty()) {
            throw new DisposableException(DisposableException.Kind.EMPTY, EMPTY);
        }
        if (text.codePointCount(0, text.length()) > MAX_TEXT_CHARACTERS) {
            throw new DisposableException(DisposableException.Kind.TOO_LONG, TOO_LONG);
        }
        return text;
    }
}
