package io.switchboard.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

class IsoTimestampsTest {

    private static final DateTimeFormatter ISO_MILLIS =
            DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    @Test
    void writesUtcWithMillis() {
        assertEquals("2026-11-22T01:32:03.123Z", format(Instant.parse("2026-11-22T01:32:03.123Z").toEpochMilli()));
        assertEquals("1970-01-01T00:00:00.000Z", format(0));
        assertEquals("1969-12-31T23:59:59.999Z", format(-1));
        assertEquals("2000-02-29T12:00:00.000Z", format(Instant.parse("2000-02-29T12:00:00Z").toEpochMilli()));
        assertEquals("9999-12-31T23:59:59.999Z", format(Instant.parse("9999-12-31T23:59:59.999Z").toEpochMilli()));
    }

    @Test
    void agreesWithJavaTimeOnRandomInstants() {
        SplittableRandom random = new SplittableRandom(42);
        long max = Instant.parse("9999-12-31T23:59:59.999Z").toEpochMilli();
        long min = Instant.parse("0000-01-01T00:00:00Z").toEpochMilli();
        for (int i = 0; i < 100_000; i++) {
            long t = random.nextLong(min, max);
            assertEquals(ISO_MILLIS.format(Instant.ofEpochMilli(t)), format(t), "at " + t);
        }
    }

    private static String format(long epochMillis) {
        ByteBuf out = Unpooled.buffer();
        IsoTimestamps.write(out, epochMillis);
        assertEquals(IsoTimestamps.LENGTH, out.readableBytes());
        return out.toString(StandardCharsets.US_ASCII);
    }
}
