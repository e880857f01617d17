package io.switchboard.server;

/**
 * Thrown by {@link SwitchboardServer#start()} when the WebSocket port cannot serve TLS as configured:
 * the certificate or key file cannot be read or parsed, the key does not match the certificate, or
 * {@link TlsProvider#OPENSSL} was asked for and {@code netty-tcnative} does not load here (the server
 * never falls back to the JDK by itself). The message says which file or provider and why; nothing
 * was bound. The runnable node exits with 2.
 */
public final class TlsUnavailableException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    TlsUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
