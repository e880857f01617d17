package io.switchboard.server.internal.broker;

import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.disposable.DisposableEncoder;

/** A disposable client as a room's {@code welcome} lists it: its id and name, quoted once. Immutable. */
public record RosterMember(String id, String name, byte[] quotedId, byte[] quotedName) implements DisposableEncoder.Member {

    public static RosterMember of(String id, String name) {
        return new RosterMember(id, name, JsonStrings.quote(id), JsonStrings.quote(name));
    }
}
