/**
 * Switchboard's wiring: the node ({@link io.switchboard.server.internal.Node}) that builds the
 * broker, the cluster link and the dialects and hands them to the pipelines; settings from the
 * environment; the metrics binding. Its sub-packages hold one concern each (docs/architecture.md
 * has the map). Internal: anything here may change at any time, without notice. Embedders use
 * {@code io.switchboard.server} only.
 */
package io.switchboard.server.internal;
