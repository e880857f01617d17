package io.switchboard.protocol.minichats;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzzes the minichats request decoders with Jazzer. In {@code mvn verify} (regression mode) it
 * replays the saved inputs under {@code src/test/resources/.../MinichatsDecoderFuzzTestInputs/};
 * to fuzz for real, one method at a time, for its time box (or {@code -Djazzer.max_duration}):
 * <pre>
 * JAZZER_FUZZ=1 mvn -B -pl protocol test -Dtest='MinichatsDecoderFuzzTest#decodesAnyRequest' -Djazzer.max_duration=5m
 * </pre>
 * Jazzer keeps the corpus it grows in {@code protocol/.cifuzz-corpus/} (not committed); an input that
 * breaks a property is written under the Inputs directory, where it then replays in every build.
 * Any input must end in a request or a {@link MinichatsException} with a code and a detail: no
 * other exception, no endless loop, the frame untouched (its reader index and reference count),
 * and a publish's content a slice of the frame that is one whole JSON value.
 */
class MinichatsDecoderFuzzTest {

    private static final int MAX_BYTES = 4096;
    private final MinichatsDecoder decoder = new MinichatsDecoder(MAX_BYTES, 32, 128);

    @FuzzTest(maxDuration = "2m")
    void decodesAnyRequest(byte[] input) {
        ByteBuf frame = PooledByteBufAllocator.DEFAULT.buffer(input.length).writeBytes(input);
        try {
            MinichatsRequest request = decoder.decode(frame);
            assertNotNull(request.action());
            if (request.action() == Action.PUBLISH) {
                ByteBuf content = request.content();
                assertTrue(content.readableBytes() > 0, "a publish has content");
                assertTrue(request.channelName().getBytes(StandardCharsets.UTF_8).length <= 128);
            }
        } catch (MinichatsException e) {
            assertNotNull(e.code());
            assertNotNull(e.detail());
        } finally {
            assertEquals(0, frame.readerIndex(), "the decoder reads the frame without consuming it");
            assertEquals(1, frame.refCnt(), "the decoder neither retains nor releases the frame");
            frame.release();
        }
    }

    @FuzzTest(maxDuration = "2m")
    void decodesAnyApiPublish(byte[] input) {
        ByteBuf body = PooledByteBufAllocator.DEFAULT.buffer(input.length).writeBytes(input);
        try {
            ApiPublish publish = decoder.decodeApiPublish(body, 64);
            assertNotNull(publish.channelName());
            assertTrue(publish.content().readableBytes() > 0);
        } catch (MinichatsException e) {
            assertNotNull(e.code());
        } finally {
            assertEquals(1, body.refCnt());
            body.release();
        }
    }
}
