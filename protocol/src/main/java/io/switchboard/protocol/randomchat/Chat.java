package io.switchboard.protocol.randomchat;

import java.util.List;
import java.util.Objects;

/**
 * The seed's Chat: {@code {"name": N, "members": [User], "owner": User}}. Members are listed in the
 * order they joined, the owner first.
 */
public record Chat(String name, List<User> members, User owner) {

    public Chat {
        Objects.requireNonNull(name, "name");
        members = List.copyOf(members);
        Objects.requireNonNull(owner, "owner");
    }
}
