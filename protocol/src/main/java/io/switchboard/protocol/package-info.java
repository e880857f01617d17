/**
 * Wire-level building blocks shared by every Switchboard dialect: WebSocket frame headers for
 * pre-encoded server frames, JSON string quoting, timestamps and name rules. No transport.
 */
package io.switchboard.protocol;
