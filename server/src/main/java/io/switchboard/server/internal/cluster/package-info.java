/**
 * The cluster link through Redis: channel subscriptions, node counts and heartbeats, the envelope
 * on the wire, the node's one way to Redis ({@link io.switchboard.server.internal.cluster.RedisConnections},
 * which the dialects' {@code redis} packages use too), and how its Lua scripts ({@code .lua}
 * resources) are loaded. The only package of the core that uses Lettuce.
 * Internal: anything here may change at any time, without notice.
 */
package io.switchboard.server.internal.cluster;
