package io.switchboard.server;

import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.Names;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The immutable configuration of a Switchboard node. Build one with {@link #builder()}; derive a
 * changed copy with {@link #toBuilder()}. Every setting has a default (given on its builder
 * method) and is validated when set. Instances are thread-safe.
 *
 * <p>Settings appear here, on the builder and in README's configuration table in one order, by
 * section: the node, requests and messages, slow consumers, access and connections, stopping, the
 * cluster, then each dialect.
 */
public final class SwitchboardConfig {

    /** The version reported when {@code APP_VERSION} is not set: the jar's, or {@code dev}. */
    public static final String BUILD_VERSION = buildVersion();

    private final String host;
    private final int port;
    private final String version;
    private final String environment;
    private final boolean logDebug;
    private final Transport transport;
    private final int ioThreads;
    // TLS (issue 19)
    private final Path tlsCertFile;
    private final Path tlsKeyFile;
    private final TlsProvider tlsProvider;
    private final int maxMessageBytes;
    private final int maxChannelNameBytes;
    private final int maxClientNameBytes;
    private final int maxSubscriptionsPerConnection;
    private final int maxJsonDepth;
    private final int maxMessagesPerSecond;
    private final int maxSubscribesPerSecond;
    private final SlowConsumerPolicy slowConsumerPolicy;
    private final int outboundSoftLimitBytes;
    private final Duration outboundSoftLimitTime;
    private final long outboundHardLimitBytes;
    // permessage-deflate (issue 19)
    private final boolean compression;
    private final int compressionMinBytes;
    private final int compressionLevel;
    private final boolean corkFrames;
    private final String apiKey;
    private final List<String> acceptedOrigins;
    private final int maxConnections;
    private final int maxConnectionsPerAddress;
    private final Duration pingInterval;
    private final Duration pingTimeout;
    private final Duration handshakeTimeout;
    private final Duration drainWindow;
    private final Duration shutdownTimeout;
    private final String redisEndpoint;
    private final String redisSecret;
    private final String redisKeyPrefix;
    private final Duration clusterNodeTimeout;
    private final int historySize;
    private final Duration historyTtl;
    private final int recoveryMax;
    private final long historyMaxBytes;
    private final int linePort;
    private final boolean lineEnabled;
    private final int lineMaxClients;
    private final boolean lineAllowShutdown;
    private final String lineChannel;
    private final int chatroomMaxTopics;
    private final int chatroomMaxValueBytes;
    private final Duration chatroomRequestTimeout;
    private final int chatroomMaxPendingRequests;
    private final Duration chatroomTopicIdleTimeout;
    private final long chatroomMaxMemoryBytes;
    private final boolean debug;
    private final int debugPort;
    private final String debugHost;
    private final List<String> debugAllowedHosts;
    // Token auth (issue 19)
    private final String jwtHmacSecret;
    private final Path jwtPublicKeyFile;
    private final Path jwtJwksFile;
    private final String jwtAudience;
    private final String jwtIssuer;
    private final String jwtCookie;
    private final Duration jwtLeeway;
    private final Path dataDir;
    private final boolean randomchatOpenLogin;
    private final int randomchatMaxPending;
    private final Duration randomchatPendingTtl;
    private final int randomchatMaxMembers;
    private final int randomchatMaxChatsPerUser;
    private final int randomchatMaxAddedChatsPerUser;
    private final int randomchatMaxTextBytes;

    private SwitchboardConfig(Builder b) {
        host = b.host;
        port = b.port;
        version = b.version;
        environment = b.environment;
        logDebug = b.logDebug;
        transport = b.transport;
        ioThreads = b.ioThreads;
        tlsCertFile = b.tlsCertFile;
        tlsKeyFile = b.tlsKeyFile;
        tlsProvider = b.tlsProvider;
        maxMessageBytes = b.maxMessageBytes;
        maxChannelNameBytes = b.maxChannelNameBytes;
        maxClientNameBytes = b.maxClientNameBytes;
        maxSubscriptionsPerConnection = b.maxSubscriptionsPerConnection;
        maxJsonDepth = b.maxJsonDepth;
        maxMessagesPerSecond = b.maxMessagesPerSecond;
        maxSubscribesPerSecond = b.maxSubscribesPerSecond;
        slowConsumerPolicy = b.slowConsumerPolicy;
        outboundSoftLimitBytes = b.outboundSoftLimitBytes;
        outboundSoftLimitTime = b.outboundSoftLimitTime;
        outboundHardLimitBytes = b.outboundHardLimitBytes;
        compression = b.compression;
        compressionMinBytes = b.compressionMinBytes;
        compressionLevel = b.compressionLevel;
        corkFrames = b.corkFrames;
        apiKey = b.apiKey;
        acceptedOrigins = b.acceptedOrigins;
        maxConnections = b.maxConnections;
        maxConnectionsPerAddress = b.maxConnectionsPerAddress;
        pingInterval = b.pingInterval;
        pingTimeout = b.pingTimeout;
        handshakeTimeout = b.handshakeTimeout;
        drainWindow = b.drainWindow;
        shutdownTimeout = b.shutdownTimeout;
        redisEndpoint = b.redisEndpoint;
        redisSecret = b.redisSecret;
        redisKeyPrefix = b.redisKeyPrefix;
        clusterNodeTimeout = b.clusterNodeTimeout;
        historySize = b.historySize;
        historyTtl = b.historyTtl;
        recoveryMax = b.recoveryMax;
        historyMaxBytes = b.historyMaxBytes;
        linePort = b.linePort;
        lineEnabled = b.lineEnabled;
        lineMaxClients = b.lineMaxClients;
        lineAllowShutdown = b.lineAllowShutdown;
        lineChannel = b.lineChannel;
        chatroomMaxTopics = b.chatroomMaxTopics;
        chatroomMaxValueBytes = b.chatroomMaxValueBytes;
        chatroomRequestTimeout = b.chatroomRequestTimeout;
        chatroomMaxPendingRequests = b.chatroomMaxPendingRequests;
        chatroomTopicIdleTimeout = b.chatroomTopicIdleTimeout;
        chatroomMaxMemoryBytes = b.chatroomMaxMemoryBytes;
        debug = b.debug;
        debugPort = b.debugPort;
        debugHost = b.debugHost;
        debugAllowedHosts = b.debugAllowedHosts;
        jwtHmacSecret = b.jwtHmacSecret;
        jwtPublicKeyFile = b.jwtPublicKeyFile;
        jwtJwksFile = b.jwtJwksFile;
        jwtAudience = b.jwtAudience;
        jwtIssuer = b.jwtIssuer;
        jwtCookie = b.jwtCookie;
        jwtLeeway = b.jwtLeeway;
        dataDir = b.dataDir;
        randomchatOpenLogin = b.randomchatOpenLogin;
        randomchatMaxPending = b.randomchatMaxPending;
        randomchatPendingTtl = b.randomchatPendingTtl;
        randomchatMaxMembers = b.randomchatMaxMembers;
        randomchatMaxChatsPerUser = b.randomchatMaxChatsPerUser;
        randomchatMaxAddedChatsPerUser = b.randomchatMaxAddedChatsPerUser;
        randomchatMaxTextBytes = b.randomchatMaxTextBytes;
    }

    /** Returns a builder holding every default. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns a builder holding this configuration's values. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    /** The address to bind ({@code APP_HOST}). */
    public String host() {
        return host;
    }

    /** The port to bind ({@code APP_PORT}); 0 binds an ephemeral port. */
    public int port() {
        return port;
    }

    /** The version this node reports ({@code APP_VERSION}). */
    public String version() {
        return version;
    }

    /** The deployment environment's name, reported at startup ({@code APP_ENVIRONMENT}). */
    public String environment() {
        return environment;
    }

    /** Whether the runnable app logs at DEBUG ({@code LOG_DEBUG}). */
    public boolean logDebug() {
        return logDebug;
    }

    /**
     * The socket transport ({@code TRANSPORT}) of the WebSocket port, the line chat's and the
     * inspection page's; ignored when the server is lent an event-loop group.
     */
    public Transport transport() {
        return transport;
    }

    /** The number of event loops of a server that owns them ({@code IO_THREADS}). */
    public int ioThreads() {
        return ioThreads;
    }

    /**
     * The PEM file of the certificate the WebSocket port serves ({@code TLS_CERT_FILE}), followed by
     * its chain if any; {@code null}, the default, serves plain HTTP and WebSocket. Set together with
     * {@link #tlsKeyFile()}: the port then speaks TLS only ({@code https://}, {@code wss://}). The line
     * chat's port and the inspection page stay plain TCP. The files are read at start and again
     * whenever they change (checked every 2 seconds) or {@link SwitchboardServer#reloadTls()} is
     * called; a change applies to new connections, open ones keep theirs.
     */
    public Path tlsCertFile() {
        return tlsCertFile;
    }

    /**
     * The PEM file of the private key of {@link #tlsCertFile()} ({@code TLS_KEY_FILE}): PKCS#8
     * ({@code BEGIN PRIVATE KEY}: RSA, EC or Ed25519) or PKCS#1 ({@code BEGIN RSA PRIVATE KEY}),
     * not encrypted. {@code null}, the default: no TLS.
     */
    public Path tlsKeyFile() {
        return tlsKeyFile;
    }

    /**
     * Whose TLS implementation serves the port ({@code TLS_PROVIDER}): the JDK's, OpenSSL's (BoringSSL
     * through {@code io.netty:netty-tcnative-boringssl-static}), or {@link TlsProvider#AUTO}, the
     * default: OpenSSL where it loads, the JDK otherwise.
     */
    public TlsProvider tlsProvider() {
        return tlsProvider;
    }

    /**
     * The largest WebSocket message, in bytes, in either direction ({@code MAX_MESSAGE_BYTES}).
     * A larger inbound message closes the connection with 1009; a publish whose delivery would be
     * larger is refused with {@code message_too_large}.
     */
    public int maxMessageBytes() {
        return maxMessageBytes;
    }

    /** The longest channel name, in UTF-8 bytes ({@code MAX_CHANNEL_NAME_BYTES}). */
    public int maxChannelNameBytes() {
        return maxChannelNameBytes;
    }

    /** The longest client name, in UTF-8 bytes ({@code MAX_CLIENT_NAME_BYTES}). */
    public int maxClientNameBytes() {
        return maxClientNameBytes;
    }

    /** The most channels one connection may subscribe to at once ({@code MAX_SUBSCRIPTIONS}). */
    public int maxSubscriptionsPerConnection() {
        return maxSubscriptionsPerConnection;
    }

    /** The deepest JSON nesting accepted in a request ({@code MAX_JSON_DEPTH}). */
    public int maxJsonDepth() {
        return maxJsonDepth;
    }

    /**
     * The most messages a connection may send per second, as a token bucket holding one second's
     * worth ({@code MAX_MESSAGE_RATE}); 0 means unlimited. A message over the rate is answered with
     * {@code rate_limited}; a full second's worth of refused messages in a row closes the
     * connection with 1008.
     */
    public int maxMessagesPerSecond() {
        return maxMessagesPerSecond;
    }

    /**
     * The most subscribes and unsubscribes a connection may send per second, a token bucket holding
     * one second's worth ({@code MAX_SUBSCRIBE_RATE}); 0 means unlimited. They cost more than other
     * requests (a shared lock, and Redis traffic in a cluster). Over it: {@code rate_limited}; a full
     * second's worth refused in a row closes the connection with 1008.
     */
    public int maxSubscribesPerSecond() {
        return maxSubscribesPerSecond;
    }

    /** What happens to a subscriber that does not keep up ({@code SLOW_CONSUMER_POLICY}). */
    public SlowConsumerPolicy slowConsumerPolicy() {
        return slowConsumerPolicy;
    }

    /**
     * Bytes waiting to be written to one connection above which it is a slow consumer: Netty's
     * write-buffer high-water mark (the low mark is half of it) ({@code OUTBOUND_SOFT_LIMIT_BYTES}).
     */
    public int outboundSoftLimitBytes() {
        return outboundSoftLimitBytes;
    }

    /**
     * How long a connection may stay over the soft limit before the {@code close} policy closes it
     * ({@code OUTBOUND_SOFT_LIMIT_TIME}).
     */
    public Duration outboundSoftLimitTime() {
        return outboundSoftLimitTime;
    }

    /**
     * Bytes waiting for one connection at which the {@code close} policy closes it at once
     * ({@code OUTBOUND_HARD_LIMIT_BYTES}).
     */
    public long outboundHardLimitBytes() {
        return outboundHardLimitBytes;
    }

    /**
     * Whether WebSocket clients that offer permessage-deflate (RFC 7692) get it ({@code COMPRESSION}).
     * The node answers with {@code server_no_context_takeover} and {@code client_no_context_takeover},
     * so a delivery is compressed once per publish and dialect, and the same bytes go to every
     * subscriber that negotiated it. Default false, as Centrifugo and NATS.
     */
    public boolean compression() {
        return compression;
    }

    /**
     * Messages shorter than this many bytes go uncompressed even to a client that negotiated
     * permessage-deflate ({@code COMPRESSION_MIN_BYTES}); so does one that deflate would not make
     * shorter. Default 256.
     */
    public int compressionMinBytes() {
        return compressionMinBytes;
    }

    /** The deflate level, 1 (fastest) to 9 (smallest) ({@code COMPRESSION_LEVEL}). Default 6, zlib's. */
    public int compressionLevel() {
        return compressionLevel;
    }

    /**
     * Whether the fan-out corks every connection's deliveries ({@code CORK_FRAMES}, issue
     * 17): the frames written to a connection in one event-loop batch are copied into one
     * per-connection buffer and written once at the batch's flush, instead of one write each. Each
     * message keeps its own frame (unlike a minichats client's {@code ?batch=1}, which is always
     * corked). Default true: it takes the node's CPU per fan-out delivery down 2 to 3 times at no
     * cost in latency or idle heap (docs/benchmarks.md); false writes each frame on its own.
     */
    public boolean corkFrames() {
        return corkFrames;
    }

    /**
     * The key of the HTTP API ({@code API_KEY}): with one, {@code POST /api/publish} and
     * {@code GET /api/channels} answer requests carrying {@code Authorization: Bearer <key>};
     * without one ({@code null}, the default) they are off.
     */
    public String apiKey() {
        return apiKey;
    }

    /**
     * The browser origins allowed to open a WebSocket ({@code ACCEPTED_ORIGIN}, comma-separated),
     * e.g. {@code https://chat.example.com}. An upgrade whose {@code Origin} header is not in the
     * list is refused with 403; one without an {@code Origin} header (not a browser) is allowed,
     * except at the disposable {@code /ws}, which refuses it with 403 as its seed does.
     * Empty, the default: every origin is allowed.
     */
    public List<String> acceptedOrigins() {
        return acceptedOrigins;
    }

    /**
     * The most WebSocket connections the node holds at once ({@code MAX_CONNECTIONS}); an upgrade
     * beyond it is answered 503 with {@code Retry-After}.
     */
    public int maxConnections() {
        return maxConnections;
    }

    /**
     * The most WebSocket connections from one remote address ({@code MAX_CONNECTIONS_PER_ADDRESS});
     * an upgrade beyond it is answered 429. 0, the default, is no limit (clients behind one NAT or
     * proxy share an address).
     */
    public int maxConnectionsPerAddress() {
        return maxConnectionsPerAddress;
    }

    /**
     * How often the node pings a WebSocket client ({@code PING_INTERVAL}); {@link Duration#ZERO}
     * sends no pings.
     */
    public Duration pingInterval() {
        return pingInterval;
    }

    /**
     * How long a client has to show it is alive after a ping, with a pong or any other frame; a
     * client silent for longer is closed with 1001 "ping timeout" ({@code PING_TIMEOUT}).
     */
    public Duration pingTimeout() {
        return pingTimeout;
    }

    /**
     * How long a new connection may take to complete an HTTP request or its WebSocket upgrade; an
     * HTTP connection that completes no request for this long is closed, so a client sending its
     * request a byte at a time cannot hold one ({@code HANDSHAKE_TIMEOUT}).
     */
    public Duration handshakeTimeout() {
        return handshakeTimeout;
    }

    /**
     * The time over which a stopping node spreads its close 1001s, so that its clients reconnect to
     * the other nodes gradually rather than in one storm ({@code DRAIN_WINDOW}); zero closes all at once.
     */
    public Duration drainWindow() {
        return drainWindow;
    }

    /**
     * How long a stop may take: clients are sent close 1001 and given this long to leave before
     * their connections are dropped ({@code SHUTDOWN_TIMEOUT}).
     */
    public Duration shutdownTimeout() {
        return shutdownTimeout;
    }

    /**
     * The Redis server that joins this node to a cluster ({@code REDIS_ENDPOINT}): {@code host:port}
     * or a {@code redis://} / {@code rediss://} URI. {@code null}, the default, runs a single node
     * in memory that needs no Redis.
     */
    public String redisEndpoint() {
        return redisEndpoint;
    }

    /** The Redis password ({@code REDIS_SECRET}); {@code null}: none, or the one in the URI. */
    public String redisSecret() {
        return redisSecret;
    }

    /**
     * The prefix of every Redis key and pub/sub channel this cluster uses ({@code REDIS_KEY_PREFIX}),
     * so that several clusters can share one Redis.
     */
    public String redisKeyPrefix() {
        return redisKeyPrefix;
    }

    /**
     * How long a node that stops heartbeating, having died without cleaning up, is still counted
     * by the others ({@code CLUSTER_NODE_TIMEOUT}). Nodes heartbeat every third of it.
     */
    public Duration clusterNodeTimeout() {
        return clusterNodeTimeout;
    }

    /**
     * How many publishes each channel keeps as its stream, for {@code history} and recovery after a
     * reconnect ({@code HISTORY_SIZE}, PROTOCOL.md section 1a); 0, the default, turns history off.
     */
    public int historySize() {
        return historySize;
    }

    /** How long a channel's stream outlives its last publish ({@code HISTORY_TTL}); default 10 minutes. */
    public Duration historyTtl() {
        return historyTtl;
    }

    /**
     * The most publishes one {@code recover} replays ({@code RECOVERY_MAX}); a client that missed more
     * is told {@code recovered:false}. Default 1000.
     */
    public int recoveryMax() {
        return recoveryMax;
    }

    /**
     * The most bytes of content the node keeps in history, over all channels
     * ({@code HISTORY_MAX_BYTES}); past it the oldest publishes go first. Default 64 MiB.
     */
    public long historyMaxBytes() {
        return historyMaxBytes;
    }

    /**
     * The TCP port of the line chat ({@code LINE_PORT}, PROTOCOL.md section 3); 0, the library's
     * default, leaves it off. The server application's default is 8888.
     */
    public int linePort() {
        return linePort;
    }

    /**
     * Whether the line chat listens: on {@link #linePort()}, or on a port the system picks when
     * {@link Builder#lineOnAnyPort()} asked for one ({@link SwitchboardServer#lineAddress()} tells which).
     */
    public boolean lineEnabled() {
        return lineEnabled;
    }

    /** The most line clients at once; one more is told the chat is full ({@code LINE_MAX_CLIENTS}). */
    public int lineMaxClients() {
        return lineMaxClients;
    }

    /** Whether a line client's {@code SHUTDOWN} ends the line chat ({@code LINE_ALLOW_SHUTDOWN}). */
    public boolean lineAllowShutdown() {
        return lineAllowShutdown;
    }

    /** The channel of the shared namespace that the line chat is ({@code LINE_CHANNEL}). */
    public String lineChannel() {
        return lineChannel;
    }

    /**
     * The most chatroom topics a node (or, in a cluster, Redis) keeps ({@code CHATROOM_MAX_TOPICS});
     * a subscribe that would create one more is refused. The special topics do not count.
     */
    public int chatroomMaxTopics() {
        return chatroomMaxTopics;
    }

    /**
     * The most bytes a chatroom topic's value may take as JSON ({@code CHATROOM_MAX_VALUE_BYTES}).
     * A value may also cost at most 16 times this much of the node's heap, as the node estimates it
     * (a JSON value of many tiny items costs far more in memory than as text): 1 MiB at the default.
     */
    public int chatroomMaxValueBytes() {
        return chatroomMaxValueBytes;
    }

    /** How long a chatroom request waits for its provider's response ({@code CHATROOM_REQUEST_TIMEOUT}). */
    public Duration chatroomRequestTimeout() {
        return chatroomRequestTimeout;
    }

    /** The most requests one chatroom client may have waiting for responses ({@code CHATROOM_MAX_PENDING_REQUESTS}). */
    public int chatroomMaxPendingRequests() {
        return chatroomMaxPendingRequests;
    }

    /**
     * How long a chatroom topic with no subscriber is kept ({@code CHATROOM_TOPIC_IDLE_TIMEOUT}):
     * past it the topic and its value are gone, and a later subscribe creates it anew, empty. In a
     * cluster Redis keeps the topic (bounded by {@link #chatroomMaxTopics()}); this bounds a node's
     * own copy, which it drops when its last subscriber leaves.
     */
    public Duration chatroomTopicIdleTimeout() {
        return chatroomTopicIdleTimeout;
    }

    /**
     * The most heap the values of a node's chatroom topics may take together, as the node estimates
     * it ({@code CHATROOM_MAX_MEMORY_BYTES}); a change that would take the node past it is rejected
     * (changes that shrink a value always apply). In a cluster, changes other nodes committed are
     * applied even past it.
     */
    public long chatroomMaxMemoryBytes() {
        return chatroomMaxMemoryBytes;
    }

    /** Whether the chatroom inspection page is served, on {@link #debugPort()} ({@code DEBUG}). */
    public boolean debug() {
        return debug;
    }

    /** The port of the chatroom inspection page ({@code DEBUG_PORT}); 0 binds any free port. */
    public int debugPort() {
        return debugPort;
    }

    /** The address the inspection page binds ({@code DEBUG_HOST}): loopback unless configured. */
    public String debugHost() {
        return debugHost;
    }

    /**
     * The {@code Host} header values the inspection page answers besides its own address
     * ({@code DEBUG_ALLOWED_HOSTS}, comma-separated), each a host name or address, with or without
     * a port (without: any port), compared without regard to case. The page always answers a
     * {@code Host} that names {@code DEBUG_HOST} or the address the request came in on (and, bound
     * to loopback, {@code localhost}, {@code 127.0.0.1} and {@code [::1]}), with or without the
     * page's port; any other gets 403, so that a page in a local browser cannot read the topics
     * through a rebound DNS name. Empty, the default.
     */
    public List<String> debugAllowedHosts() {
        return debugAllowedHosts;
    }

    /**
     * The shared secret of HS256/384/512 tokens ({@code JWT_HMAC_SECRET}, at least 32 bytes as UTF-8;
     * HS384 needs 48 and HS512 64). Default {@code null}. Setting it, {@link #jwtPublicKeyFile()} or
     * {@link #jwtJwksFile()} turns token auth on (PROTOCOL.md section 1a; {@link TokenAuth}).
     */
    public String jwtHmacSecret() {
        return jwtHmacSecret;
    }

    /**
     * A PEM file holding the public key (or certificate) that verifies RS*, PS*, ES* or EdDSA tokens
     * ({@code JWT_PUBLIC_KEY_FILE}); the key's type decides the algorithms. Default {@code null}.
     */
    public Path jwtPublicKeyFile() {
        return jwtPublicKeyFile;
    }

    /**
     * A JWK set file ({@code JWT_JWKS_FILE}): a token's {@code kid} selects its key; the file is read
     * again when it changes (checked every second). Default {@code null}.
     */
    public Path jwtJwksFile() {
        return jwtJwksFile;
    }

    /** The audience a token's {@code aud} must include ({@code JWT_AUDIENCE}); {@code null}, the default: not checked. */
    public String jwtAudience() {
        return jwtAudience;
    }

    /** The issuer a token's {@code iss} must be ({@code JWT_ISSUER}); {@code null}, the default: not checked. */
    public String jwtIssuer() {
        return jwtIssuer;
    }

    /** The cookie that may carry the token ({@code JWT_COOKIE}); {@code null}, the default: no cookie is read. */
    public String jwtCookie() {
        return jwtCookie;
    }

    /**
     * Clock skew allowed on {@code exp} and {@code nbf} ({@code JWT_LEEWAY}); a connection is closed
     * this long after its token's {@code exp}. Default 30 seconds.
     */
    public Duration jwtLeeway() {
        return jwtLeeway;
    }

    /** Whether token auth is on: a JWT key is configured (an HMAC secret, a public key file or a JWK set file). */
    public boolean tokenAuthEnabled() {
        return jwtHmacSecret != null || jwtPublicKeyFile != null || jwtJwksFile != null;
    }

    /**
     * The directory of the randomchat dialect's embedded store ({@code DATA_DIR}, PROTOCOL.md
     * section 5): users, chats and undelivered messages survive restarts there. {@code null}, the
     * library's default, turns randomchat off on a single node, so an embedding application writes
     * no files by surprise; the server application's default is {@code ./data}. With
     * {@link #redisEndpoint()} set, randomchat keeps its data in Redis and this is not used. The
     * store is opened when the first randomchat client connects.
     */
    public Path dataDir() {
        return dataDir;
    }

    /** Whether randomchat is served: with an embedded store ({@link #dataDir()}) or in Redis. */
    public boolean randomchatEnabled() {
        return dataDir != null || redisEndpoint != null;
    }

    /**
     * Whether a randomchat user may log in with a phone alone, without the token its first
     * registration returned ({@code RANDOMCHAT_OPEN_LOGIN}): the seed's behaviour, in which anyone
     * who knows a phone can act as its user. Default {@code false}.
     */
    public boolean randomchatOpenLogin() {
        return randomchatOpenLogin;
    }

    /**
     * The most messages kept for one offline randomchat user ({@code RANDOMCHAT_MAX_PENDING}); past
     * it, the oldest are dropped. Default 1000.
     */
    public int randomchatMaxPending() {
        return randomchatMaxPending;
    }

    /**
     * How long a message waits for an offline randomchat user before it is dropped
     * ({@code RANDOMCHAT_PENDING_TTL}). Default 30 days.
     */
    public Duration randomchatPendingTtl() {
        return randomchatPendingTtl;
    }

    /** The most members of one randomchat chat ({@code RANDOMCHAT_MAX_MEMBERS}). Default 256. */
    public int randomchatMaxMembers() {
        return randomchatMaxMembers;
    }

    /**
     * The most randomchat chats one user owns ({@code RANDOMCHAT_MAX_CHATS_PER_USER}): a
     * {@code create_chat} past it is refused. Only the chats the user created count, so no other
     * user can use up this limit (issue 15). Default 1000.
     */
    public int randomchatMaxChatsPerUser() {
        return randomchatMaxChatsPerUser;
    }

    /**
     * The most randomchat chats of others that one user was added to
     * ({@code RANDOMCHAT_MAX_ADDED_CHATS_PER_USER}): an {@code add_member} past it is refused, with
     * an error to the member who asked. The user can leave any of them; a user belongs to at most
     * this plus {@link #randomchatMaxChatsPerUser()} chats, which its {@code state} lists. Default 1000.
     */
    public int randomchatMaxAddedChatsPerUser() {
        return randomchatMaxAddedChatsPerUser;
    }

    /** The longest randomchat message text, in UTF-8 bytes ({@code RANDOMCHAT_MAX_TEXT_BYTES}). Default 4096. */
    public int randomchatMaxTextBytes() {
        return randomchatMaxTextBytes;
    }

    @Override
    public String toString() {
        return "SwitchboardConfig{host=" + host + ", port=" + port + ", version=" + version
                + ", environment=" + environment + ", logDebug=" + logDebug + ", transport=" + transport
                + ", ioThreads=" + ioThreads
                + ", tlsCertFile=" + tlsCertFile + ", tlsKeyFile=" + tlsKeyFile + ", tlsProvider=" + tlsProvider
                + ", maxMessageBytes=" + maxMessageBytes
                + ", maxChannelNameBytes=" + maxChannelNameBytes + ", maxClientNameBytes=" + maxClientNameBytes
                + ", maxSubscriptionsPerConnection=" + maxSubscriptionsPerConnection
                + ", maxJsonDepth=" + maxJsonDepth + ", maxMessagesPerSecond=" + maxMessagesPerSecond
                + ", apiKey=" + (apiKey == null ? "none" : "(set)") + ", slowConsumerPolicy=" + slowConsumerPolicy
                + ", outboundSoftLimitBytes=" + outboundSoftLimitBytes + ", outboundSoftLimitTime=" + outboundSoftLimitTime
                + ", outboundHardLimitBytes=" + outboundHardLimitBytes
                + ", compression=" + compression + ", compressionMinBytes=" + compressionMinBytes
                + ", compressionLevel=" + compressionLevel + ", corkFrames=" + corkFrames
                + ", handshakeTimeout=" + handshakeTimeout
                + ", shutdownTimeout=" + shutdownTimeout
                + ", redisEndpoint=" + (redisEndpoint == null ? "none" : redisEndpoint.replaceAll("//[^@/]*@", "//...@"))
                + ", redisSecret=" + (redisSecret == null ? "none" : "(set)") + ", redisKeyPrefix=" + redisKeyPrefix
                + ", clusterNodeTimeout=" + clusterNodeTimeout + ", historySize=" + historySize
                + ", historyTtl=" + historyTtl + ", recoveryMax=" + recoveryMax + ", historyMaxBytes=" + historyMaxBytes
                + ", acceptedOrigins=" + acceptedOrigins
                + ", maxConnections=" + maxConnections + ", maxConnectionsPerAddress=" + maxConnectionsPerAddress
                + ", pingInterval=" + pingInterval + ", pingTimeout=" + pingTimeout
                + ", maxSubscribesPerSecond=" + maxSubscribesPerSecond + ", drainWindow=" + drainWindow
                + ", linePort=" + linePort + ", lineEnabled=" + lineEnabled + ", lineMaxClients=" + lineMaxClients
                + ", lineAllowShutdown=" + lineAllowShutdown + ", lineChannel=" + lineChannel
                + ", chatroomMaxTopics=" + chatroomMaxTopics + ", chatroomMaxValueBytes=" + chatroomMaxValueBytes
                + ", chatroomRequestTimeout=" + chatroomRequestTimeout + ", chatroomMaxPendingRequests=" + chatroomMaxPendingRequests
                + ", chatroomTopicIdleTimeout=" + chatroomTopicIdleTimeout + ", chatroomMaxMemoryBytes=" + chatroomMaxMemoryBytes
                + ", debug=" + debug + ", debugPort=" + debugPort + ", debugHost=" + debugHost
                + ", debugAllowedHosts=" + debugAllowedHosts
                + ", jwtHmacSecret=" + (jwtHmacSecret == null ? "none" : "(set)") + ", jwtPublicKeyFile=" + jwtPublicKeyFile
                + ", jwtJwksFile=" + jwtJwksFile + ", jwtAudience=" + jwtAudience + ", jwtIssuer=" + jwtIssuer
                + ", jwtCookie=" + jwtCookie + ", jwtLeeway=" + jwtLeeway
                + ", dataDir=" + dataDir + ", randomchatOpenLogin=" + randomchatOpenLogin
                + ", randomchatMaxPending=" + randomchatMaxPending + ", randomchatPendingTtl=" + randomchatPendingTtl
                + ", randomchatMaxMembers=" + randomchatMaxMembers
                + ", randomchatMaxChatsPerUser=" + randomchatMaxChatsPerUser
                + ", randomchatMaxAddedChatsPerUser=" + randomchatMaxAddedChatsPerUser
                + ", randomchatMaxTextBytes=" + randomchatMaxTextBytes + '}';
    }

    /** Builds a {@link SwitchboardConfig}. Not thread-safe. */
    public static final class Builder {
        // The node and its process
        private String host = "0.0.0.0";
        private int port = 3501;
        private String version = BUILD_VERSION;
        private String environment = "dev";
        private boolean logDebug;
        private Transport transport = Transport.AUTO;
        private int ioThreads = Runtime.getRuntime().availableProcessors();

        // TLS (issue 19)
        private Path tlsCertFile;
        private Path tlsKeyFile;
        private TlsProvider tlsProvider = TlsProvider.AUTO;

        // Requests and messages
        private int maxMessageBytes = 65536;
        private int maxChannelNameBytes = 128;
        private int maxClientNameBytes = 64;
        private int maxSubscriptionsPerConnection = 1000;
        private int maxJsonDepth = 32;
        private int maxMessagesPerSecond = 10_000;
        private int maxSubscribesPerSecond = 1000;

        // Slow consumers
        private SlowConsumerPolicy slowConsumerPolicy = SlowConsumerPolicy.CLOSE;
        private int outboundSoftLimitBytes = 1024 * 1024;
        private Duration outboundSoftLimitTime = Duration.ofSeconds(10);
        private long outboundHardLimitBytes = 8L * 1024 * 1024;

        // permessage-deflate
        private boolean compression;
        private int compressionMinBytes = 256;
        private int compressionLevel = 6;

        // corking (issue 17)
        private boolean corkFrames = true;

        // Access and connections
        private String apiKey;
        private List<String> acceptedOrigins = List.of();
        private int maxConnections = 100_000;
        private int maxConnectionsPerAddress;
        private Duration pingInterval = Duration.ofSeconds(30);
        private Duration pingTimeout = Duration.ofSeconds(10);
        private Duration handshakeTimeout = Duration.ofSeconds(10);

        // Stopping
        private Duration drainWindow = Duration.ZERO;
        private Duration shutdownTimeout = Duration.ofSeconds(10);

        // The cluster
        private String redisEndpoint;
        private String redisSecret;
        private String redisKeyPrefix = "switchboard:";
        private Duration clusterNodeTimeout = Duration.ofSeconds(30);

        // History and recovery (issue 18)
        private int historySize;
        private Duration historyTtl = Duration.ofMinutes(10);
        private int recoveryMax = 1000;
        private long historyMaxBytes = 64L * 1024 * 1024;

        // The line chat
        private int linePort;
        private boolean lineEnabled;
        private int lineMaxClients = 50;
        private boolean lineAllowShutdown;
        private String lineChannel = "lobby";

        // The chatroom dialect
        private int chatroomMaxTopics = 10_000;
        private int chatroomMaxValueBytes = 65536;
        private Duration chatroomRequestTimeout = Duration.ofSeconds(30);
        private int chatroomMaxPendingRequests = 1000;
        private Duration chatroomTopicIdleTimeout = Duration.ofSeconds(60);
        private long chatroomMaxMemoryBytes = 256L * 1024 * 1024;

        // The chatroom inspection page
        private boolean debug;
        private int debugPort = 8800;
        private String debugHost = "127.0.0.1";
        private List<String> debugAllowedHosts = List.of();

        // Token auth (issue 19)
        private String jwtHmacSecret;
        private Path jwtPublicKeyFile;
        private Path jwtJwksFile;
        private String jwtAudience;
        private String jwtIssuer;
        private String jwtCookie;
        private Duration jwtLeeway = Duration.ofSeconds(30);

        // The randomchat dialect
        private Path dataDir;
        private boolean randomchatOpenLogin;
        private int randomchatMaxPending = 1000;
        private Duration randomchatPendingTtl = Duration.ofDays(30);
        private int randomchatMaxMembers = 256;
        private int randomchatMaxChatsPerUser = 1000;
        private int randomchatMaxAddedChatsPerUser = 1000;
        private int randomchatMaxTextBytes = 4096;

        private Builder() {
        }

        private Builder(SwitchboardConfig c) {
            host = c.host;
            port = c.port;
            version = c.version;
            environment = c.environment;
            logDebug = c.logDebug;
            transport = c.transport;
            ioThreads = c.ioThreads;
            tlsCertFile = c.tlsCertFile;
            tlsKeyFile = c.tlsKeyFile;
            tlsProvider = c.tlsProvider;
            maxMessageBytes = c.maxMessageBytes;
            maxChannelNameBytes = c.maxChannelNameBytes;
            maxClientNameBytes = c.maxClientNameBytes;
            maxSubscriptionsPerConnection = c.maxSubscriptionsPerConnection;
            maxJsonDepth = c.maxJsonDepth;
            maxMessagesPerSecond = c.maxMessagesPerSecond;
            maxSubscribesPerSecond = c.maxSubscribesPerSecond;
            slowConsumerPolicy = c.slowConsumerPolicy;
            outboundSoftLimitBytes = c.outboundSoftLimitBytes;
            outboundSoftLimitTime = c.outboundSoftLimitTime;
            outboundHardLimitBytes = c.outboundHardLimitBytes;
            compression = c.compression;
            compressionMinBytes = c.compressionMinBytes;
            compressionLevel = c.compressionLevel;
            corkFrames = c.corkFrames;
            apiKey = c.apiKey;
            acceptedOrigins = c.acceptedOrigins;
            maxConnections = c.maxConnections;
            maxConnectionsPerAddress = c.maxConnectionsPerAddress;
            pingInterval = c.pingInterval;
            pingTimeout = c.pingTimeout;
            handshakeTimeout = c.handshakeTimeout;
            drainWindow = c.drainWindow;
            shutdownTimeout = c.shutdownTimeout;
            redisEndpoint = c.redisEndpoint;
            redisSecret = c.redisSecret;
            redisKeyPrefix = c.redisKeyPrefix;
            clusterNodeTimeout = c.clusterNodeTimeout;
            historySize = c.historySize;
            historyTtl = c.historyTtl;
            recoveryMax = c.recoveryMax;
            historyMaxBytes = c.historyMaxBytes;
            linePort = c.linePort;
            lineEnabled = c.lineEnabled;
            lineMaxClients = c.lineMaxClients;
            lineAllowShutdown = c.lineAllowShutdown;
            lineChannel = c.lineChannel;
            chatroomMaxTopics = c.chatroomMaxTopics;
            chatroomMaxValueBytes = c.chatroomMaxValueBytes;
            chatroomRequestTimeout = c.chatroomRequestTimeout;
            chatroomMaxPendingRequests = c.chatroomMaxPendingRequests;
            chatroomTopicIdleTimeout = c.chatroomTopicIdleTimeout;
            chatroomMaxMemoryBytes = c.chatroomMaxMemoryBytes;
            debug = c.debug;
            debugPort = c.debugPort;
            debugHost = c.debugHost;
            debugAllowedHosts = c.debugAllowedHosts;
            jwtHmacSecret = c.jwtHmacSecret;
            jwtPublicKeyFile = c.jwtPublicKeyFile;
            jwtJwksFile = c.jwtJwksFile;
            jwtAudience = c.jwtAudience;
            jwtIssuer = c.jwtIssuer;
            jwtCookie = c.jwtCookie;
            jwtLeeway = c.jwtLeeway;
            dataDir = c.dataDir;
            randomchatOpenLogin = c.randomchatOpenLogin;
            randomchatMaxPending = c.randomchatMaxPending;
            randomchatPendingTtl = c.randomchatPendingTtl;
            randomchatMaxMembers = c.randomchatMaxMembers;
            randomchatMaxChatsPerUser = c.randomchatMaxChatsPerUser;
            randomchatMaxAddedChatsPerUser = c.randomchatMaxAddedChatsPerUser;
            randomchatMaxTextBytes = c.randomchatMaxTextBytes;
        }

        /** Default {@code 0.0.0.0}. */
        public Builder host(String host) {
            Objects.requireNonNull(host, "host");
            if (host.isBlank()) {
                throw new IllegalArgumentException("host: '" + host + "' (expected: a host name or address)");
            }
            this.host = host;
            return this;
        }

        /** Default {@code 3501}; 0 binds an ephemeral port. */
        public Builder port(int port) {
            this.port = checkRange("port", port, 0, 65535);
            return this;
        }

        /** Default: the jar's version, or {@code dev}. */
        public Builder version(String version) {
            this.version = Objects.requireNonNull(version, "version");
            return this;
        }

        /** Default {@code dev}. */
        public Builder environment(String environment) {
            this.environment = Objects.requireNonNull(environment, "environment");
            return this;
        }

        /** Default {@code false}. */
        public Builder logDebug(boolean logDebug) {
            this.logDebug = logDebug;
            return this;
        }

        /**
         * Default {@link Transport#AUTO}: epoll where it loads, NIO otherwise. An explicit
         * {@link Transport#EPOLL} or {@link Transport#IO_URING} that cannot load makes
         * {@link SwitchboardServer#start()} throw {@link TransportUnavailableException}.
         */
        public Builder transport(Transport transport) {
            this.transport = Objects.requireNonNull(transport, "transport");
            return this;
        }

        /** Default: the number of available processors. */
        public Builder ioThreads(int ioThreads) {
            this.ioThreads = checkRange("ioThreads", ioThreads, 1, 1024);
            return this;
        }

        /**
         * See {@link SwitchboardConfig#tlsCertFile()}. Default: none ({@code null}), no TLS; set it with
         * {@link #tlsKeyFile(Path)}. The file is read by {@link SwitchboardServer#start()}, not here.
         */
        public Builder tlsCertFile(Path tlsCertFile) {
            this.tlsCertFile = tlsCertFile;
            return this;
        }

        /** See {@link SwitchboardConfig#tlsKeyFile()}. Default: none ({@code null}), no TLS. */
        public Builder tlsKeyFile(Path tlsKeyFile) {
            this.tlsKeyFile = tlsKeyFile;
            return this;
        }

        /**
         * See {@link SwitchboardConfig#tlsProvider()}. Default {@link TlsProvider#AUTO}. An explicit
         * {@link TlsProvider#OPENSSL} that cannot load makes {@link SwitchboardServer#start()} throw
         * {@link TlsUnavailableException}; it never falls back to the JDK.
         */
        public Builder tlsProvider(TlsProvider tlsProvider) {
            this.tlsProvider = Objects.requireNonNull(tlsProvider, "tlsProvider");
            return this;
        }

        /** Default 65536 (64 KiB); at least 1024. */
        public Builder maxMessageBytes(int maxMessageBytes) {
            this.maxMessageBytes = checkRange("maxMessageBytes", maxMessageBytes, 1024, 64 * 1024 * 1024);
            return this;
        }

        /** Default 128. */
        public Builder maxChannelNameBytes(int maxChannelNameBytes) {
            this.maxChannelNameBytes = checkRange("maxChannelNameBytes", maxChannelNameBytes, 1, 4096);
            return this;
        }

        /** Default 64. */
        public Builder maxClientNameBytes(int maxClientNameBytes) {
            this.maxClientNameBytes = checkRange("maxClientNameBytes", maxClientNameBytes, 1, 4096);
            return this;
        }

        /** Default 1000. */
        public Builder maxSubscriptionsPerConnection(int maxSubscriptionsPerConnection) {
            this.maxSubscriptionsPerConnection =
                    checkRange("maxSubscriptionsPerConnection", maxSubscriptionsPerConnection, 1, 1_000_000);
            return this;
        }

        /** Default 32. */
        public Builder maxJsonDepth(int maxJsonDepth) {
            this.maxJsonDepth = checkRange("maxJsonDepth", maxJsonDepth, 2, 1000);
            return this;
        }

        /** Default 10,000; 0 means unlimited. */
        public Builder maxMessagesPerSecond(int maxMessagesPerSecond) {
            this.maxMessagesPerSecond = checkRange("maxMessagesPerSecond", maxMessagesPerSecond, 0, 100_000_000);
            return this;
        }

        /** Default 1,000; 0 means unlimited. */
        public Builder maxSubscribesPerSecond(int maxSubscribesPerSecond) {
            this.maxSubscribesPerSecond = checkRange("maxSubscribesPerSecond", maxSubscribesPerSecond, 0, 100_000_000);
            return this;
        }

        /** Default {@link SlowConsumerPolicy#CLOSE}. */
        public Builder slowConsumerPolicy(SlowConsumerPolicy slowConsumerPolicy) {
            this.slowConsumerPolicy = Objects.requireNonNull(slowConsumerPolicy, "slowConsumerPolicy");
            return this;
        }

        /** Default 1 MiB; at least 16 KiB. Must stay below the hard limit (checked by {@link #build()}). */
        public Builder outboundSoftLimitBytes(int outboundSoftLimitBytes) {
            this.outboundSoftLimitBytes = checkRange("outboundSoftLimitBytes", outboundSoftLimitBytes, 16 * 1024,
                    Integer.MAX_VALUE);
            return this;
        }

        /** Default 10 seconds. */
        public Builder outboundSoftLimitTime(Duration outboundSoftLimitTime) {
            this.outboundSoftLimitTime = checkPositive("outboundSoftLimitTime", outboundSoftLimitTime);
            return this;
        }

        /** Default 8 MiB. Must be above the soft limit (checked by {@link #build()}). */
        public Builder outboundHardLimitBytes(long outboundHardLimitBytes) {
            if (outboundHardLimitBytes <= 0) {
                throw new IllegalArgumentException("outboundHardLimitBytes: " + outboundHardLimitBytes
                        + " (expected: > 0)");
            }
            this.outboundHardLimitBytes = outboundHardLimitBytes;
            return this;
        }

        /** See {@link SwitchboardConfig#compression()}. Default: false. */
        public Builder compression(boolean compression) {
            this.compression = compression;
            return this;
        }

        /** See {@link SwitchboardConfig#compressionMinBytes()}. Default: 256. */
        public Builder compressionMinBytes(int compressionMinBytes) {
            this.compressionMinBytes = checkRange("compressionMinBytes", compressionMinBytes, 0, 64 * 1024 * 1024);
            return this;
        }

        /** See {@link SwitchboardConfig#compressionLevel()}. Default: 6. */
        public Builder compressionLevel(int compressionLevel) {
            this.compressionLevel = checkRange("compressionLevel", compressionLevel, 1, 9);
            return this;
        }

        /** See {@link SwitchboardConfig#corkFrames()}. Default: true. */
        public Builder corkFrames(boolean corkFrames) {
            this.corkFrames = corkFrames;
            return this;
        }

        /** Default {@code null}: the HTTP API is off. At least 16 characters. */
        public Builder apiKey(String apiKey) {
            if (apiKey != null && apiKey.length() < 16) {
                throw new IllegalArgumentException("apiKey: " + apiKey.length() + " characters (expected: at least 16)");
            }
            this.apiKey = apiKey;
            return this;
        }

        /** Default: empty, every origin is allowed. Each like {@code https://host[:port]}. */
        public Builder acceptedOrigins(List<String> acceptedOrigins) {
            List<String> origins = new ArrayList<>();
            for (String o : acceptedOrigins) {
                String origin = o.trim();
                if (origin.isEmpty()) {
                    continue;
                }
                if (!origin.matches("(?i)[a-z][a-z0-9+.-]*://[^/\\s]+")) {
                    throw new IllegalArgumentException("acceptedOrigins: '" + origin
                            + "' (expected: an origin like https://example.com or http://localhost:8080)");
                }
                origins.add(origin);
            }
            this.acceptedOrigins = List.copyOf(origins);
            return this;
        }

        /** Default 100,000. */
        public Builder maxConnections(int maxConnections) {
            this.maxConnections = checkRange("maxConnections", maxConnections, 1, Integer.MAX_VALUE);
            return this;
        }

        /** Default 0: no limit per address. */
        public Builder maxConnectionsPerAddress(int maxConnectionsPerAddress) {
            this.maxConnectionsPerAddress = checkRange("maxConnectionsPerAddress", maxConnectionsPerAddress, 0,
                    Integer.MAX_VALUE);
            return this;
        }

        /** Default 30 seconds; {@link Duration#ZERO}: no pings. */
        public Builder pingInterval(Duration pingInterval) {
            Objects.requireNonNull(pingInterval, "pingInterval");
            if (pingInterval.isNegative()) {
                throw new IllegalArgumentException("pingInterval: " + pingInterval + " (expected: >= 0)");
            }
            this.pingInterval = pingInterval;
            return this;
        }

        /** Default 10 seconds. */
        public Builder pingTimeout(Duration pingTimeout) {
            this.pingTimeout = checkPositive("pingTimeout", pingTimeout);
            return this;
        }

        /** Default 10 seconds. */
        public Builder handshakeTimeout(Duration handshakeTimeout) {
            this.handshakeTimeout = checkPositive("handshakeTimeout", handshakeTimeout);
            return this;
        }

        /** Default {@link Duration#ZERO}: every client is told at once. */
        public Builder drainWindow(Duration drainWindow) {
            Objects.requireNonNull(drainWindow, "drainWindow");
            if (drainWindow.isNegative()) {
                throw new IllegalArgumentException("drainWindow: " + drainWindow + " (expected: >= 0)");
            }
            this.drainWindow = drainWindow;
            return this;
        }

        /** Default 10 seconds. */
        public Builder shutdownTimeout(Duration shutdownTimeout) {
            this.shutdownTimeout = checkPositive("shutdownTimeout", shutdownTimeout);
            return this;
        }

        /**
         * Default {@code null}: a single node. {@code host:port}, {@code redis://[:password@]host[:port][/db]}
         * or {@code rediss://...} for TLS.
         */
        public Builder redisEndpoint(String redisEndpoint) {
            if (redisEndpoint != null) {
                String e = redisEndpoint.trim();
                boolean uri = e.startsWith("redis://") || e.startsWith("rediss://");
                if (!uri && (e.contains("/") || e.contains("@"))) {
                    throw new IllegalArgumentException("redisEndpoint: '" + redisEndpoint
                            + "' (expected: host:port or a redis:// URI)");
                }
                redisEndpoint = e.isEmpty() ? null : e;
            }
            this.redisEndpoint = redisEndpoint;
            return this;
        }

        /** Default {@code null}. */
        public Builder redisSecret(String redisSecret) {
            this.redisSecret = redisSecret == null || redisSecret.isEmpty() ? null : redisSecret;
            return this;
        }

        /** Default {@code switchboard:}. */
        public Builder redisKeyPrefix(String redisKeyPrefix) {
            Objects.requireNonNull(redisKeyPrefix, "redisKeyPrefix");
            for (int i = 0; i < redisKeyPrefix.length(); i++) {
                if (Character.isISOControl(redisKeyPrefix.charAt(i))) {
                    throw new IllegalArgumentException("redisKeyPrefix: control character at index " + i);
                }
            }
            this.redisKeyPrefix = redisKeyPrefix;
            return this;
        }

        /** Default 30 seconds; at least 1 second. */
        public Builder clusterNodeTimeout(Duration clusterNodeTimeout) {
            checkPositive("clusterNodeTimeout", clusterNodeTimeout);
            if (clusterNodeTimeout.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("clusterNodeTimeout: " + clusterNodeTimeout + " (expected: >= 1s)");
            }
            this.clusterNodeTimeout = clusterNodeTimeout;
            return this;
        }

        /** See {@link SwitchboardConfig#historySize()}. Default: 0, off; at most 1,000,000. */
        public Builder historySize(int historySize) {
            this.historySize = checkRange("historySize", historySize, 0, 1_000_000);
            return this;
        }

        /** See {@link SwitchboardConfig#historyTtl()}. Default: 10 minutes; at least 1 second. */
        public Builder historyTtl(Duration historyTtl) {
            checkPositive("historyTtl", historyTtl);
            if (historyTtl.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("historyTtl: " + historyTtl + " (expected: >= 1s)");
            }
            this.historyTtl = historyTtl;
            return this;
        }

        /** See {@link SwitchboardConfig#recoveryMax()}. Default: 1000; 1 to 1,000,000. */
        public Builder recoveryMax(int recoveryMax) {
            this.recoveryMax = checkRange("recoveryMax", recoveryMax, 1, 1_000_000);
            return this;
        }

        /** See {@link SwitchboardConfig#historyMaxBytes()}. Default: 64 MiB; positive. */
        public Builder historyMaxBytes(long historyMaxBytes) {
            if (historyMaxBytes <= 0) {
                throw new IllegalArgumentException("historyMaxBytes: " + historyMaxBytes + " (expected: > 0)");
            }
            this.historyMaxBytes = historyMaxBytes;
            return this;
        }

        /** See {@link SwitchboardConfig#linePort()}. Default: 0, off. */
        public Builder linePort(int linePort) {
            this.linePort = checkRange("linePort", linePort, 0, 65535);
            this.lineEnabled = linePort != 0;
            return this;
        }

        /**
         * Turns the line chat on, on a port the system picks when the server binds (as {@code port(0)}
         * does for the main port); {@link SwitchboardServer#lineAddress()} tells which. For tests and
         * for embedders that run several nodes in one process.
         */
        public Builder lineOnAnyPort() {
            this.linePort = 0;
            this.lineEnabled = true;
            return this;
        }

        /** See {@link SwitchboardConfig#lineMaxClients()}. Default: 50. */
        public Builder lineMaxClients(int lineMaxClients) {
            this.lineMaxClients = checkRange("lineMaxClients", lineMaxClients, 1, Integer.MAX_VALUE);
            return this;
        }

        /** See {@link SwitchboardConfig#lineAllowShutdown()}. Default: false. */
        public Builder lineAllowShutdown(boolean lineAllowShutdown) {
            this.lineAllowShutdown = lineAllowShutdown;
            return this;
        }

        /** See {@link SwitchboardConfig#lineChannel()}. Default: {@code lobby}. */
        public Builder lineChannel(String lineChannel) {
            Objects.requireNonNull(lineChannel, "lineChannel");
            String invalid = Names.check("lineChannel", lineChannel, Integer.MAX_VALUE);
            if (invalid != null) {
                throw new IllegalArgumentException(invalid);
            }
            this.lineChannel = lineChannel;
            return this;
        }

        /** See {@link SwitchboardConfig#chatroomMaxTopics()}. Default: 10,000. */
        public Builder chatroomMaxTopics(int chatroomMaxTopics) {
            this.chatroomMaxTopics = checkRange("chatroomMaxTopics", chatroomMaxTopics, 1, Integer.MAX_VALUE);
            return this;
        }

        /** See {@link SwitchboardConfig#chatroomMaxValueBytes()}. Default: 65,536. */
        public Builder chatroomMaxValueBytes(int chatroomMaxValueBytes) {
            this.chatroomMaxValueBytes = checkRange("chatroomMaxValueBytes", chatroomMaxValueBytes, 16, Integer.MAX_VALUE);
            return this;
        }

        /** See {@link SwitchboardConfig#chatroomRequestTimeout()}. Default: 30 s. */
        public Builder chatroomRequestTimeout(Duration chatroomRequestTimeout) {
            this.chatroomRequestTimeout = checkPositive("chatroomRequestTimeout", chatroomRequestTimeout);
            return this;
        }

        /** See {@link SwitchboardConfig#chatroomMaxPendingRequests()}. Default: 1,000. */
        public Builder chatroomMaxPendingRequests(int chatroomMaxPendingRequests) {
            this.chatroomMaxPendingRequests = checkRange("chatroomMaxPendingRequests", chatroomMaxPendingRequests, 1,
                    Integer.MAX_VALUE);
            return this;
        }

        /** See {@link SwitchboardConfig#chatroomTopicIdleTimeout()}. Default: 60 s. */
        public Builder chatroomTopicIdleTimeout(Duration chatroomTopicIdleTimeout) {
            this.chatroomTopicIdleTimeout = checkPositive("chatroomTopicIdleTimeout", chatroomTopicIdleTimeout);
            return this;
        }

        /** See {@link SwitchboardConfig#chatroomMaxMemoryBytes()}. Default: 256 MiB. */
        public Builder chatroomMaxMemoryBytes(long chatroomMaxMemoryBytes) {
            if (chatroomMaxMemoryBytes <= 0) {
                throw new IllegalArgumentException("chatroomMaxMemoryBytes: " + chatroomMaxMemoryBytes
                        + " (expected: > 0)");
            }
            this.chatroomMaxMemoryBytes = chatroomMaxMemoryBytes;
            return this;
        }

        /** See {@link SwitchboardConfig#debug()}. Default: false. */
        public Builder debug(boolean debug) {
            this.debug = debug;
            return this;
        }

        /** See {@link SwitchboardConfig#debugPort()}. Default: 8800. */
        public Builder debugPort(int debugPort) {
            this.debugPort = checkRange("debugPort", debugPort, 0, 65535);
            return this;
        }

        /** See {@link SwitchboardConfig#debugHost()}. Default: {@code 127.0.0.1}. */
        public Builder debugHost(String debugHost) {
            Objects.requireNonNull(debugHost, "debugHost");
            if (debugHost.isBlank()) {
                throw new IllegalArgumentException("debugHost: '" + debugHost + "' (expected: a host name or address)");
            }
            this.debugHost = debugHost;
            return this;
        }

        /**
         * See {@link SwitchboardConfig#debugAllowedHosts()}. Default: empty. Each like
         * {@code inspect.example.com} or {@code inspect.example.com:8800}; blank entries are skipped.
         */
        public Builder debugAllowedHosts(List<String> debugAllowedHosts) {
            List<String> hosts = new ArrayList<>();
            for (String h : debugAllowedHosts) {
                String host = h.trim();
                if (host.isEmpty()) {
                    continue;
                }
                if (!host.matches("(?i)(?:[a-z0-9._~-]+|\\[[0-9a-f:.]+])(?::[0-9]{1,5})?")) {
                    throw new IllegalArgumentException("debugAllowedHosts: '" + host
                            + "' (expected: a host like inspect.example.com, optionally with :port)");
                }
                hosts.add(host.toLowerCase(Locale.ROOT));
            }
            this.debugAllowedHosts = List.copyOf(hosts);
            return this;
        }

        /** See {@link SwitchboardConfig#jwtHmacSecret()}. Default: {@code null}. */
        public Builder jwtHmacSecret(String jwtHmacSecret) {
            if (jwtHmacSecret != null && jwtHmacSecret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32) {
                throw new IllegalArgumentException("jwtHmacSecret: " + jwtHmacSecret.getBytes(
                        java.nio.charset.StandardCharsets.UTF_8).length + " bytes (expected: at least 32, RFC 7518 section 3.2)");
            }
            this.jwtHmacSecret = jwtHmacSecret;
            return this;
        }

        /** See {@link SwitchboardConfig#jwtPublicKeyFile()}. Default: {@code null}. */
        public Builder jwtPublicKeyFile(Path jwtPublicKeyFile) {
            this.jwtPublicKeyFile = jwtPublicKeyFile;
            return this;
        }

        /** See {@link SwitchboardConfig#jwtJwksFile()}. Default: {@code null}. */
        public Builder jwtJwksFile(Path jwtJwksFile) {
            this.jwtJwksFile = jwtJwksFile;
            return this;
        }

        /** See {@link SwitchboardConfig#jwtAudience()}. Default: {@code null}. */
        public Builder jwtAudience(String jwtAudience) {
            this.jwtAudience = jwtAudience;
            return this;
        }

        /** See {@link SwitchboardConfig#jwtIssuer()}. Default: {@code null}. */
        public Builder jwtIssuer(String jwtIssuer) {
            this.jwtIssuer = jwtIssuer;
            return this;
        }

        /** See {@link SwitchboardConfig#jwtCookie()}. Default: {@code null}. */
        public Builder jwtCookie(String jwtCookie) {
            this.jwtCookie = jwtCookie;
            return this;
        }

        /** See {@link SwitchboardConfig#jwtLeeway()}. Default: 30 seconds. */
        public Builder jwtLeeway(Duration jwtLeeway) {
            Objects.requireNonNull(jwtLeeway, "jwtLeeway");
            if (jwtLeeway.isNegative()) {
                throw new IllegalArgumentException("jwtLeeway: " + jwtLeeway + " (expected: >= 0)");
            }
            this.jwtLeeway = jwtLeeway;
            return this;
        }

        /** See {@link SwitchboardConfig#dataDir()}. Default: {@code null}, randomchat off on a single node. */
        public Builder dataDir(Path dataDir) {
            this.dataDir = dataDir;
            return this;
        }

        /** See {@link SwitchboardConfig#randomchatOpenLogin()}. Default: false. */
        public Builder randomchatOpenLogin(boolean randomchatOpenLogin) {
            this.randomchatOpenLogin = randomchatOpenLogin;
            return this;
        }

        /** See {@link SwitchboardConfig#randomchatMaxPending()}. Default: 1000. */
        public Builder randomchatMaxPending(int randomchatMaxPending) {
            this.randomchatMaxPending = checkRange("randomchatMaxPending", randomchatMaxPending, 1, 1_000_000);
            return this;
        }

        /** See {@link SwitchboardConfig#randomchatPendingTtl()}. Default: 30 days. */
        public Builder randomchatPendingTtl(Duration randomchatPendingTtl) {
            this.randomchatPendingTtl = checkPositive("randomchatPendingTtl", randomchatPendingTtl);
            return this;
        }

        /** See {@link SwitchboardConfig#randomchatMaxMembers()}. Default: 256. */
        public Builder randomchatMaxMembers(int randomchatMaxMembers) {
            this.randomchatMaxMembers = checkRange("randomchatMaxMembers", randomchatMaxMembers, 1, 100_000);
            return this;
        }

        /** See {@link SwitchboardConfig#randomchatMaxChatsPerUser()}. Default: 1000. */
        public Builder randomchatMaxChatsPerUser(int randomchatMaxChatsPerUser) {
            this.randomchatMaxChatsPerUser = checkRange("randomchatMaxChatsPerUser", randomchatMaxChatsPerUser, 1,
                    1_000_000);
            return this;
        }

        /** See {@link SwitchboardConfig#randomchatMaxAddedChatsPerUser()}. Default: 1000. */
        public Builder randomchatMaxAddedChatsPerUser(int randomchatMaxAddedChatsPerUser) {
            this.randomchatMaxAddedChatsPerUser = checkRange("randomchatMaxAddedChatsPerUser",
                    randomchatMaxAddedChatsPerUser, 1, 1_000_000);
            return this;
        }

        /** See {@link SwitchboardConfig#randomchatMaxTextBytes()}. Default: 4096. */
        public Builder randomchatMaxTextBytes(int randomchatMaxTextBytes) {
            this.randomchatMaxTextBytes = checkRange("randomchatMaxTextBytes", randomchatMaxTextBytes, 1, 16 * 1024 * 1024);
            return this;
        }

        /**
         * Returns the configuration this builder holds.
         *
         * @throws IllegalArgumentException when the outbound hard limit is not above the soft limit, the
         *                                  line channel's name is longer than {@code maxChannelNameBytes},
         *                                  token auth is on with the line port open, or only one of the TLS
         *                                  certificate and key files is set
         */
        public SwitchboardConfig build() {
            if ((jwtHmacSecret != null || jwtPublicKeyFile != null || jwtJwksFile != null) && lineEnabled) {
                // The line dialect has no handshake to carry a token: with token auth on, it would be a
                // way into the shared namespace around it (PROTOCOL.md section 1a, docs/guarantees.md).
                throw new IllegalArgumentException("linePort: " + linePort + " (expected: 0 while token auth is on: "
                        + "line clients cannot present a token; leave LINE_PORT unset or 0)");
            }
            if (JsonStrings.utf8Length(lineChannel) > maxChannelNameBytes) {
                throw new IllegalArgumentException("lineChannel: '" + lineChannel + "' (expected: at most "
                        + maxChannelNameBytes + " bytes, maxChannelNameBytes)");
            }
            if ((tlsCertFile == null) != (tlsKeyFile == null)) {
                throw new IllegalArgumentException(tlsCertFile == null
                        ? "tlsKeyFile (TLS_KEY_FILE): " + tlsKeyFile + " without tlsCertFile (TLS_CERT_FILE); "
                                + "expected: both, or neither"
                        : "tlsCertFile (TLS_CERT_FILE): " + tlsCertFile + " without tlsKeyFile (TLS_KEY_FILE); "
                                + "expected: both, or neither");
            }
            if (outboundHardLimitBytes <= outboundSoftLimitBytes) {
                throw new IllegalArgumentException("outboundHardLimitBytes: " + outboundHardLimitBytes
                        + " (expected: > outboundSoftLimitBytes, " + outboundSoftLimitBytes + ")");
            }
            return new SwitchboardConfig(this);
        }

        private static int checkRange(String name, int value, int min, int max) {
            if (value < min || value > max) {
                throw new IllegalArgumentException(name + ": " + value + " (expected: " + min + " to " + max + ")");
            }
            return value;
        }

        private static Duration checkPositive(String name, Duration value) {
            Objects.requireNonNull(value, name);
            if (value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(name + ": " + value + " (expected: > 0)");
            }
            return value;
        }
    }

    private static String buildVersion() {
        String v = SwitchboardConfig.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }
}
