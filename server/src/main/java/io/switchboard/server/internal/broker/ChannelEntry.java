package io.switchboard.server.internal.broker;

import io.switchboard.protocol.JsonStrings;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A channel in the shared registry: its name (encoded once), its local subscriber count and the local
 * groups that have members, one per event loop. The {@link Broker} changes an entry only under
 * its lock; publishers read {@link #groups} and the count without one.
 */
public final class ChannelEntry {

    private static final LocalGroup[] NO_GROUPS = new LocalGroup[0];

    public final String name;
    public final byte[] utf8Name;
    private final byte[] quotedName;
    /** Copy-on-write: replaced, never changed in place, so a publisher reads a stable array. */
    public volatile LocalGroup[] groups = NO_GROUPS;
    public volatile int subscribers;
    /**
     * The members of this channel on this node, of every dialect, by id: what presence lists here
     * ({@link Broker#join}, {@link Broker#leave}); a disposable {@code welcome} shows its own dialect's.
     */
    public final ConcurrentHashMap<String, RosterMember> roster = new ConcurrentHashMap<>();

    ChannelEntry(String name) {
        this.name = name;
        this.utf8Name = name.getBytes(StandardCharsets.UTF_8);
        this.quotedName = JsonStrings.quote(name);
    }

    /** The name as a JSON string literal. */
    public byte[] quotedName() {
        return quotedName;
    }

    void addGroup(LocalGroup group) {
        LocalGroup[] old = groups;
        LocalGroup[] grown = Arrays.copyOf(old, old.length + 1);
        grown[old.length] = group;
        groups = grown;
    }

    void removeGroup(LocalGroup group) {
        LocalGroup[] old = groups;
        LocalGroup[] shrunk = new LocalGroup[old.length - 1];
        for (int i = 0, j = 0; i < old.length; i++) {
            if (old[i] != group) {
                shrunk[j++] = old[i];
            }
        }
        groups = shrunk;
    }
}
