/**
 * The node's counters, kept without a metrics library (bound to Micrometer by the node).
 * Internal: anything here may change at any time, without notice.
 */
package io.switchboard.server.internal.metrics;
