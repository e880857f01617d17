/**
 * The broker: the channel namespace, the fan-out (one task per event loop carrying one encoded
 * frame), the connections and their flushes, channel events, and the contract of the cluster link.
 * Internal: anything here may change at any time, without notice.
 */
package io.switchboard.server.internal.broker;
