package io.switchboard.server.internal.transport;

import io.netty.channel.Channel;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Counts WebSocket connections, in all and per remote address, against {@code MAX_CONNECTIONS} and
 * {@code MAX_CONNECTIONS_PER_ADDRESS}. A connection holds its place from its accepted upgrade until
 * it closes. Thread-safe.
 */
public final class ConnectionLimits {

    /** The answer to an upgrade. */
    enum Verdict {
        ACCEPTED,
        /** Over the total: 503 with Retry-After. */
        FULL,
        /** Over the per-address limit: 429. */
        TOO_MANY_FROM_ADDRESS
    }

    private final int max;
    private final int maxPerAddress;
    private final AtomicInteger total = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();

    public ConnectionLimits(int max, int maxPerAddress) {
        this.max = max;
        this.maxPerAddress = maxPerAddress;
    }

    /** Takes a place for {@code ch} until it closes, or says why not. */
    Verdict acquire(Channel ch) {
        if (total.incrementAndGet() > max) {
            total.decrementAndGet();
            return Verdict.FULL;
        }
        InetAddress address = maxPerAddress > 0 ? address(ch.remoteAddress()) : null;
        if (address != null) {
            boolean[] admitted = new boolean[1];
            perAddress.compute(address, (a, n) -> {
                int held = n == null ? 0 : n;
                admitted[0] = held < maxPerAddress;
                return admitted[0] ? held + 1 : n;
            });
            if (!admitted[0]) {
                total.decrementAndGet();
                return Verdict.TOO_MANY_FROM_ADDRESS;
            }
        }
        ch.closeFuture().addListener(f -> {
            if (address != null) {
                release(address);
            }
            total.decrementAndGet();
        });
        return Verdict.ACCEPTED;
    }

    /** WebSocket connections held now. */
    public int count() {
        return total.get();
    }

    private void release(InetAddress address) {
        perAddress.computeIfPresent(address, (a, n) -> n == 1 ? null : n - 1);
    }

    private static InetAddress address(SocketAddress remote) {
        return remote instanceof InetSocketAddress ? ((InetSocketAddress) remote).getAddress() : null;
    }
}
