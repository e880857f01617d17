/**
 * The broker: the channel namespace, the node's one fan-out ({@code Fanout}: one task per event loop
 * carrying one encoded frame and that loop's targets; channels, chatroom topics and randomchat use
 * it), the connections and their flushes, channel events, and the contract of the cluster link.
 * Internal: anything here may change at any time, without notice.
 */
package io.switchboard.server.internal.broker;
