/**
 * The line dialect (PROTOCOL.md section 3, seed 004): a chat over raw TCP, one UTF-8 line per
 * message, readable with {@code telnet} or {@code nc}.
 */
package io.switchboard.protocol.line;
