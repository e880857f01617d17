package io.switchboard.server.internal.session;

import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.broker.Broker;
import io.switchboard.server.internal.metrics.Metrics;

/**
 * What every session of a node shares, whatever its dialect: the settings, the counters and the
 * broker. Made once by the node; a dialect adds what it needs of its own. Immutable.
 */
public record SessionContext(SwitchboardConfig config, Metrics metrics, Broker broker) {
}
