package io.switchboard.benchmarks.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.switchboard.protocol.JsonLines;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.minichats.MinichatsEncoder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * What batched frames (issue 17) add to a publish that has a batched subscriber: the scan for a raw
 * line break in the delivery's payload (no copy when there is none, the common case), against
 * encoding the delivery itself; and the compaction a pretty-printed content costs. A publish to a
 * channel without batched subscribers pays none of it. Run with {@code -prof gc} for bytes.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled", "-Xmx1g"})
public class BatchPayloadBenchmark {

    @Param({"16", "256", "4096"})
    public int contentBytes;

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private final byte[] sender = JsonStrings.quote("publisher-1");
    private final byte[] channel = JsonStrings.quote("bench-channel");
    private ByteBuf content;
    private ByteBuf pretty;

    @Setup
    public void setUp() {
        content = alloc.directBuffer().writeBytes(("\"" + "x".repeat(contentBytes - 2) + "\"")
                .getBytes(StandardCharsets.UTF_8));
        StringBuilder p = new StringBuilder("{\n");
        while (p.length() < contentBytes - 20) {
            p.append("  \"k").append(p.length()).append("\": [1, 2, \"v\"],\n");
        }
        p.append("  \"end\": true\n}");
        pretty = alloc.directBuffer().writeBytes(p.toString().getBytes(StandardCharsets.UTF_8));
    }

    @TearDown
    public void tearDown() {
        content.release();
        pretty.release();
    }

    /** The delivery frame alone: what every publish pays. */
    @Benchmark
    public int encodeDelivery() {
        ByteBuf frame = MinichatsEncoder.delivery(alloc, sender, channel, 1_763_775_123_456L, content);
        int size = frame.readableBytes();
        frame.release();
        return size;
    }

    /** The delivery frame and its batched payload, content without line breaks: the scan, a slice. */
    @Benchmark
    public int encodeDeliveryAndBatchPayload() {
        ByteBuf frame = MinichatsEncoder.delivery(alloc, sender, channel, 1_763_775_123_456L, content);
        int header = frame.getUnsignedByte(1) < 126 ? 2 : frame.getUnsignedByte(1) == 126 ? 4 : 10;
        ByteBuf payload = frame.retainedSlice(header, frame.readableBytes() - header);
        int size = JsonLines.hasLineBreak(payload) ? -1 : payload.readableBytes();
        payload.release();
        frame.release();
        return size;
    }

    /** Compacting a pretty-printed content of about the same size: a publish that has line breaks. */
    @Benchmark
    public int compactPretty() {
        ByteBuf compact = JsonLines.compact(alloc, pretty);
        int size = compact.readableBytes();
        compact.release();
        return size;
    }
}
