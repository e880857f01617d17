/**
 * The minichats dialect (PROTOCOL.md section 1): its session and the HTTP API for backends.
 * Internal: anything here may change at any time, without notice.
 */
package io.switchboard.server.internal.dialect.minichats;
