/**
 * The edge of a connection: pipelines, the handshake router, the HTTP deadline and limits, the
 * outbound bound ({@link io.switchboard.server.internal.transport.Backpressure}), close frames and the
 * tail handler that logs what nobody expected.
 * Internal: anything here may change at any time, without notice.
 */
package io.switchboard.server.internal.transport;
