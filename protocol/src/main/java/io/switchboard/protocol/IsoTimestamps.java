package io.switchboard.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Writes instants as ISO-8601 UTC with milliseconds, {@code 2026-11-22T01:32:03.123Z}, always 24
 * bytes, straight into a buffer: no formatter, no allocation (the delivery encoder calls this
 * once per published message).
 */
public final class IsoTimestamps {

    /** The length in bytes of every timestamp written. */
    public static final int LENGTH = 24;

    private static final long MILLIS_PER_DAY = 86_400_000L;

    private IsoTimestamps() {
    }

    /**
     * Writes {@code epochMillis} (years 0000 to 9999) as 24 ASCII bytes. Does not take ownership
     * of {@code out}.
     */
    public static void write(ByteBuf out, long epochMillis) {
        long days = Math.floorDiv(epochMillis, MILLIS_PER_DAY);
        int millisOfDay = (int) Math.floorMod(epochMillis, MILLIS_PER_DAY);

        // Civil date from days since 1970-01-01 (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").
        long z = days + 719_468;
        long era = Math.floorDiv(z, 146_097);
        long dayOfEra = z - era * 146_097;
        long yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365;
        long dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100);
        long mp = (5 * dayOfYear + 2) / 153;
        int day = (int) (dayOfYear - (153 * mp + 2) / 5 + 1);
        int month = (int) (mp < 10 ? mp + 3 : mp - 9);
        long year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
        if (year < 0 || year > 9999) {
            throw new IllegalArgumentException("epochMillis: " + epochMillis + " (expected: a year from 0 to 9999)");
        }

        int hour = millisOfDay / 3_600_000;
        int minute = millisOfDay / 60_000 % 60;
        int second = millisOfDay / 1000 % 60;
        int millis = millisOfDay % 1000;

        writeDigits(out, (int) year, 4);
        out.writeByte('-');
        writeDigits(out, month, 2);
        out.writeByte('-');
        writeDigits(out, day, 2);
        out.writeByte('T');
        writeDigits(out, hour, 2);
        out.writeByte(':');
        writeDigits(out, minute, 2);
        out.writeByte(':');
        writeDigits(out, second, 2);
        out.writeByte('.');
        writeDigits(out, millis, 3);
        out.writeByte('Z');
    }

    private static void writeDigits(ByteBuf out, int value, int width) {
        int divisor = 1;
        for (int i = 1; i < width; i++) {
            divisor *= 10;
        }
        for (; divisor > 0; divisor /= 10) {
            out.writeByte('0' + value / divisor % 10);
        }
    }
}
