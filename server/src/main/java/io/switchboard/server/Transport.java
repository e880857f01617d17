package io.switchboard.server;

/**
 * The socket transport of a server that owns its event loops. The listening port, the line chat's
 * port and the inspection page's all use the one chosen.
 */
public enum Transport {
    /** Epoll where the native library loads (Linux x86_64 and aarch64), NIO otherwise. */
    AUTO,
    /** Linux epoll; {@link SwitchboardServer#start()} throws {@link TransportUnavailableException} where it does not load. */
    EPOLL,
    /**
     * Linux io_uring (kernel 5.14 or later, and not refused by a seccomp policy); needs
     * {@code io.netty:netty-transport-native-io_uring} for the platform on the class path (the runnable
     * jar has Linux x86_64's). {@link SwitchboardServer#start()} throws
     * {@link TransportUnavailableException} where it does not load.
     */
    IO_URING,
    /** Java NIO, available everywhere. */
    NIO
}
