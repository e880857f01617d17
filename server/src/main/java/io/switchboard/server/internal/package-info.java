/**
 * Switchboard's wiring: the pipeline, the handshake router, the sessions and the broker.
 * Internal: anything here may change at any time, without notice. Embedders use
 * {@code io.switchboard.server} only.
 */
package io.switchboard.server.internal;
