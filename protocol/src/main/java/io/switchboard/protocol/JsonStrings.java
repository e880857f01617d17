package io.switchboard.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/** JSON string literals as UTF-8 bytes, escaped by jackson's {@link JsonStringEncoder}. */
public final class JsonStrings {

    private static final JsonFactory FACTORY = new JsonFactory();

    private JsonStrings() {
    }

    /**
     * Returns {@code value} as a complete JSON string literal, quotes included, in UTF-8. Callers
     * encode a name once and copy the bytes into every message that carries it.
     */
    public static byte[] quote(String value) {
        byte[] escaped = JsonStringEncoder.getInstance().quoteAsUTF8(value);
        byte[] quoted = new byte[escaped.length + 2];
        quoted[0] = '"';
        System.arraycopy(escaped, 0, quoted, 1, escaped.length);
        quoted[quoted.length - 1] = '"';
        return quoted;
    }

    /** Returns the number of bytes {@code value} takes in UTF-8. */
    public static int utf8Length(String value) {
        int n = value.length();
        int bytes = 0;
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            if (c < 0x80) {
                bytes++;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(value.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    /**
     * Returns what a text-only reader sees of a JSON value: a string's value, or any other value's
     * JSON text as it is. Does not take ownership of {@code json}, one complete JSON value.
     */
    public static String text(ByteBuf json) {
        int start = json.readerIndex();
        int length = json.readableBytes();
        if (length >= 2 && json.getByte(start) == '"') {
            try (JsonParser p = FACTORY.createParser((InputStream) new ByteBufInputStream(json.duplicate()))) {
                if (p.nextToken() == JsonToken.VALUE_STRING) {
                    return p.getText();
                }
            } catch (IOException e) {
                // Not a valid string literal after all: shown as it is, below.
            }
        }
        return json.toString(start, length, StandardCharsets.UTF_8);
    }

    /** Decodes UTF-8 bytes; a convenience for tests and logs. */
    public static String utf8(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
