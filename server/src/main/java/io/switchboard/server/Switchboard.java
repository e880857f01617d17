package io.switchboard.server;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.minichats.ApiPublish;
import io.switchboard.protocol.minichats.MinichatsException;
import io.switchboard.server.internal.Node;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A Switchboard broker for a hosting application: publish to channels, list them, and mount the
 * WebSocket endpoint into the application's own Netty pipeline.
 *
 * <pre>{@code
 * Switchboard switchboard = Switchboard.builder(SwitchboardConfig.builder().build())
 *         .channelAuthorizer((op, channel, client, handshake) -> channel.startsWith("admin/") ? "admins only" : null)
 *         .build();
 * // in the application's ChannelInitializer, after HttpServerCodec (and its HttpObjectAggregator, if any):
 * pipeline.addLast("switchboard", switchboard.mount("/ws"));
 * pipeline.addLast("app", new MyHttpHandler());   // gets every request that is not an upgrade to /ws
 * // from any thread:
 * switchboard.publish("news", "backend", "{\"headline\":\"...\"}");
 * }</pre>
 *
 * <p>Thread-safe: every method may be called from any thread. Connections live on whichever event
 * loops the application's channels use; Switchboard keeps a share of each channel's subscribers
 * per loop and never blocks one. No reference-counted buffer crosses this API: content goes in as a
 * {@code String}, and Switchboard releases every buffer it makes.
 *
 * <p>With {@link SwitchboardConfig#redisEndpoint()} set, the broker joins a cluster as soon as it is
 * built (connecting in the background, and retrying while Redis is unreachable); {@link #close()}
 * leaves it. Cluster mode needs {@code io.lettuce:lettuce-core} on the class path.
 */
public final class Switchboard implements AutoCloseable {

    private final Node node;

    private Switchboard(Builder b) {
        this.node = new Node(b.config, b.connectionAuthorizer, b.channelAuthorizer);
    }

    /** Returns a broker with {@code config} and no authorization hooks. */
    public static Switchboard create(SwitchboardConfig config) {
        return builder(config).build();
    }

    /** Returns a builder for a broker with {@code config}. */
    public static Builder builder(SwitchboardConfig config) {
        return new Builder(config);
    }

    public SwitchboardConfig config() {
        return node.config();
    }

    /**
     * Returns the handler that serves Switchboard's WebSocket endpoint at {@code path} inside an
     * application's pipeline. Place it after {@code HttpServerCodec} (and after an
     * {@code HttpObjectAggregator} if the application uses one). A WebSocket upgrade request to
     * {@code path} (a query string is allowed) becomes a minichats session: the handler installs
     * the WebSocket handlers and the session behind itself and then leaves the pipeline. Every
     * other message passes through untouched. The handler is stateless and {@code @Sharable}: one
     * instance may be added to every connection's pipeline.
     *
     * @param path the exact path, e.g. {@code /ws}
     */
    public ChannelHandler mount(String path) {
        Objects.requireNonNull(path, "path");
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("path: '" + path + "' (expected: starting with /)");
        }
        return node.mount(path);
    }

    /**
     * Publishes {@code contentJson} to {@code channelName} as if a client named {@code sender} had:
     * every subscriber, of every connection, receives the usual delivery. Returns the number of
     * subscribers it was handed to (0 when the channel has none).
     *
     * @param contentJson any JSON value, relayed byte for byte (a string must be quoted: {@code "\"hi\""})
     * @throws IllegalArgumentException when a name breaks the limits, the content is not one JSON
     *                                  value, or the delivery would exceed the message size limit
     */
    public int publish(String channelName, String sender, String contentJson) {
        Objects.requireNonNull(channelName, "channelName");
        Objects.requireNonNull(sender, "sender");
        Objects.requireNonNull(contentJson, "contentJson");
        // Validate through the same decoder as an HTTP publish: names, limits, well-formed content.
        String body = "{\"channel_name\":" + new String(JsonStrings.quote(channelName), StandardCharsets.UTF_8)
                + ",\"sender\":" + new String(JsonStrings.quote(sender), StandardCharsets.UTF_8)
                + ",\"content\":" + contentJson + "}";
        ByteBuf bytes = Unpooled.wrappedBuffer(body.getBytes(StandardCharsets.UTF_8));
        try {
            ApiPublish request = node.decodeApiPublish(bytes);
            return node.publish(request.channelName(), request.sender(), request.content());
        } catch (MinichatsException e) {
            throw new IllegalArgumentException(e.detail(), e);
        } finally {
            bytes.release();
        }
    }

    /** Returns every channel with its subscriber count, ordered by name (UTF-8 bytes). */
    public List<ChannelInfo> channels() {
        List<ChannelInfo> list = new ArrayList<>();
        node.forEachChannel((name, subscribers) -> list.add(new ChannelInfo(name, subscribers)));
        return list;
    }

    /**
     * Registers this broker's meters with a Micrometer registry: connections, subscriptions,
     * channels, messages in, deliveries, slow-consumer drops, error replies by code, closes and
     * refused upgrades by reason, and in a cluster the link's state and the publishes that did not
     * reach the other nodes. Counters are read when the registry is scraped, so this costs the hot
     * path nothing. Needs {@code io.micrometer:micrometer-core} on the class path (a standalone
     * server serves the same meters at {@code GET /metrics} when Micrometer's Prometheus registry
     * is there, as in the runnable jar).
     */
    public void bindMetrics(io.micrometer.core.instrument.MeterRegistry registry) {
        Objects.requireNonNull(registry, "registry");
        node.bindMetrics(registry);
    }

    /**
     * Why this broker does not fully serve, or {@code null} when it does: in a cluster, the link to
     * Redis is down (local delivery goes on). {@code GET /health} answers 503 with this text.
     */
    public String problem() {
        return node.problem();
    }

    /**
     * Leaves the cluster, if the broker is in one: the other nodes stop counting its subscribers.
     * Close it after the connections it serves. A single node has nothing to close.
     */
    @Override
    public void close() {
        node.close().join();
    }

    /** The wiring behind this facade, for {@link SwitchboardServer}. */
    Node node() {
        return node;
    }

    /** Builds a {@link Switchboard}. Not thread-safe. */
    public static final class Builder {
        private final SwitchboardConfig config;
        private ConnectionAuthorizer connectionAuthorizer = ConnectionAuthorizer.ALLOW_ALL;
        private ChannelAuthorizer channelAuthorizer = ChannelAuthorizer.ALLOW_ALL;

        private Builder(SwitchboardConfig config) {
            this.config = Objects.requireNonNull(config, "config");
        }

        /** Decides at the handshake who may connect. Default: everyone. */
        public Builder connectionAuthorizer(ConnectionAuthorizer connectionAuthorizer) {
            this.connectionAuthorizer = Objects.requireNonNull(connectionAuthorizer, "connectionAuthorizer");
            return this;
        }

        /** Decides each subscribe and publish. Default: everything is allowed. */
        public Builder channelAuthorizer(ChannelAuthorizer channelAuthorizer) {
            this.channelAuthorizer = Objects.requireNonNull(channelAuthorizer, "channelAuthorizer");
            return this;
        }

        public Switchboard build() {
            return new Switchboard(this);
        }
    }
}
