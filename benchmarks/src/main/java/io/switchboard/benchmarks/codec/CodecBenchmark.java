package io.switchboard.benchmarks.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.minichats.MinichatsDecoder;
import io.switchboard.protocol.minichats.MinichatsEncoder;
import io.switchboard.protocol.minichats.MinichatsException;
import io.switchboard.protocol.minichats.MinichatsRequest;
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
 * The minichats codec in isolation: decoding a publish request (from a direct buffer, as frames
 * arrive from the socket) and encoding the delivery frame, for three content sizes. Run with
 * {@code -prof gc} for bytes per operation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled", "-Xmx1g"})
public class CodecBenchmark {

    @Param({"16", "256", "4096"})
    public int contentBytes;

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private final MinichatsDecoder decoder = new MinichatsDecoder(65536, 32, 128);
    private final byte[] sender = JsonStrings.quote("publisher-1");
    private final byte[] channel = JsonStrings.quote("bench-channel");
    private ByteBuf request;
    private ByteBuf content;

    @Setup
    public void setUp() {
        String text = "x".repeat(contentBytes - 2);
        String json = "{\"action\":\"publish\",\"request_id\":17,\"params\":{\"channel_name\":\"bench-channel\","
                + "\"content\":\"" + text + "\"}}";
        request = alloc.directBuffer().writeBytes(json.getBytes(StandardCharsets.UTF_8));
        content = alloc.directBuffer().writeBytes(("\"" + text + "\"").getBytes(StandardCharsets.UTF_8));
    }

    @TearDown
    public void tearDown() {
        request.release();
        content.release();
    }

    /** Parses a publish request; the content is located and sliced, not copied. */
    @Benchmark
    public MinichatsRequest decodePublish() throws MinichatsException {
        return decoder.decode(request);
    }

    /** Encodes the delivery of one publish as a complete WebSocket frame, and frees it. */
    @Benchmark
    public int encodeDelivery() {
        ByteBuf frame = MinichatsEncoder.delivery(alloc, sender, channel, 1_763_775_123_456L, content);
        int size = frame.readableBytes();
        frame.release();
        return size;
    }
}
