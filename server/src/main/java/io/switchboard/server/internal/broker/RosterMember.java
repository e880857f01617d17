package io.switchboard.server.internal.broker;

import io.switchboard.protocol.JsonStrings;

/**
 * A client that is a member of a channel, as a dialect lists the members of a room (disposable's
 * {@code welcome}): its id and name, quoted once. Immutable.
 */
public record RosterMember(String id, String name, byte[] quotedId, byte[] quotedName) {

    public static RosterMember of(String id, String name) {
        return new RosterMember(id, name, JsonStrings.quote(id), JsonStrings.quote(name));
    }
}
