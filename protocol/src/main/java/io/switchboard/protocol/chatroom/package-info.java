/**
 * The chatroom dialect (PROTOCOL.md section 4, seed 003): its messages, topic types and typed
 * changes. Values are plain Java objects ({@link io.switchboard.protocol.chatroom.JsonValues}).
 */
package io.switchboard.protocol.chatroom;
