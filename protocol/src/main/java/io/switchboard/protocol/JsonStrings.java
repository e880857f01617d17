package io.switchboard.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import io.netty.util.ByteProcessor;

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
     *
     * @throws IllegalArgumentException when {@code value} has an unpaired surrogate, which UTF-8
     *                                  cannot encode: strings from clients are refused at the
     *                                  boundary ({@link Names#check}, {@link #unpairedSurrogate})
     */
    public static byte[] quote(String value) {
        byte[] escaped = JsonStringEncoder.getInstance().quoteAsUTF8(value);
        byte[] quoted = new byte[escaped.length + 2];
        quoted[0] = '"';
        System.arraycopy(escaped, 0, quoted, 1, escaped.length);
        quoted[quoted.length - 1] = '"';
        return quoted;
    }

    /**
     * Returns the index of the first unpaired surrogate in {@code value} (a high surrogate not
     * followed by a low one, or a low surrogate not preceded by a high one), or -1 when
     * {@code value} is well-formed UTF-16 and so can be encoded as UTF-8.
     */
    public static int unpairedSurrogate(CharSequence value) {
        int n = value.length();
        for (int i = 0; i < n; i++) {
            char c = value.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(value.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Returns the index of the first unpaired surrogate in the JSON text of {@code json} from
     * {@code index}, {@code length} bytes, or -1 when there is none. An unpaired surrogate is a
     * JSON escape of a code unit from D800 to DFFF ({@code "\\ud800"}) that is not a high one directly
     * followed by a low one,
     * or a surrogate encoded in UTF-8 bytes ({@code ED A0}-{@code ED BF}, never valid UTF-8).
     * JSON's grammar lets such strings through, but they stand for no Unicode text (RFC 8259 section
     * 8.2; I-JSON, RFC 7493 section 2.1, forbids them): they cannot be written as UTF-8, and
     * strict readers refuse them. Meant for text a JSON parser has accepted, where a backslash only
     * occurs inside strings. Does not take ownership of {@code json}.
     */
    public static int unpairedSurrogate(ByteBuf json, int index, int length) {
        int end = index + length;
        int i = index;
        while (i < end) {
            i = json.forEachByte(i, end - i, ESCAPE_OR_SURROGATE_LEAD);
            if (i < 0) {
                return -1;
            }
            if (json.getByte(i) == (byte) 0xED) {
                if (i + 1 < end && (json.getByte(i + 1) & 0xE0) == 0xA0) {
                    return i; // U+D800-U+DFFF encoded as UTF-8 (CESU-8)
                }
                i++;
            } else if (i + 1 < end && json.getByte(i + 1) == 'u') {
                int unit = hex4(json, i + 2, end);
                if (Character.isHighSurrogate((char) unit)) {
                    int next = i + 6;
                    if (next + 1 < end && json.getByte(next) == '\\' && json.getByte(next + 1) == 'u'
                            && Character.isLowSurrogate((char) hex4(json, next + 2, end))) {
                        i = next + 6;
                        continue;
                    }
                    return i;
                }
                if (Character.isLowSurrogate((char) unit)) {
                    return i;
                }
                i += 6;
            } else {
                i += 2; // a two-character escape, \\ included
            }
        }
        return -1;
    }

    private static final ByteProcessor ESCAPE_OR_SURROGATE_LEAD = b -> b != '\\' && b != (byte) 0xED;

    /** The four hex digits at {@code index} as a UTF-16 code unit, or 0 when they are not four hex digits. */
    private static int hex4(ByteBuf json, int index, int end) {
        if (index + 4 > end) {
            return 0;
        }
        int unit = 0;
        for (int i = index; i < index + 4; i++) {
            int digit = Character.digit(json.getByte(i), 16);
            if (digit < 0) {
                return 0;
            }
            unit = unit << 4 | digit;
        }
        return unit;
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
