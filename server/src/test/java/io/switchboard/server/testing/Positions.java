package io.switchboard.server.testing;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.switchboard.server.testing.Requests.publish;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The requests and readings of the history tests (PROTOCOL.md section 1a, issue 18): subscribes
 * with positions or {@code recover}, and the offset, epoch and numbered content of a reply or a
 * delivery, read with patterns (the tests parse no JSON tree).
 */
public final class Positions {

    private static final Pattern OFFSET = Pattern.compile("\"offset\":(\\d+)");
    private static final Pattern EPOCH = Pattern.compile("\"epoch\":\"([^\"]+)\"");
    private static final Pattern N = Pattern.compile("\"content\":\\{\"n\":(\\d+)}");

    private Positions() {
    }

    public static String positioned(String channel) {
        return "{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"" + channel + "\",\"positions\":true}}";
    }

    public static String recover(String channel, long offset, String epoch) {
        return "{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"" + channel + "\",\"recover\":{\"offset\":"
                + offset + ",\"epoch\":\"" + epoch + "\"}}}";
    }

    /** The first {@code "offset"} in {@code message}; fails the test without one. */
    public static long offset(String message) {
        Matcher m = OFFSET.matcher(message);
        assertTrue(m.find(), "an offset in " + message);
        return Long.parseLong(m.group(1));
    }

    /** The {@code "epoch"} in {@code message}; fails the test without one. */
    public static String epoch(String message) {
        Matcher m = EPOCH.matcher(message);
        assertTrue(m.find(), "an epoch in " + message);
        return m.group(1);
    }

    /** {@code i} of a delivery whose content is {@code {"n":i}}. */
    public static int n(String delivery) {
        Matcher m = N.matcher(delivery);
        assertTrue(m.find(), "a numbered content in " + delivery);
        return Integer.parseInt(m.group(1));
    }

    /** Every {@code i} of the contents {@code {"n":i}} in {@code reply}, in order (a history listing). */
    public static java.util.List<Integer> numbers(String reply) {
        java.util.List<Integer> ns = new java.util.ArrayList<>();
        Matcher m = N.matcher(reply);
        while (m.find()) {
            ns.add(Integer.parseInt(m.group(1)));
        }
        return ns;
    }

    /** Publishes {"n":i} for each i from {@code from} to {@code to}, each acknowledged (the publisher's copies read past). */
    public static void publishAll(JdkClient p, String channel, int from, int to) {
        for (int i = from; i < to; i++) {
            p.send(publish(channel, "{\"n\":" + i + "}"));
            String m;
            do {
                m = p.next();
            } while (!m.startsWith("{\"status\""));
            assertEquals("{\"status\":\"ok\"}", m);
        }
    }
}
