package io.switchboard.server;

/**
 * A channel and its subscriber count at the moment it was listed. Immutable.
 *
 * @param name        the channel's name
 * @param subscribers its subscribers on every node of the cluster (this node's, on a single node)
 */
public record ChannelInfo(String name, int subscribers) {
}
