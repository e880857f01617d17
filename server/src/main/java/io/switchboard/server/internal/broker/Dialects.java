package io.switchboard.server.internal.broker;

import java.util.List;

/** A node's dialects, by code (what a cluster envelope names). Immutable. */
public final class Dialects {

    private final Dialect[] byCode = new Dialect[Dialect.MAX_CODE + 1];
    private final List<Dialect> all;

    public Dialects(Dialect... dialects) {
        for (Dialect d : dialects) {
            if (byCode[d.code()] != null) {
                throw new IllegalArgumentException("dialects " + byCode[d.code()] + " and " + d + " share code " + d.code());
            }
            byCode[d.code()] = d;
        }
        this.all = List.of(dialects);
    }

    /** The dialect with {@code code}; throws {@link IllegalArgumentException} for a code this node does not know. */
    public Dialect byCode(int code) {
        Dialect d = code >= 0 && code < byCode.length ? byCode[code] : null;
        if (d == null) {
            throw new IllegalArgumentException("unknown dialect code " + code);
        }
        return d;
    }

    public List<Dialect> all() {
        return all;
    }
}
