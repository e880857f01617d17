package io.switchboard.server.internal.broker;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * A dialect as the broker knows it: a code, whether its clients get their own events back, and how
 * it renders a {@link ChannelEvent} for its subscribers. The broker renders an event once per
 * dialect present in a channel and writes the same bytes to every subscriber of that dialect (a
 * complete WebSocket frame, or a line of text); it knows no dialect by name. Each dialect's package
 * declares its instance; the node registers them all in its {@link Dialects}.
 *
 * <p>The code is explicit, and is what a cluster envelope carries: it must never change for a
 * dialect, so that nodes of different builds agree. Immutable.
 */
public final class Dialect {

    /** The largest code a dialect may have. */
    public static final int MAX_CODE = 15;

    /** Renders an event for one dialect's subscribers of a channel. */
    @FunctionalInterface
    public interface Renderer {
        /**
         * Returns {@code event} as the dialect's subscribers of {@code channel} receive it, or
         * {@code null} when they do not see it. The caller must release the returned buffer.
         */
        ByteBuf render(ByteBufAllocator alloc, ChannelEntry channel, ChannelEvent event);
    }

    private final int code;
    private final String name;
    private final boolean echo;
    private final Renderer renderer;

    /**
     * @param code     0 to {@link #MAX_CODE}, unique among the node's dialects, never reused
     * @param echo     whether an event reaches its author (a line client does not get its own lines)
     * @param renderer how the dialect's channel subscribers see events; {@code null} for a dialect
     *                 whose connections subscribe to no channel (they still write through the broker)
     */
    public Dialect(int code, String name, boolean echo, Renderer renderer) {
        if (code < 0 || code > MAX_CODE) {
            throw new IllegalArgumentException("code: " + code + " (expected: 0 to " + MAX_CODE + ")");
        }
        this.code = code;
        this.name = name;
        this.echo = echo;
        this.renderer = renderer;
    }

    public int code() {
        return code;
    }

    public String name() {
        return name;
    }

    /** Whether an event reaches its author. */
    public boolean echo() {
        return echo;
    }

    /**
     * Returns {@code event} as this dialect's subscribers of {@code channel} receive it, or
     * {@code null} when they do not see it. The caller must release the returned buffer.
     */
    ByteBuf render(ByteBufAllocator alloc, ChannelEntry channel, ChannelEvent event) {
        if (renderer == null) {
            throw new IllegalStateException(name + " connections subscribe to no channel");
        }
        return renderer.render(alloc, channel, event);
    }

    @Override
    public String toString() {
        return name;
    }
}
