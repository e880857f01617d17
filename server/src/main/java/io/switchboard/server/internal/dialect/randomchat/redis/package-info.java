/**
 * The randomchat store of a cluster: Redis, with its rules as Lua scripts.
 * Internal: anything here may change at any time, without notice.
 */
package io.switchboard.server.internal.dialect.randomchat.redis;
