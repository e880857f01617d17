package io.switchboard.benchmarks.chatroom;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.switchboard.protocol.chatroom.ChangeRejected;
import io.switchboard.protocol.chatroom.ChatroomDecoder;
import io.switchboard.protocol.chatroom.ChatroomEncoder;
import io.switchboard.protocol.chatroom.ChatroomException;
import io.switchboard.protocol.chatroom.ChatroomMessage;
import io.switchboard.protocol.chatroom.TopicChange;
import io.switchboard.protocol.chatroom.TopicType;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * What one chatroom change costs its topic's owner, before the fan-out (which is the broker's: one
 * frame, duplicates per loop): decoding the client's {@code update}, applying a list insert to a
 * list of {@code items} (a copy of the top level; the size check measures the new item only), and encoding the
 * update frame every subscriber gets. Run with {@code -prof gc} for bytes per change.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled", "-Xmx1g"})
public class ChatroomBenchmark {

    @Param({"10", "100", "1000"})
    public int items;

    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private final ChatroomDecoder decoder = new ChatroomDecoder(65536, 32);
    private ByteBuf message;
    private Object list;
    private long size;

    @Setup
    public void setUp() {
        String json = "{\"type\":\"update\",\"content\":{\"topic_name\":\"todo\",\"change\":{\"type\":\"insert\","
                + "\"index\":0,\"value\":\"buy milk\",\"id\":\"c-17\"}}}";
        message = alloc.directBuffer().writeBytes(json.getBytes(StandardCharsets.UTF_8));
        List<Object> l = new ArrayList<>();
        for (int i = 0; i < items; i++) {
            l.add("item " + i);
        }
        list = l;
        try {
            size = TopicChange.measure(l, Long.MAX_VALUE); // as the topic knows it between changes
        } catch (ChangeRejected e) {
            throw new IllegalStateException(e);
        }
    }

    @TearDown
    public void tearDown() {
        message.release();
    }

    @Benchmark
    public int update() throws ChatroomException, ChangeRejected {
        ChatroomMessage m = decoder.decode(message);
        TopicChange.Applied applied = TopicChange.apply(TopicType.LIST, list, size, m.required("change"), 1 << 20);
        ByteBuf payload = ChatroomEncoder.updatePayload(alloc, m.string("topic_name"), applied.change(), 18);
        ByteBuf frame = ChatroomEncoder.frame(alloc, payload);
        int bytes = frame.readableBytes();
        payload.release();
        frame.release();
        return bytes;
    }
}
