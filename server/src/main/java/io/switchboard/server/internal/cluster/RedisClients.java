package io.switchboard.server.internal.cluster;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.switchboard.server.SwitchboardConfig;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** How the node's links to Redis ({@link RedisClusterLink}, {@code RedisChatroom}) connect: one place for both. */
public final class RedisClients {

    static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(5);

    private RedisClients() {
    }

    /** The Redis of {@code REDIS_ENDPOINT} ({@code host:port} or a {@code redis://} URI) with {@code REDIS_SECRET}. */
    public static RedisURI uri(SwitchboardConfig config) {
        String e = config.redisEndpoint();
        RedisURI parsed = RedisURI.create(e.startsWith("redis://") || e.startsWith("rediss://") ? e : "redis://" + e);
        RedisURI.Builder b = RedisURI.builder(parsed).withTimeout(COMMAND_TIMEOUT);
        if (config.redisSecret() != null) {
            b.withPassword(config.redisSecret().toCharArray());
        }
        return b.build();
    }

    /** Lettuce's threads for a link of two connections: 2 is its least (its default grows with the cores). */
    public static ClientResources resources() {
        return ClientResources.builder()
                .ioThreadPoolSize(2)
                .computationThreadPoolSize(2)
                .reconnectDelay(Delay.exponential(Duration.ofMillis(100), Duration.ofSeconds(2), 2, TimeUnit.MILLISECONDS))
                .build();
    }

    /**
     * Options of a connection that never queues while disconnected (a command either reaches Redis now or
     * fails) and times out after {@link #COMMAND_TIMEOUT}.
     */
    public static ClientOptions.Builder options(int requestQueueSize) {
        return ClientOptions.builder()
                .autoReconnect(true)
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .requestQueueSize(requestQueueSize)
                .timeoutOptions(TimeoutOptions.enabled(COMMAND_TIMEOUT))
                .socketOptions(SocketOptions.builder().connectTimeout(COMMAND_TIMEOUT).keepAlive(true).build());
    }
}
