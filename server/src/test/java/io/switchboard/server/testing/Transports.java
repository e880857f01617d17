package io.switchboard.server.testing;

import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.switchboard.server.Transport;

import java.util.Locale;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The explicit transports, for tests that run once per transport: only where the kernel or the
 * platform refuses a native one is its test skipped, and the skip says why (issue 22).
 */
public final class Transports {

    private Transports() {
    }

    /** Skips the calling test, printing Netty's reason, when {@code transport} does not load here. */
    public static void assumeAvailable(Transport transport) {
        Throwable cause = unavailabilityCause(transport);
        if (cause != null) {
            System.out.println("skipping " + name(transport) + ": " + cause);
        }
        assumeTrue(cause == null, () -> name(transport) + " does not load here: " + cause);
    }

    /** A new handler factory of {@code transport}'s event loops, to lend the server a group. */
    public static IoHandlerFactory ioHandler(Transport transport) {
        switch (transport) {
            case EPOLL:
                return EpollIoHandler.newFactory();
            case IO_URING:
                return IoUringIoHandler.newFactory();
            case NIO:
                return NioIoHandler.newFactory();
            default:
                throw new IllegalArgumentException("transport: " + transport + " (expected: an explicit one)");
        }
    }

    /** As {@code TRANSPORT} and {@link io.switchboard.server.SwitchboardServer#transportName()} spell it. */
    public static String name(Transport transport) {
        return transport.name().toLowerCase(Locale.ROOT);
    }

    private static Throwable unavailabilityCause(Transport transport) {
        switch (transport) {
            case EPOLL:
                return Epoll.unavailabilityCause();
            case IO_URING:
                return IoUring.unavailabilityCause();
            default:
                return null;
        }
    }
}
