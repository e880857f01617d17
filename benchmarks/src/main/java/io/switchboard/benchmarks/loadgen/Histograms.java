package io.switchboard.benchmarks.loadgen;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;

/** HdrHistograms in the JSON result: HdrHistogram's compressed encoding, in base64. */
final class Histograms {

    private Histograms() {
    }

    static String encode(Histogram h) {
        ByteBuffer b = ByteBuffer.allocate(h.getNeededByteBufferCapacity());
        int n = h.encodeIntoCompressedByteBuffer(b, Deflater.BEST_COMPRESSION);
        return Base64.getEncoder().encodeToString(Arrays.copyOf(b.array(), n));
    }

    /** Decodes {@link #encode}'s text; IllegalArgumentException when it is not one. */
    static Histogram decode(String base64) {
        try {
            return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(base64)), 0);
        } catch (DataFormatException | RuntimeException e) {
            throw new IllegalArgumentException("not an encoded HdrHistogram (" + e.getMessage() + ")");
        }
    }

    /** The latency summary a result holds ({@code latency_us}): percentiles, max, mean (null when empty) and count. */
    static Map<String, Object> summary(Histogram h) {
        boolean any = h.getTotalCount() > 0;
        Map<String, Object> lat = new LinkedHashMap<>();
        lat.put("p50", any ? h.getValueAtPercentile(50) : null);
        lat.put("p90", any ? h.getValueAtPercentile(90) : null);
        lat.put("p99", any ? h.getValueAtPercentile(99) : null);
        lat.put("p999", any ? h.getValueAtPercentile(99.9) : null);
        lat.put("max", any ? h.getMaxValue() : null);
        lat.put("mean", any ? h.getMean() : null);
        lat.put("count", h.getTotalCount());
        return lat;
    }

    /** The percentile distribution a result holds: [percentile, value] pairs, 5 steps per halving. */
    static List<Object> distribution(Histogram h) {
        List<Object> distribution = new ArrayList<>();
        if (h.getTotalCount() > 0) {
            for (HistogramIterationValue v : h.percentiles(5)) {
                distribution.add(List.of(v.getPercentileLevelIteratedTo(), v.getValueIteratedTo()));
            }
        }
        return distribution;
    }
}
