package io.switchboard.protocol.minichats;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
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
    private static final JsonFactory JSON = new JsonFactory();
    private final MinichatsDecoder decoder = new MinichatsDecoder(MAX_BYTES, 32, 128);

    @FuzzTest(maxDuration = "2m")
    void decodesAnyRequest(byte[] input) {
        ByteBuf frame = PooledByteBufAllocator.DEFAULT.buffer(input.length).writeBytes(input);
        try {
            MinichatsRequest request = decoder.decode(frame);
            assertNotNull(request.action());
            if (request.action() == Action.PUBLISH) {
                assertWholeJsonSliceOf(frame, request.content());
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
            assertWholeJsonSliceOf(body, publish.content());
        } catch (MinichatsException e) {
            assertNotNull(e.code());
        } finally {
            assertEquals(0, body.readerIndex(), "the decoder reads the body without consuming it");
            assertEquals(1, body.refCnt());
            body.release();
        }
    }

    /**
     * What the fan-out relays byte for byte: {@code content} is bytes of {@code frame}, untouched,
     * and exactly one JSON value, no whitespace or anything else around it.
     */
    static void assertWholeJsonSliceOf(ByteBuf frame, ByteBuf content) {
        assertTrue(content.readableBytes() > 0, "a publish has content");
        assertTrue(ByteBufUtil.indexOf(content, frame) >= 0, "the content is bytes of the frame");
        byte[] bytes = ByteBufUtil.getBytes(content);
        assertTrue(bytes[0] > ' ' && bytes[bytes.length - 1] > ' ', "no whitespace around the value");
        try (JsonParser parser = JSON.createParser(bytes)) {
            assertNotNull(parser.nextToken(), "a JSON value");
            parser.skipChildren();
            assertNull(parser.nextToken(), "one JSON value and nothing after it");
        } catch (IOException e) {
            throw new AssertionError("the content is not one whole JSON value: "
                    + new String(bytes, StandardCharsets.UTF_8), e);
        }
    }
}
