/**
 * The line dialect (PROTOCOL.md section 3): a chat over raw TCP for telnet and nc.
 * Internal: anything here may change at any time, without notice.
 */
package io.switchboard.server.internal.dialect.line;
