package io.switchboard.server;

/** Whose TLS implementation serves the WebSocket port ({@link SwitchboardConfig#tlsProvider()}). */
public enum TlsProvider {
    /** OpenSSL where {@code netty-tcnative} loads (the runnable jar carries Linux x86_64's), the JDK otherwise. */
    AUTO,
    /** The JDK's {@code SSLEngine}: no native code. */
    JDK,
    /**
     * BoringSSL through {@code io.netty:netty-tcnative-boringssl-static} with the platform's
     * classifier on the class path; {@link SwitchboardServer#start()} throws
     * {@link TlsUnavailableException} where it does not load.
     */
    OPENSSL
}
