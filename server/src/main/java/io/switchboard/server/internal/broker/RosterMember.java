package io.switchboard.server.internal.broker;

import io.switchboard.protocol.JsonStrings;

/**
 * A client that is a member of a channel of the shared namespace, as presence lists it (minichats
 * {@code presence}, disposable's {@code welcome}): its id, unique in the cluster, its name, quoted
 * once, and the dialect it speaks (PROTOCOL.md section 1a, "Presence"). Immutable.
 */
public record RosterMember(String id, String name, Dialect dialect, byte[] quotedId, byte[] quotedName) {

    public static RosterMember of(String id, String name, Dialect dialect) {
        return new RosterMember(id, name, dialect, JsonStrings.quote(id), JsonStrings.quote(name));
    }
}
