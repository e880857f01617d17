package io.switchboard.server.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.switchboard.server.SwitchboardConfig;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * What every connection of one Switchboard instance shares: its configuration, its broker, its
 * router, and the set of open connections. Thread-safe.
 */
public final class Node {

    private final SwitchboardConfig config;
    private final Broker broker = new Broker();
    private final ChannelGroup connections = new DefaultChannelGroup("switchboard", GlobalEventExecutor.INSTANCE);
    private final HandshakeRouter router;

    public Node(SwitchboardConfig config) {
        this.config = config;
        this.router = new HandshakeRouter(config, broker);
    }

    public SwitchboardConfig config() {
        return config;
    }

    /** Returns the initializer of an accepted connection's pipeline. */
    public ChannelHandler channelInitializer() {
        return new SwitchboardChannelInitializer(router, connections);
    }

    /** The number of open connections, WebSocket or not. */
    public int connectionCount() {
        return connections.size();
    }

    /**
     * Says goodbye to every connection: WebSocket sessions get close 1001 ("going away"), other
     * connections are closed. The returned future completes when all are closed, or after
     * {@code timeout}, when the stragglers are closed without waiting.
     */
    public CompletableFuture<Void> goAway(Duration timeout) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        connections.newCloseFuture().addListener(f -> done.complete(null));
        for (Channel ch : connections) {
            ch.eventLoop().execute(() -> {
                MinichatsSession session = ch.pipeline().get(MinichatsSession.class);
                if (session != null) {
                    session.goAway();
                } else {
                    ch.close();
                }
            });
        }
        GlobalEventExecutor.INSTANCE.schedule(() -> {
            if (!done.isDone()) {
                connections.close().addListener(f -> done.complete(null));
            }
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        return done;
    }
}
