/**
 * The chatroom dialect (PROTOCOL.md section 4): typed topics, services, and the inspection page.
 * Internal: anything here may change at any time, without notice.
 */
package io.switchboard.server.internal.dialect.chatroom;
