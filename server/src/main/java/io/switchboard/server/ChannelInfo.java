package io.switchboard.server;

/**
 * A channel and its subscriber count at the moment it was listed. Immutable.
 *
 * @param name        the channel's name
 * @param subscribers its subscribers on this node
 */
public record ChannelInfo(String name, int subscribers) {
}
