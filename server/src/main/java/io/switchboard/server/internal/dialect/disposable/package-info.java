/**
 * The disposable dialect (PROTOCOL.md section 2): chat rooms on the shared channels.
 * Internal: anything here may change at any time, without notice.
 */
package io.switchboard.server.internal.dialect.disposable;
