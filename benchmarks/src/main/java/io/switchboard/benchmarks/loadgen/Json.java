package io.switchboard.benchmarks.loadgen;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON as plain trees (maps in key order, lists, strings, numbers, booleans, null), read and
 * written with jackson's streaming API: loadgen's results and scenario files are small.
 */
final class Json {

    private static final JsonFactory FACTORY = new JsonFactory();

    private Json() {
    }

    /** Parses one JSON value; IllegalArgumentException with the parser's message when malformed. */
    static Object parse(String text) {
        try (JsonParser p = FACTORY.createParser(text)) {
            if (p.nextToken() == null) {
                throw new IllegalArgumentException("empty");
            }
            Object value = read(p);
            if (p.nextToken() != null) {
                throw new IllegalArgumentException("more after the value at line " + p.currentLocation().getLineNr());
            }
            return value;
        } catch (IOException e) {
            throw new IllegalArgumentException(firstLine(e), e);
        }
    }

    private static String firstLine(IOException e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    private static Object read(JsonParser p) throws IOException {
        JsonToken t = p.currentToken();
        switch (t) {
            case START_OBJECT: {
                Map<String, Object> map = new LinkedHashMap<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String key = p.currentName();
                    p.nextToken();
                    map.put(key, read(p));
                }
                return map;
            }
            case START_ARRAY: {
                List<Object> list = new ArrayList<>();
                while (p.nextToken() != JsonToken.END_ARRAY) {
                    list.add(read(p));
                }
                return list;
            }
            case VALUE_STRING:
                return p.getText();
            case VALUE_NUMBER_INT:
                return p.getLongValue();
            case VALUE_NUMBER_FLOAT:
                return p.getDoubleValue();
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

    /** A tree as compact JSON on one line. Doubles that are whole are written without a fraction. */
    static String write(Object value) {
        StringWriter w = new StringWriter();
        try (JsonGenerator g = FACTORY.createGenerator(w)) {
            write(g, value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return w.toString();
    }

    private static void write(JsonGenerator g, Object v) throws IOException {
        if (v == null) {
            g.writeNull();
        } else if (v instanceof Map) {
            g.writeStartObject();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                g.writeFieldName(String.valueOf(e.getKey()));
                write(g, e.getValue());
            }
            g.writeEndObject();
        } else if (v instanceof List) {
            g.writeStartArray();
            for (Object o : (List<?>) v) {
                write(g, o);
            }
            g.writeEndArray();
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (Double.isNaN(d) || Double.isInfinite(d)) {
                g.writeNull();
            } else if (d == Math.rint(d) && Math.abs(d) < 1e15) {
                g.writeNumber((long) d);
            } else {
                g.writeNumber(Math.round(d * 1000) / 1000.0);
            }
        } else if (v instanceof Number) {
            g.writeNumber(((Number) v).longValue());
        } else if (v instanceof Boolean) {
            g.writeBoolean((Boolean) v);
        } else {
            g.writeString(String.valueOf(v));
        }
    }

    /**
     * The whole number in the top-level field {@code name} of the JSON object in {@code json} (read
     * from its reader index, neither moved nor released), or -1 when there is none or it is not an
     * object. Nested values are skipped, not searched.
     */
    static long topLevelLong(ByteBuf json, String name) {
        try (JsonParser p = FACTORY.createParser((java.io.InputStream) new ByteBufInputStream(json.duplicate()))) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return -1;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                boolean wanted = name.equals(p.currentName());
                JsonToken t = p.nextToken();
                if (wanted) {
                    return t == JsonToken.VALUE_NUMBER_INT ? p.getLongValue() : -1;
                }
                p.skipChildren();
            }
            return -1;
        } catch (IOException e) {
            return -1;
        }
    }

    /** A number of a tree, NaN when it is absent or not a number. */
    static double number(Object v) {
        return v instanceof Number ? ((Number) v).doubleValue() : Double.NaN;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> object(Object v, String what) {
        if (!(v instanceof Map)) {
            throw new IllegalArgumentException(what + ": expected a JSON object");
        }
        return (Map<String, Object>) v;
    }
}
