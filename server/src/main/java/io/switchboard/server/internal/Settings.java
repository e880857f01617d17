package io.switchboard.server.internal;

import io.switchboard.server.SlowConsumerPolicy;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.TlsProvider;
import io.switchboard.server.Transport;

import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * Maps environment variables and command-line flags onto one {@link SwitchboardConfig.Builder}.
 * Every setting is an environment variable ({@code APP_PORT}) and the same flag in lower case
 * ({@code --app-port 3501} or {@code --app-port=3501}); a flag wins over the environment.
 */
public final class Settings {

    /**
     * One setting: its variable, the accessor that reads its value (the default is read through it
     * from the builder, never restated here), what a {@code null}, empty or machine-dependent
     * default means ({@code defaultNote}, or {@code null}), what it means, and how it applies to
     * the builder.
     */
    public record Setting(String env, String value, Function<SwitchboardConfig, ?> get, String defaultNote,
                          String description, BiConsumer<SwitchboardConfig.Builder, String> apply) {

        Setting(String env, String value, Function<SwitchboardConfig, ?> get, String description,
                BiConsumer<SwitchboardConfig.Builder, String> apply) {
            this(env, value, get, null, description, apply);
        }

        /** The flag of this setting, e.g. {@code --app-port}. */
        public String flag() {
            return "--" + env.toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** The line port of the server application; the library's builder leaves the line chat off. */
    static final int APP_LINE_PORT = 8888;

    /** The randomchat store of the server application; the library's builder leaves randomchat off. */
    static final Path APP_DATA_DIR = Path.of("data");

    /** Every setting, in the order --help lists them. */
    public static final List<Setting> ALL = List.of(
            new Setting("APP_HOST", "ADDRESS", SwitchboardConfig::host,
                    "address to bind", SwitchboardConfig.Builder::host),
            new Setting("APP_PORT", "PORT", SwitchboardConfig::port,
                    "HTTP/WebSocket port (0: any free port)", (b, v) -> b.port(parseInt(v))),
            new Setting("APP_VERSION", "TEXT", SwitchboardConfig::version, "the build's version",
                    "version this node reports", SwitchboardConfig.Builder::version),
            new Setting("APP_ENVIRONMENT", "NAME", SwitchboardConfig::environment,
                    "environment name, logged at startup", SwitchboardConfig.Builder::environment),
            new Setting("LOG_DEBUG", "BOOL", SwitchboardConfig::logDebug,
                    "log at DEBUG", (b, v) -> b.logDebug(parseBoolean(v))),
            new Setting("TRANSPORT", "auto|epoll|io_uring|nio", SwitchboardConfig::transport,
                    "socket transport (auto: epoll where it loads, else nio)", (b, v) -> b.transport(parseTransport(v))),
            new Setting("IO_THREADS", "N", SwitchboardConfig::ioThreads, "number of CPUs",
                    "event loop threads", (b, v) -> b.ioThreads(parseInt(v))),
            // TLS (issue 19)
            new Setting("TLS_CERT_FILE", "PATH", SwitchboardConfig::tlsCertFile, "plain HTTP and WebSocket",
                    "PEM certificate (then its chain) of APP_PORT, which then speaks TLS only (https://, wss://); "
                    + "re-read when it changes or on SIGHUP", (b, v) -> b.tlsCertFile(Path.of(v))),
            new Setting("TLS_KEY_FILE", "PATH", SwitchboardConfig::tlsKeyFile, "no TLS",
                    "PEM private key of TLS_CERT_FILE (PKCS#8 or PKCS#1, unencrypted)",
                    (b, v) -> b.tlsKeyFile(Path.of(v))),
            new Setting("TLS_PROVIDER", "auto|jdk|openssl", SwitchboardConfig::tlsProvider,
                    "TLS implementation (auto: OpenSSL where netty-tcnative loads, else the JDK)",
                    (b, v) -> b.tlsProvider(parseEnum(TlsProvider.class, v, "auto, jdk or openssl"))),
            new Setting("MAX_MESSAGE_BYTES", "BYTES", SwitchboardConfig::maxMessageBytes,
                    "largest WebSocket message either way (over: close 1009)",
                    (b, v) -> b.maxMessageBytes(parseInt(v))),
            new Setting("MAX_CHANNEL_NAME_BYTES", "BYTES", SwitchboardConfig::maxChannelNameBytes,
                    "longest channel name", (b, v) -> b.maxChannelNameBytes(parseInt(v))),
            new Setting("MAX_CLIENT_NAME_BYTES", "BYTES", SwitchboardConfig::maxClientNameBytes,
                    "longest client name", (b, v) -> b.maxClientNameBytes(parseInt(v))),
            new Setting("MAX_SUBSCRIPTIONS", "N", SwitchboardConfig::maxSubscriptionsPerConnection,
                    "channels one connection may subscribe to", (b, v) -> b.maxSubscriptionsPerConnection(parseInt(v))),
            new Setting("MAX_JSON_DEPTH", "N", SwitchboardConfig::maxJsonDepth,
                    "deepest JSON nesting in a request", (b, v) -> b.maxJsonDepth(parseInt(v))),
            new Setting("MAX_MESSAGE_RATE", "N", SwitchboardConfig::maxMessagesPerSecond,
                    "messages per second per connection (0: unlimited)", (b, v) -> b.maxMessagesPerSecond(parseInt(v))),
            new Setting("MAX_SUBSCRIBE_RATE", "N", SwitchboardConfig::maxSubscribesPerSecond,
                    "subscribes and unsubscribes per second per connection (0: unlimited)",
                    (b, v) -> b.maxSubscribesPerSecond(parseInt(v))),
            new Setting("SLOW_CONSUMER_POLICY", "close|drop", SwitchboardConfig::slowConsumerPolicy,
                    "a subscriber over its soft limit: closed (1008) after the soft time or at the hard limit, or its "
                    + "deliveries dropped",
                    (b, v) -> b.slowConsumerPolicy(parseEnum(SlowConsumerPolicy.class, v, "close or drop"))),
            new Setting("OUTBOUND_SOFT_LIMIT_BYTES", "BYTES", SwitchboardConfig::outboundSoftLimitBytes,
                    "bytes waiting for one connection that make it a slow consumer",
                    (b, v) -> b.outboundSoftLimitBytes(parseInt(v))),
            new Setting("OUTBOUND_SOFT_LIMIT_TIME", "DURATION", SwitchboardConfig::outboundSoftLimitTime,
                    "time a connection may stay over the soft limit (close policy)",
                    (b, v) -> b.outboundSoftLimitTime(parseDuration(v))),
            new Setting("OUTBOUND_HARD_LIMIT_BYTES", "BYTES", SwitchboardConfig::outboundHardLimitBytes,
                    "bytes waiting for one connection that close it at once (close policy)",
                    (b, v) -> b.outboundHardLimitBytes(parseLong(v))),
            new Setting("COMPRESSION", "BOOL", SwitchboardConfig::compression,
                    "permessage-deflate for WebSocket clients that offer it (compressed once per publish)",
                    (b, v) -> b.compression(parseBoolean(v))),
            new Setting("COMPRESSION_MIN_BYTES", "BYTES", SwitchboardConfig::compressionMinBytes,
                    "shorter messages go uncompressed", (b, v) -> b.compressionMinBytes(parseInt(v))),
            new Setting("COMPRESSION_LEVEL", "1-9", SwitchboardConfig::compressionLevel,
                    "deflate level (1: fastest, 9: smallest)", (b, v) -> b.compressionLevel(parseInt(v))),
            new Setting("CORK_FRAMES", "BOOL", SwitchboardConfig::corkFrames,
                    "one write per connection per fan-out batch (frames copied into one buffer)",
                    (b, v) -> b.corkFrames(parseBoolean(v))),
            new Setting("API_KEY", "KEY", SwitchboardConfig::apiKey, "the HTTP API is off",
                    "key of POST /api/publish and GET /api/channels (Authorization: Bearer KEY; at least 16 "
                    + "characters)", SwitchboardConfig.Builder::apiKey),
            new Setting("ACCEPTED_ORIGIN", "ORIGIN[,ORIGIN...]", SwitchboardConfig::acceptedOrigins, "any origin",
                    "browser origins allowed to connect (another Origin: 403; no Origin header: allowed, except at "
                    + "the disposable /ws)", (b, v) -> b.acceptedOrigins(List.of(v.split(",")))),
            new Setting("MAX_CONNECTIONS", "N", SwitchboardConfig::maxConnections,
                    "WebSocket connections at once (over: 503, Retry-After)", (b, v) -> b.maxConnections(parseInt(v))),
            new Setting("MAX_CONNECTIONS_PER_ADDRESS", "N", SwitchboardConfig::maxConnectionsPerAddress,
                    "WebSocket connections per remote address (over: 429; 0: no limit)",
                    (b, v) -> b.maxConnectionsPerAddress(parseInt(v))),
            new Setting("PING_INTERVAL", "DURATION", SwitchboardConfig::pingInterval,
                    "how often WebSocket clients are pinged (0: never)",
                    (b, v) -> b.pingInterval(v.equals("0") ? Duration.ZERO : parseDuration(v))),
            new Setting("PING_TIMEOUT", "DURATION", SwitchboardConfig::pingTimeout,
                    "a client silent this long after a ping is closed (1001)",
                    (b, v) -> b.pingTimeout(parseDuration(v))),
            new Setting("HANDSHAKE_TIMEOUT", "DURATION", SwitchboardConfig::handshakeTimeout,
                    "time a new connection has to complete an HTTP request or its WebSocket upgrade (slowloris)",
                    (b, v) -> b.handshakeTimeout(parseDuration(v))),
            new Setting("DRAIN_WINDOW", "DURATION", SwitchboardConfig::drainWindow,
                    "on stop, close 1001s are spread over this (0: all at once)",
                    (b, v) -> b.drainWindow(v.equals("0") ? Duration.ZERO : parseDuration(v))),
            new Setting("SHUTDOWN_TIMEOUT", "DURATION", SwitchboardConfig::shutdownTimeout,
                    "time clients get to leave on stop, after the drain window",
                    (b, v) -> b.shutdownTimeout(parseDuration(v))),
            new Setting("REDIS_ENDPOINT", "HOST:PORT|URI", SwitchboardConfig::redisEndpoint, "a single node",
                    "Redis that joins nodes into a cluster (host:port, redis://... or rediss://...)",
                    SwitchboardConfig.Builder::redisEndpoint),
            new Setting("REDIS_SECRET", "PASSWORD", SwitchboardConfig::redisSecret,
                    "Redis password", SwitchboardConfig.Builder::redisSecret),
            new Setting("REDIS_KEY_PREFIX", "TEXT", SwitchboardConfig::redisKeyPrefix,
                    "prefix of the cluster's Redis keys and channels", SwitchboardConfig.Builder::redisKeyPrefix),
            new Setting("CLUSTER_NODE_TIMEOUT", "DURATION", SwitchboardConfig::clusterNodeTimeout,
                    "a node silent this long (died without cleaning up) stops being counted",
                    (b, v) -> b.clusterNodeTimeout(parseDuration(v))),
            // History and recovery (issue 18)
            new Setting("HISTORY_SIZE", "N", SwitchboardConfig::historySize,
                    "publishes each channel keeps for history and recovery; 0 turns history off",
                    (b, v) -> b.historySize(parseInt(v))),
            new Setting("HISTORY_TTL", "DURATION", SwitchboardConfig::historyTtl,
                    "how long a channel's history outlives its last publish",
                    (b, v) -> b.historyTtl(parseDuration(v))),
            new Setting("RECOVERY_MAX", "N", SwitchboardConfig::recoveryMax,
                    "most publishes one recover replays; a client that missed more gets recovered:false",
                    (b, v) -> b.recoveryMax(parseInt(v))),
            new Setting("HISTORY_MAX_BYTES", "BYTES", SwitchboardConfig::historyMaxBytes,
                    "most content bytes the node keeps in history over all channels; the oldest go first",
                    (b, v) -> b.historyMaxBytes(parseLong(v))),
            // Token auth (issue 19)
            new Setting("JWT_HMAC_SECRET", "SECRET", SwitchboardConfig::jwtHmacSecret, "no HMAC tokens",
                    "shared secret of HS256/384/512 tokens (at least 32 bytes); any JWT_* key turns token auth on",
                    SwitchboardConfig.Builder::jwtHmacSecret),
            new Setting("JWT_PUBLIC_KEY_FILE", "PATH", SwitchboardConfig::jwtPublicKeyFile, "no public key",
                    "PEM public key (or certificate) of RS*, PS*, ES* or EdDSA tokens",
                    (b, v) -> b.jwtPublicKeyFile(Path.of(v))),
            new Setting("JWT_JWKS_FILE", "PATH", SwitchboardConfig::jwtJwksFile, "no JWK set",
                    "JWK set file (a token's kid picks the key; re-read when it changes)",
                    (b, v) -> b.jwtJwksFile(Path.of(v))),
            new Setting("JWT_AUDIENCE", "TEXT", SwitchboardConfig::jwtAudience, "not checked",
                    "audience a token's aud must include", SwitchboardConfig.Builder::jwtAudience),
            new Setting("JWT_ISSUER", "TEXT", SwitchboardConfig::jwtIssuer, "not checked",
                    "issuer a token's iss must be", SwitchboardConfig.Builder::jwtIssuer),
            new Setting("JWT_COOKIE", "NAME", SwitchboardConfig::jwtCookie, "no cookie",
                    "cookie that may carry the token (besides ?token= and Authorization: Bearer)",
                    SwitchboardConfig.Builder::jwtCookie),
            new Setting("JWT_LEEWAY", "DURATION", SwitchboardConfig::jwtLeeway,
                    "clock skew allowed on exp and nbf (a connection ends this long after exp)",
                    (b, v) -> b.jwtLeeway(v.equals("0") ? Duration.ZERO : parseDuration(v))),
            new Setting("LINE_PORT", "PORT", SwitchboardConfig::linePort,
                    "TCP port of the line chat (telnet, nc; 0: off)", (b, v) -> b.linePort(parseInt(v))),
            new Setting("LINE_MAX_CLIENTS", "N", SwitchboardConfig::lineMaxClients,
                    "line clients at once (over: told the chat is full)", (b, v) -> b.lineMaxClients(parseInt(v))),
            new Setting("LINE_ALLOW_SHUTDOWN", "BOOL", SwitchboardConfig::lineAllowShutdown,
                    "whether a line client's SHUTDOWN ends the line chat",
                    (b, v) -> b.lineAllowShutdown(parseBoolean(v))),
            new Setting("LINE_CHANNEL", "NAME", SwitchboardConfig::lineChannel,
                    "channel of the shared namespace the line chat is", SwitchboardConfig.Builder::lineChannel),
            new Setting("CHATROOM_MAX_TOPICS", "N", SwitchboardConfig::chatroomMaxTopics,
                    "chatroom topics kept (a subscribe creating one more is refused)",
                    (b, v) -> b.chatroomMaxTopics(parseInt(v))),
            new Setting("CHATROOM_MAX_VALUE_BYTES", "BYTES", SwitchboardConfig::chatroomMaxValueBytes,
                    "largest chatroom topic value, as JSON", (b, v) -> b.chatroomMaxValueBytes(parseInt(v))),
            new Setting("CHATROOM_REQUEST_TIMEOUT", "DURATION", SwitchboardConfig::chatroomRequestTimeout,
                    "how long a chatroom request waits for its response",
                    (b, v) -> b.chatroomRequestTimeout(parseDuration(v))),
            new Setting("CHATROOM_MAX_PENDING_REQUESTS", "N", SwitchboardConfig::chatroomMaxPendingRequests,
                    "chatroom requests one client may have waiting",
                    (b, v) -> b.chatroomMaxPendingRequests(parseInt(v))),
            new Setting("CHATROOM_TOPIC_IDLE_TIMEOUT", "DURATION", SwitchboardConfig::chatroomTopicIdleTimeout,
                    "a chatroom topic without subscribers this long is dropped with its value",
                    (b, v) -> b.chatroomTopicIdleTimeout(parseDuration(v))),
            new Setting("CHATROOM_MAX_MEMORY_BYTES", "BYTES", SwitchboardConfig::chatroomMaxMemoryBytes,
                    "estimated heap all chatroom topic values of a node may take (a change past it is rejected)",
                    (b, v) -> b.chatroomMaxMemoryBytes(parseLong(v))),
            new Setting("DEBUG", "BOOL", SwitchboardConfig::debug,
                    "serve the chatroom inspection page on DEBUG_PORT", (b, v) -> b.debug(parseBoolean(v))),
            new Setting("DEBUG_PORT", "PORT", SwitchboardConfig::debugPort,
                    "port of the inspection page (0: any free port)", (b, v) -> b.debugPort(parseInt(v))),
            new Setting("DEBUG_HOST", "ADDRESS", SwitchboardConfig::debugHost,
                    "address the inspection page binds", SwitchboardConfig.Builder::debugHost),
            new Setting("DEBUG_ALLOWED_HOSTS", "HOST[:PORT][,HOST...]", SwitchboardConfig::debugAllowedHosts,
                    "its own address only",
                    "Host headers the inspection page answers besides its own address (others: 403)",
                    (b, v) -> b.debugAllowedHosts(List.of(v.split(",")))),
            new Setting("DATA_DIR", "PATH", SwitchboardConfig::dataDir,
                    "directory of the randomchat store on a single node (a cluster keeps randomchat in Redis)",
                    (b, v) -> b.dataDir(Path.of(v))),
            new Setting("RANDOMCHAT_OPEN_LOGIN", "BOOL", SwitchboardConfig::randomchatOpenLogin,
                    "randomchat: log in with a phone alone, without its token (the seed's behaviour; trusted networks "
                    + "only)", (b, v) -> b.randomchatOpenLogin(parseBoolean(v))),
            new Setting("RANDOMCHAT_MAX_PENDING", "N", SwitchboardConfig::randomchatMaxPending,
                    "randomchat: messages kept per offline user (over: the oldest are dropped)",
                    (b, v) -> b.randomchatMaxPending(parseInt(v))),
            new Setting("RANDOMCHAT_PENDING_TTL", "DURATION", SwitchboardConfig::randomchatPendingTtl,
                    "randomchat: how long a message waits for an offline user",
                    (b, v) -> b.randomchatPendingTtl(parseDuration(v))),
            new Setting("RANDOMCHAT_MAX_MEMBERS", "N", SwitchboardConfig::randomchatMaxMembers,
                    "randomchat: members of one chat", (b, v) -> b.randomchatMaxMembers(parseInt(v))),
            new Setting("RANDOMCHAT_MAX_CHATS_PER_USER", "N", SwitchboardConfig::randomchatMaxChatsPerUser,
                    "randomchat: chats one user owns (creates)", (b, v) -> b.randomchatMaxChatsPerUser(parseInt(v))),
            new Setting("RANDOMCHAT_MAX_ADDED_CHATS_PER_USER", "N", SwitchboardConfig::randomchatMaxAddedChatsPerUser,
                    "randomchat: chats of others one user was added to",
                    (b, v) -> b.randomchatMaxAddedChatsPerUser(parseInt(v))),
            new Setting("RANDOMCHAT_MAX_TEXT_BYTES", "BYTES", SwitchboardConfig::randomchatMaxTextBytes,
                    "randomchat: longest message text", (b, v) -> b.randomchatMaxTextBytes(parseInt(v))));

    private Settings() {
    }

    /**
     * Builds the configuration from {@code env} and then {@code args}.
     *
     * @throws IllegalArgumentException with a message for the user when a flag is unknown or a
     *                                  value is malformed or out of range
     */
    public static SwitchboardConfig load(Map<String, String> env, String[] args) {
        SwitchboardConfig.Builder builder = appBuilder();
        java.util.Set<String> given = new java.util.HashSet<>();
        for (Setting s : ALL) {
            String value = env.get(s.env());
            if (value != null && !value.isEmpty()) {
                apply(builder, s, value, s.env() + "=" + (isSecret(s) ? "..." : value));
                given.add(s.env());
            }
        }
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String flag = arg;
            String value = null;
            int eq = arg.indexOf('=');
            if (eq > 0) {
                flag = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            }
            Setting s = byFlag(flag);
            if (s == null) {
                throw new IllegalArgumentException("unknown option '" + arg + "'");
            }
            if (value == null) {
                if (i + 1 == args.length) {
                    throw new IllegalArgumentException("option " + flag + " needs a value (" + s.value() + ")");
                }
                value = args[++i];
            }
            apply(builder, s, value, eq > 0 ? arg : flag + " " + value);
            given.add(s.env());
        }
        if (!given.contains("LINE_PORT") && (given.contains("JWT_HMAC_SECRET")
                || given.contains("JWT_PUBLIC_KEY_FILE") || given.contains("JWT_JWKS_FILE"))) {
            // Line clients cannot present a token: with token auth on, the application's line chat
            // is off unless LINE_PORT asks for it (which the builder then refuses, saying why).
            builder.linePort(0);
        }
        return builder.build();
    }

    /** The settings as --help prints them. */
    public static String usage() {
        StringBuilder out = new StringBuilder();
        out.append("Usage: java -jar switchboard.jar [--help] [--version] [OPTION VALUE]...\n\n")
                .append("Every option is also an environment variable; an option wins over its variable.\n")
                .append("Durations: 500ms, 10s, 2m, 1h, 30d, or ISO-8601 (PT10S). Booleans: true or false.\n\n");
        SwitchboardConfig defaults = defaults();
        for (Setting s : ALL) {
            String left = String.format("  %s %s", s.flag(), s.value());
            out.append(String.format("%-40s %s [%s, default %s]%n", left, s.description(), s.env(),
                    defaultText(s, defaults)));
        }
        return out.toString();
    }

    /**
     * The server application's defaults: the library builder's own, except that the application
     * turns on the line chat and the randomchat store ({@link #APP_LINE_PORT}, {@link #APP_DATA_DIR}).
     */
    static SwitchboardConfig defaults() {
        return appBuilder().build();
    }

    private static SwitchboardConfig.Builder appBuilder() {
        return SwitchboardConfig.builder().linePort(APP_LINE_PORT).dataDir(APP_DATA_DIR);
    }

    /** The default of {@code s} as --help prints it: its value, and what it means where it needs saying. */
    static String defaultText(Setting s, SwitchboardConfig defaults) {
        Object v = s.get().apply(defaults);
        String text = format(v);
        if (s.defaultNote() == null) {
            return text;
        }
        return isNone(v) ? text + ": " + s.defaultNote() : text + " (" + s.defaultNote() + ")";
    }

    /**
     * A setting's value written the way a user writes it (and README's table does): {@code none} for
     * {@code null} or empty, durations as {@code 10s} or {@code 30d}, enums in lower case,
     * relative paths as {@code ./data}, lists comma-separated.
     */
    static String format(Object v) {
        if (isNone(v)) {
            return "none";
        }
        if (v instanceof Duration d) {
            return formatDuration(d);
        }
        if (v instanceof Enum<?> e) {
            return e.name().toLowerCase(Locale.ROOT);
        }
        if (v instanceof Path p) {
            return p.isAbsolute() || p.startsWith(".") || p.startsWith("..") ? p.toString() : "./" + p;
        }
        if (v instanceof Collection<?> c) {
            return String.join(",", c.stream().map(String::valueOf).toList());
        }
        return String.valueOf(v);
    }

    private static boolean isNone(Object v) {
        return v == null || v instanceof Collection<?> c && c.isEmpty();
    }

    /** Whole days as {@code 30d}, else whole seconds as {@code 60s}, else milliseconds; anything finer in ISO-8601. */
    static String formatDuration(Duration d) {
        long seconds = d.getSeconds();
        int nanos = d.getNano();
        if (nanos == 0) {
            return seconds != 0 && seconds % 86_400 == 0 ? seconds / 86_400 + "d" : seconds + "s";
        }
        if (nanos % 1_000_000 == 0 && seconds < Long.MAX_VALUE / 1000 && !d.isNegative()) {
            return d.toMillis() + "ms";
        }
        return d.toString();
    }

    private static boolean isSecret(Setting s) {
        return s.env().equals("API_KEY") || s.env().equals("REDIS_SECRET") || s.env().equals("JWT_HMAC_SECRET");
    }

    private static Setting byFlag(String flag) {
        for (Setting s : ALL) {
            if (s.flag().equals(flag)) {
                return s;
            }
        }
        return null;
    }

    private static void apply(SwitchboardConfig.Builder builder, Setting s, String value, String source) {
        try {
            s.apply().accept(builder, value.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    static int parseInt(String v) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + v + "' is not a whole number");
        }
    }

    static boolean parseBoolean(String v) {
        switch (v.toLowerCase(Locale.ROOT)) {
            case "true":
            case "1":
            case "yes":
                return true;
            case "false":
            case "0":
            case "no":
                return false;
            default:
                throw new IllegalArgumentException("'" + v + "' is not a boolean (expected: true or false)");
        }
    }

    static Transport parseTransport(String v) {
        return parseEnum(Transport.class, v, "auto, epoll, io_uring or nio");
    }

    static <E extends Enum<E>> E parseEnum(Class<E> type, String v, String expected) {
        try {
            return Enum.valueOf(type, v.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + v + "' is not a " + type.getSimpleName().replaceAll(
                    "([a-z])([A-Z])", "$1 $2").toLowerCase(Locale.ROOT) + " (expected: " + expected + ")");
        }
    }

    static long parseLong(String v) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + v + "' is not a whole number");
        }
    }

    static Duration parseDuration(String v) {
        String s = v.toLowerCase(Locale.ROOT);
        try {
            if (s.startsWith("p")) {
                return Duration.parse(v);
            }
            if (s.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
            }
            if (s.endsWith("s")) {
                return Duration.ofSeconds(Long.parseLong(s.substring(0, s.length() - 1)));
            }
            if (s.endsWith("m")) {
                return Duration.ofMinutes(Long.parseLong(s.substring(0, s.length() - 1)));
            }
            if (s.endsWith("h")) {
                return Duration.ofHours(Long.parseLong(s.substring(0, s.length() - 1)));
            }
            if (s.endsWith("d")) {
                return Duration.ofDays(Long.parseLong(s.substring(0, s.length() - 1)));
            }
        } catch (NumberFormatException | DateTimeParseException e) {
            // fall through to the message below
        }
        throw new IllegalArgumentException("'" + v + "' is not a duration (expected: e.g. 500ms, 10s, 2m)");
    }
}
