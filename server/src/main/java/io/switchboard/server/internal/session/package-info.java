/**
 * What every dialect's session shares: its place in the broker, the slow-consumer policy, the
 * rate limit, the heartbeat and the WebSocket close handshake.
 * Internal: anything here may change at any time, without notice.
 */
package io.switchboard.server.internal.session;
