package io.switchboard.protocol.chatroom;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON values as plain Java objects, read and written with jackson's streaming API: {@code null},
 * {@link Boolean}, {@link String}, {@link Long} (an integer that fits), {@link BigInteger} (one that
 * does not), {@link Double} (a number with a fraction or exponent), {@link List} and {@link Map}
 * (insertion-ordered). Topic values and the fields of chatroom messages are held this way.
 *
 * <p>Values are never modified once built: a change makes a new top-level list or map
 * ({@link TopicChange}), so a value can be read from any thread that sees the reference.
 */
public final class JsonValues {

    private static final JsonFactory JSON = new JsonFactory();

    private JsonValues() {
    }

    /**
     * Reads the value at {@code p}'s current token (the parser must stand on a value's first token)
     * and leaves the parser on its last token.
     *
     * @throws IOException on malformed JSON, or a number that is not finite as a double
     */
    public static Object read(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        if (t == null) {
            throw new IOException("no JSON value");
        }
        switch (t) {
            case START_OBJECT: {
                Map<String, Object> map = new LinkedHashMap<>();
                for (JsonToken n = p.nextToken(); n == JsonToken.FIELD_NAME; n = p.nextToken()) {
                    String key = p.currentName();
                    p.nextToken();
                    map.put(key, read(p)); // a repeated key: the last wins, as with most parsers
                }
                return map;
            }
            case START_ARRAY: {
                List<Object> list = new ArrayList<>();
                for (JsonToken n = p.nextToken(); n != JsonToken.END_ARRAY; n = p.nextToken()) {
                    list.add(read(p));
                }
                return list;
            }
            case VALUE_STRING:
                return p.getText();
            case VALUE_NUMBER_INT:
                if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                    return p.getBigIntegerValue();
                }
                return p.getLongValue();
            case VALUE_NUMBER_FLOAT: {
                double d = p.getDoubleValue();
                if (!Double.isFinite(d)) {
                    throw new IOException("the number " + p.getText() + " is out of range");
                }
                return d;
            }
            case VALUE_TRUE:
                return Boolean.TRUE;
            case VALUE_FALSE:
                return Boolean.FALSE;
            case VALUE_NULL:
                return null;
            default:
                throw new IOException("unexpected " + t);
        }
    }

    /** Writes {@code value}, one of the types this class reads. */
    public static void write(JsonGenerator g, Object value) throws IOException {
        if (value == null) {
            g.writeNull();
        } else if (value instanceof String) {
            g.writeString((String) value);
        } else if (value instanceof Long) {
            g.writeNumber((Long) value);
        } else if (value instanceof Double) {
            g.writeNumber((Double) value);
        } else if (value instanceof Boolean) {
            g.writeBoolean((Boolean) value);
        } else if (value instanceof BigInteger) {
            g.writeNumber((BigInteger) value);
        } else if (value instanceof List) {
            List<?> list = (List<?>) value;
            g.writeStartArray();
            for (Object o : list) {
                write(g, o);
            }
            g.writeEndArray();
        } else if (value instanceof Map) {
            g.writeStartObject();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                g.writeFieldName((String) e.getKey());
                write(g, e.getValue());
            }
            g.writeEndObject();
        } else {
            throw new IllegalArgumentException("not a JSON value: " + value.getClass().getName());
        }
    }

    /** Returns {@code value} as compact JSON text. */
    public static String toJson(Object value) {
        StringWriter out = new StringWriter();
        try (JsonGenerator g = JSON.createGenerator(out)) {
            write(g, value);
        } catch (IOException e) {
            throw new IllegalStateException(e); // a StringWriter does not fail
        }
        return out.toString();
    }

    /**
     * Reads one JSON value from {@code json} (not bounded: for trusted text, such as what the
     * cluster stored).
     *
     * @throws IOException on malformed JSON
     */
    public static Object parse(String json) throws IOException {
        try (JsonParser p = JSON.createParser(json)) {
            p.nextToken();
            Object value = read(p);
            if (p.nextToken() != null) {
                throw new IOException("more after the value");
            }
            return value;
        }
    }

    /**
     * The heap an item of a list adds besides the item itself: its reference in the list's array,
     * with the spare capacity an {@link ArrayList} keeps after growing (at most half again).
     */
    public static final long LIST_ITEM_COST = 6;

    /**
     * The heap an entry of a dict adds besides its key and value: a {@link LinkedHashMap} entry as
     * large as a tree bin's node (what colliding keys make of it), and its slots in the hash table
     * (at most 8/3 per entry at the load factor of 0.75).
     */
    public static final long DICT_ENTRY_COST = 76;

    /**
     * An estimate of the heap {@code value} holds as this class builds it, counting every object it
     * owns: a string's object and bytes, a boxed number, a list's object and array, a dict's map,
     * table and entries (see {@link #LIST_ITEM_COST}, {@link #DICT_ENTRY_COST}). The model is a
     * 64-bit JVM with compressed references (heaps under 32 GB), objects 8-byte aligned; it errs
     * high (shared objects, such as the small numbers the JVM caches and the dict keys jackson
     * interns, are counted in full), never low. {@code null} and booleans cost nothing (shared).
     * O(nodes), recursive to the value's depth.
     */
    public static long heapCost(Object value) {
        if (value == null || value instanceof Boolean) {
            return 0;
        } else if (value instanceof String) {
            return stringCost((String) value);
        } else if (value instanceof Long || value instanceof Double) {
            return 16; // header and the 8-byte field
        } else if (value instanceof BigInteger) {
            // header and five int fields and the magnitude reference, then the magnitude's int[]
            return 40 + align(16 + 4L * (((BigInteger) value).bitLength() / 32 + 1));
        } else if (value instanceof List) {
            long cost = 48; // the ArrayList (24), its array's header (16), the array's alignment (8)
            for (Object o : (List<?>) value) {
                cost += LIST_ITEM_COST + heapCost(o);
            }
            return cost;
        } else if (value instanceof Map) {
            long cost = 88; // the LinkedHashMap (64), its table's header (16), the table's alignment (8)
            for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                cost += DICT_ENTRY_COST + heapCost(e.getKey()) + heapCost(e.getValue());
            }
            return cost;
        }
        throw new IllegalArgumentException("not a JSON value: " + value.getClass().getName());
    }

    /** A string's object (24 bytes) and its byte array: one byte a character if all are Latin-1, else two. */
    private static long stringCost(String s) {
        long bytes = s.length();
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) > 0xFF) {
                bytes = 2L * s.length();
                break;
            }
        }
        return 24 + align(16 + bytes);
    }

    private static long align(long bytes) {
        return (bytes + 7) & ~7L;
    }

    /** Returns whether {@code value} is a JSON number. */
    static boolean isNumber(Object value) {
        return value instanceof Long || value instanceof Double || value instanceof BigInteger;
    }

    /** The name of {@code value}'s JSON type, for messages. */
    static String typeName(Object value) {
        if (value == null) {
            return "null";
        } else if (value instanceof String) {
            return "a string";
        } else if (value instanceof Long || value instanceof BigInteger) {
            return "an integer";
        } else if (value instanceof Double) {
            return "a float";
        } else if (value instanceof Boolean) {
            return "a boolean";
        } else if (value instanceof List) {
            return "a list";
        } else {
            return "a dict";
        }
    }

    /** An output stream that counts and drops what is written, failing past a limit. */
    static final class Counter extends OutputStream {
        private final long limit;
        long count;

        Counter(long limit) {
            this.limit = limit;
        }

        @Override
        public void write(int b) throws IOException {
            count++;
            check();
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            count += len;
            check();
        }

        private void check() throws IOException {
            if (count > limit) {
                throw new TooLarge();
            }
        }
    }

    /** Thrown by {@link Counter} past its limit. */
    static final class TooLarge extends IOException {
        TooLarge() {
            super(null, null);
        }
    }
}
