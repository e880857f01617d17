package io.switchboard.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.reflect.Proxy;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The extension fails a class that leaked a buffer and passes one that did not. */
class LeakDetectionExtensionTest {

    private final LeakDetectionExtension extension = new LeakDetectionExtension();

    @Test
    void testsRunWithParanoidLeakDetection() {
        assertEquals(ResourceLeakDetector.Level.PARANOID, ResourceLeakDetector.getLevel(),
                "the parent pom's test.jvm.args set -Dio.netty.leakDetectionLevel=paranoid");
    }

    @Test
    void failsTheClassThatLeakedABuffer() {
        leakOneBuffer();
        AssertionError failure = assertThrows(AssertionError.class, () -> extension.afterAll(context("LeakyTest")));
        assertTrue(failure.getMessage().startsWith("LEAK: Netty reported leaked buffers during or before LeakyTest"),
                failure.getMessage());
        // The report was consumed with the failure: the next class starts clean.
        assertDoesNotThrow(() -> extension.afterAll(context("NextTest")));
    }

    @Test
    void passesAClassThatReleasedEverything() {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(32);
        buf.writeLong(42);
        buf.release();
        assertDoesNotThrow(() -> extension.afterAll(context("TidyTest")));
    }

    /** Allocates a tracked buffer and drops the last reference without releasing it. */
    private static void leakOneBuffer() {
        ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(32);
        buf.writeLong(7);
    }

    /** An {@link ExtensionContext} that only knows its display name, all the extension reads. */
    private static ExtensionContext context(String displayName) {
        return (ExtensionContext) Proxy.newProxyInstance(ExtensionContext.class.getClassLoader(),
                new Class<?>[] {ExtensionContext.class}, (proxy, method, args) -> {
                    if (method.getName().equals("getDisplayName")) {
                        return displayName;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }
}
