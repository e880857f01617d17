package io.switchboard.server;

/** The socket transport of a server that owns its event loops. */
public enum Transport {
    /** Epoll where the native library loads (Linux x86_64 and aarch64), NIO otherwise. */
    AUTO,
    /** Linux epoll; startup fails where it is not available. */
    EPOLL,
    /** Java NIO, available everywhere. */
    NIO
}
