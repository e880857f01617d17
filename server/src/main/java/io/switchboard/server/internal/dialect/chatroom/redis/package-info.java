/**
 * The chatroom's topics and services across a cluster, held in Redis.
 * Internal: anything here may change at any time, without notice.
 */
package io.switchboard.server.internal.dialect.chatroom.redis;
