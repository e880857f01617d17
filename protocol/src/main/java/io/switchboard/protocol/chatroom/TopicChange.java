package io.switchboard.protocol.chatroom;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Applies typed changes to topic values (PROTOCOL.md section 4). A change is the JSON object a
 * client sends as {@code change}: {@code {"type": "insert", "position": 3, "text": "ab"}} and the
 * like, with an optional {@code id} of the client's choosing. Applying one either returns the new
 * value with the change as every subscriber receives it, or throws {@link ChangeRejected} with the
 * reason, the value untouched.
 *
 * <p>String positions and lengths count code points (as the seed's Python strings do), not UTF-16
 * units. Indexes must be in range: no negative indexes. Values are never modified: a list or dict
 * change copies the top level (elements are shared, and no change reaches below the top level).
 * A value is bounded twice: by its size as JSON, and by its estimated heap cost
 * ({@link JsonValues#heapCost}), since JSON of many tiny items costs up to about 31 times its
 * size as Java objects (issue 15). Stateless and thread-safe.
 */
public final class TopicChange {

    private static final JsonFactory JSON = new JsonFactory();

    private TopicChange() {
    }

    /**
     * A change that fits: the topic's new value, its size as JSON, its estimated heap cost
     * ({@link JsonValues#heapCost}), and the change as subscribers get it.
     */
    public record Applied(Object value, long size, long cost, Map<String, Object> change) {
    }

    /**
     * Applies {@code change} to {@code value}, a value of {@code type}.
     *
     * @param maxValueBytes the most bytes the new value may take as JSON
     * @throws ChangeRejected when the change is malformed, does not apply to the type, is out of range,
     *                        or would make the value larger than {@code maxValueBytes}
     */
    public static Applied apply(TopicType type, Object value, Object change, int maxValueBytes) throws ChangeRejected {
        return apply(type, value, -1, change, maxValueBytes);
    }

    /**
     * Applies {@code change} to {@code value}, a value of {@code type} whose size as JSON is
     * {@code size} (as an earlier {@link Applied} or {@link #measure} said; -1 when unknown). With the
     * size known, a list or dict change measures only the item it adds or removes, not the whole value.
     *
     * @param maxValueBytes the most bytes the new value may take as JSON
     * @throws ChangeRejected when the change is malformed, does not apply to the type, is out of range,
     *                        or would make the value larger than {@code maxValueBytes}
     */
    public static Applied apply(TopicType type, Object value, long size, Object change, int maxValueBytes)
            throws ChangeRejected {
        return apply(type, value, size, -1, change, maxValueBytes, Long.MAX_VALUE);
    }

    /**
     * Applies {@code change} to {@code value}, a value of {@code type} whose size as JSON is
     * {@code size} and whose estimated heap cost is {@code cost} (as an earlier {@link Applied} or
     * {@link JsonValues#heapCost} said; -1 when unknown). With them known, a list or dict change
     * measures only the item it adds or removes, not the whole value.
     *
     * @param maxValueBytes the most bytes the new value may take as JSON
     * @param maxValueCost  the most heap the new value may cost, as {@link JsonValues#heapCost} estimates it
     * @throws ChangeRejected when the change is malformed, does not apply to the type, is out of range,
     *                        or would make the value larger than {@code maxValueBytes} or costlier than
     *                        {@code maxValueCost}
     */
    public static Applied apply(TopicType type, Object value, long size, long cost, Object change, int maxValueBytes,
                                long maxValueCost) throws ChangeRejected {
        if (!(change instanceof Map)) {
            throw new ChangeRejected("A change must be an object with a \"type\", e.g. {\"type\": \"set\", \"value\": 1}");
        }
        Map<?, ?> c = (Map<?, ?>) change;
        Object kind = c.get("type");
        if (!(kind instanceof String)) {
            throw new ChangeRejected("A change needs a \"type\": one of " + String.join(", ", type.changes())
                    + " for " + topic(type).toLowerCase(java.util.Locale.ROOT));
        }
        String t = (String) kind;
        if (!type.changes().contains(t)) {
            throw new ChangeRejected(topic(type) + " takes no '" + t + "' change: only "
                    + String.join(", ", type.changes()));
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("type", t);
        Object next = t.equals("set") ? set(type, c, out) : switch (type) {
            case STRING -> string(t, (String) value, c, out);
            case INT, FLOAT -> add(type, value, c, out);
            case LIST -> list(t, (List<?>) value, c, out);
            case DICT -> dict(t, (Map<?, ?>) value, c, out);
            default -> throw new IllegalStateException(type + " " + t);
        };
        if (c.containsKey("id")) {
            out.put("id", c.get("id"));
        }
        long nextSize = size < 0 ? measure(next, maxValueBytes) : sizeAfter(type, t, value, size, next, out);
        if (nextSize > maxValueBytes) {
            throw tooLarge(maxValueBytes);
        }
        long nextCost = cost < 0 ? JsonValues.heapCost(next) : costAfter(type, t, value, cost, next, out);
        if (nextCost > maxValueCost) {
            throw new ChangeRejected("The value would take over " + maxValueCost + " bytes of the server's memory (it "
                    + "would take about " + nextCost + ")");
        }
        return new Applied(next, nextSize, nextCost, out);
    }

    /**
     * The heap cost of {@code next}, made from {@code value} (costing {@code cost}) by the change
     * {@code out}: a list item or dict entry adds or removes itself and its slot.
     */
    private static long costAfter(TopicType type, String t, Object value, long cost, Object next,
                                  Map<String, Object> out) {
        if (type == TopicType.LIST && !t.equals("set")) {
            if (t.equals("insert")) {
                return cost + JsonValues.LIST_ITEM_COST + JsonValues.heapCost(out.get("value"));
            }
            Object gone = ((List<?>) value).get(((Long) out.get("index")).intValue());
            return cost - JsonValues.LIST_ITEM_COST - JsonValues.heapCost(gone);
        }
        if (type == TopicType.DICT && !t.equals("set")) {
            Map<?, ?> old = (Map<?, ?>) value;
            String key = (String) out.get("key");
            long entry = JsonValues.DICT_ENTRY_COST + JsonValues.heapCost(key);
            switch (t) {
                case "add":
                    return cost + entry + JsonValues.heapCost(out.get("value"));
                case "change_value":
                    return cost - JsonValues.heapCost(old.get(key)) + JsonValues.heapCost(out.get("value"));
                default: // pop
                    return cost - entry - JsonValues.heapCost(old.get(key));
            }
        }
        return JsonValues.heapCost(next);
    }

    /**
     * The size of {@code next}, made from {@code value} (of {@code size} bytes) by the change
     * {@code out}: compact JSON adds an item with its comma, a dict entry with its key and colon.
     */
    private static long sizeAfter(TopicType type, String t, Object value, long size, Object next,
                                  Map<String, Object> out) throws ChangeRejected {
        if (type == TopicType.LIST && !t.equals("set")) {
            List<?> old = (List<?>) value;
            if (t.equals("insert")) {
                return size + measure(out.get("value")) + (old.isEmpty() ? 0 : 1);
            }
            return size - measure(old.get(((Long) out.get("index")).intValue())) - (old.size() > 1 ? 1 : 0);
        }
        if (type == TopicType.DICT && !t.equals("set")) {
            Map<?, ?> old = (Map<?, ?>) value;
            String key = (String) out.get("key");
            long entry = measure(key) + 1;
            switch (t) {
                case "add":
                    return size + entry + measure(out.get("value")) + (old.isEmpty() ? 0 : 1);
                case "change_value":
                    return size - measure(old.get(key)) + measure(out.get("value"));
                default: // pop
                    return size - entry - measure(old.get(key)) - (old.size() > 1 ? 1 : 0);
            }
        }
        return measure(next);
    }

    private static long measure(Object value) throws ChangeRejected {
        return measure(value, Long.MAX_VALUE);
    }

    private static ChangeRejected tooLarge(long maxBytes) {
        return new ChangeRejected("The value would be over the limit of " + maxBytes + " bytes");
    }

    /**
     * Returns {@code value}, as a topic of {@code type} holds it, or throws why it cannot: an int
     * topic takes integers (64-bit), a float topic any number (as a double), the others their own type.
     */
    public static Object conform(TopicType type, Object value) throws ChangeRejected {
        switch (type) {
            case GENERIC:
                return value;
            case STRING:
                if (value instanceof String) {
                    return value;
                }
                break;
            case INT:
                if (value instanceof Long) {
                    return value;
                }
                if (value instanceof BigInteger) {
                    throw new ChangeRejected("The value " + value + " is out of range of an int topic (64 bits)");
                }
                break;
            case FLOAT:
                if (value instanceof Double) {
                    return value;
                }
                if (value instanceof Long || value instanceof BigInteger) {
                    double d = ((Number) value).doubleValue();
                    if (Double.isFinite(d)) {
                        return d;
                    }
                }
                break;
            case LIST:
                if (value instanceof List) {
                    return value;
                }
                break;
            case DICT:
                if (value instanceof Map) {
                    return value;
                }
                break;
            default:
                throw new IllegalStateException(type.toString());
        }
        throw new ChangeRejected(topic(type) + " cannot hold " + JsonValues.typeName(value));
    }

    /** "A list topic", "An int topic". */
    private static String topic(TopicType type) {
        return (type == TopicType.INT ? "An " : "A ") + type.wireName() + " topic";
    }

    /**
     * Returns the size of {@code value} as compact JSON.
     *
     * @throws ChangeRejected when it is over {@code maxBytes}
     */
    public static long measure(Object value, long maxBytes) throws ChangeRejected {
        JsonValues.Counter counter = new JsonValues.Counter(maxBytes);
        try (JsonGenerator g = JSON.createGenerator(counter)) {
            JsonValues.write(g, value);
        } catch (JsonValues.TooLarge e) {
            throw tooLarge(maxBytes);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return counter.count;
    }

    private static Object set(TopicType type, Map<?, ?> c, Map<String, Object> out) throws ChangeRejected {
        Object v = conform(type, field(c, "value"));
        out.put("value", v);
        return v;
    }

    private static Object string(String t, String s, Map<?, ?> c, Map<String, Object> out) throws ChangeRejected {
        int length = s.codePointCount(0, s.length());
        long position = integer(c, "position");
        if (t.equals("insert")) {
            String text = text(c, "text");
            if (position < 0 || position > length) {
                throw new ChangeRejected("Position " + position + " is out of range: the string has " + length
                        + " characters (0 to " + length + ")");
            }
            out.put("position", position);
            out.put("text", text);
            int at = s.offsetByCodePoints(0, (int) position);
            return s.substring(0, at) + text + s.substring(at);
        }
        long n = integer(c, "length");
        if (position < 0 || n < 0 || position > length || n > length - position) {
            throw new ChangeRejected("Deleting " + n + " characters at position " + position
                    + " is out of range: the string has " + length + " characters");
        }
        out.put("position", position);
        out.put("length", n);
        int from = s.offsetByCodePoints(0, (int) position);
        int to = s.offsetByCodePoints(from, (int) n);
        return s.substring(0, from) + s.substring(to);
    }

    private static Object add(TopicType type, Object current, Map<?, ?> c, Map<String, Object> out)
            throws ChangeRejected {
        Object v = field(c, "value");
        if (type == TopicType.INT) {
            if (!(v instanceof Long)) {
                throw new ChangeRejected("An int topic adds integers (64 bits), not " + JsonValues.typeName(v)
                        + (v instanceof BigInteger ? " this large" : ""));
            }
            out.put("value", v);
            try {
                return Math.addExact((Long) current, (Long) v);
            } catch (ArithmeticException e) {
                throw new ChangeRejected("The sum is out of range of an int topic (64 bits)");
            }
        }
        if (!JsonValues.isNumber(v)) {
            throw new ChangeRejected("A float topic adds numbers, not " + JsonValues.typeName(v));
        }
        double d = ((Number) v).doubleValue();
        double sum = (Double) current + d;
        if (!Double.isFinite(sum)) {
            throw new ChangeRejected("The sum is out of range of a float topic");
        }
        out.put("value", d);
        return sum;
    }

    private static Object list(String t, List<?> list, Map<?, ?> c, Map<String, Object> out) throws ChangeRejected {
        long index = integer(c, "index");
        List<Object> copy;
        if (t.equals("insert")) {
            if (index < 0 || index > list.size()) {
                throw new ChangeRejected("Index " + index + " is out of range: the list has " + list.size()
                        + " items (0 to " + list.size() + ")");
            }
            Object v = field(c, "value");
            out.put("index", index);
            out.put("value", v);
            copy = new ArrayList<>(list.size() + 1);
            copy.addAll(list);
            copy.add((int) index, v);
            return copy;
        }
        if (index < 0 || index >= list.size()) {
            throw new ChangeRejected("Index " + index + " is out of range: the list has " + list.size() + " items"
                    + (list.isEmpty() ? "" : " (0 to " + (list.size() - 1) + ")"));
        }
        out.put("index", index);
        copy = new ArrayList<>(list);
        copy.remove((int) index);
        return copy;
    }

    private static Object dict(String t, Map<?, ?> dict, Map<?, ?> c, Map<String, Object> out) throws ChangeRejected {
        String key = text(c, "key");
        boolean present = dict.containsKey(key);
        Map<Object, Object> copy = new LinkedHashMap<>(dict);
        out.put("key", key);
        switch (t) {
            case "add":
                if (present) {
                    throw new ChangeRejected("Key '" + key + "' exists: use change_value to change it");
                }
                Object added = field(c, "value");
                out.put("value", added);
                copy.put(key, added);
                return copy;
            case "change_value":
                if (!present) {
                    throw new ChangeRejected("No key '" + key + "': use add to add it");
                }
                Object changed = field(c, "value");
                out.put("value", changed);
                copy.put(key, changed);
                return copy;
            default: // pop
                if (!present) {
                    throw new ChangeRejected("No key '" + key + "'");
                }
                copy.remove(key);
                return copy;
        }
    }

    private static Object field(Map<?, ?> c, String name) throws ChangeRejected {
        if (!c.containsKey(name)) {
            throw new ChangeRejected("The '" + c.get("type") + "' change needs a \"" + name + "\"");
        }
        return c.get(name);
    }

    private static long integer(Map<?, ?> c, String name) throws ChangeRejected {
        Object v = field(c, name);
        if (v instanceof Long) {
            return (Long) v;
        }
        if (v instanceof BigInteger) {
            throw new ChangeRejected("\"" + name + "\" " + v + " is out of range");
        }
        throw new ChangeRejected("\"" + name + "\" must be an integer, not " + JsonValues.typeName(v));
    }

    private static String text(Map<?, ?> c, String name) throws ChangeRejected {
        Object v = field(c, name);
        if (v instanceof String) {
            return (String) v;
        }
        throw new ChangeRejected("\"" + name + "\" must be a string, not " + JsonValues.typeName(v));
    }
}
