/**
 * The randomchat dialect (PROTOCOL.md section 5): users, chats and offline delivery, over a store.
 * Internal: anything here may change at any time, without notice.
 */
package io.switchboard.server.internal.dialect.randomchat;
