package io.switchboard.server;

import java.util.Locale;
import java.util.Objects;

/**
 * Thrown by {@link SwitchboardServer#start()} when {@link SwitchboardConfig#transport()} names a
 * native transport that cannot load here (no native library for the platform, an old kernel, a
 * seccomp policy that refuses io_uring). The server never falls back to another transport by
 * itself: choose {@link Transport#AUTO} or {@link Transport#NIO} instead. {@link #getCause()} is
 * Netty's reason. The runnable node exits with 2.
 */
public final class TransportUnavailableException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    private final Transport transport;

    TransportUnavailableException(Transport transport, Throwable cause) {
        super("TRANSPORT=" + Objects.requireNonNull(transport, "transport").name().toLowerCase(Locale.ROOT)
                + " cannot load here: " + cause + " (auto picks epoll where it loads, NIO otherwise)", cause);
        this.transport = transport;
    }

    /** The transport that was asked for. */
    public Transport transport() {
        return transport;
    }
}
