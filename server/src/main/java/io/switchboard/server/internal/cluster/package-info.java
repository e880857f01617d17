/**
 * The cluster link through Redis: channel subscriptions, node counts and heartbeats, the envelope
 * on the wire, and how the node connects to Redis. The only package of the core that uses Lettuce.
 * Internal: anything here may change at any time, without notice.
 */
package io.switchboard.server.internal.cluster;
