package io.switchboard.server;

import io.switchboard.server.internal.Settings;
import io.switchboard.server.internal.transport.Tls;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The runnable node: {@code java -jar switchboard.jar [options]}. Reads the environment and flags
 * ({@code --help} lists them), starts a {@link SwitchboardServer} and stops it gracefully on
 * SIGTERM or SIGINT.
 */
public final class Main {

    private Main() {
    }

    /**
     * Netty's object pools (Recycler) off: a fan-out takes one duplicate and one outbound entry
     * per delivery, and a pooled object comes back from the far end of a per-thread queue, cold,
     * while a new one comes from the thread's allocation buffer, warm. Measured end to end the
     * pools cost the fan-out 2.3 times its throughput at the sizes set before (a 65,536-object
     * queue) and 20 to 35% at Netty's own (4,096); the garbage instead is young and dies at the
     * flush (docs/benchmarks.md, "The recycler"). Set before any Netty class loads; a value given
     * with -D wins.
     */
    static final String[][] NETTY_DEFAULTS = {
            {"io.netty.recycler.maxCapacityPerThread", "0"},
    };

    public static void main(String[] args) {
        for (String[] property : NETTY_DEFAULTS) {
            if (System.getProperty(property[0]) == null) {
                System.setProperty(property[0], property[1]);
            }
        }
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            System.out.print(Settings.usage());
            return;
        }
        if (Arrays.asList(args).contains("--version")) {
            System.out.println("switchboard " + SwitchboardConfig.BUILD_VERSION);
            return;
        }
        SwitchboardConfig config;
        try {
            config = Settings.load(System.getenv(), args);
        } catch (IllegalArgumentException e) {
            System.err.println("switchboard: " + e.getMessage());
            System.err.println("Run with --help to list the options.");
            System.exit(2);
            return;
        }
        configureLogging(config);
        // The logger is created only now, so that the logging setup above applies to it.
        Logger logger = LoggerFactory.getLogger(Main.class);

        SwitchboardServer server;
        try {
            server = SwitchboardServer.create(config);
        } catch (IllegalArgumentException | IllegalStateException e) {
            // Token auth's key files unusable, or nimbus-jose-jwt missing (issue 19).
            System.err.println("switchboard: " + e.getMessage());
            System.exit(2);
            return;
        }
        CompletableFuture<Void> started;
        try {
            started = server.start();
        } catch (TransportUnavailableException | TlsUnavailableException e) {
            System.err.println("switchboard: " + e.getMessage());
            System.exit(2);
            return;
        }
        try {
            started.join();
        } catch (RuntimeException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            logger.error("Cannot listen on {}:{}: {}", config.host(), config.port(), cause.toString());
            System.exit(1);
            return;
        }
        logger.info("Switchboard {} ({}) listening on {}:{} ({}, {} event loops{})", config.version(),
                config.environment(), config.host(), server.localAddress().getPort(), server.transportName(),
                config.ioThreads(), server.tlsProviderName() == null ? ""
                        : ", TLS only: https:// and wss://, TLS_PROVIDER " + server.tlsProviderName());
        if (server.tlsProviderName() != null) {
            reloadTlsOnSighup(server, logger);
        }
        if (config.apiKey() == null) {
            logger.info("HTTP API off: set API_KEY to enable POST /api/publish and GET /api/channels");
        } else {
            logger.info("HTTP API on: POST /api/publish, GET /api/channels (Authorization: Bearer API_KEY)");
        }
        if (config.redisEndpoint() == null) {
            logger.info("Single node, in memory: set REDIS_ENDPOINT to join a cluster");
        }
        if (config.tokenAuthEnabled()) {
            logger.info("Token auth on: every WebSocket handshake needs a JWT ({})", server.switchboard().node().tokenAuth());
        }
        logger.debug("{}", config);

        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            logger.info("Stopping: sending close 1001 to every client (over {}, then up to {} for them to leave)",
                    config.drainWindow(), config.shutdownTimeout());
            try {
                server.stop().get(config.drainWindow().plus(config.shutdownTimeout()).toMillis() + 5000,
                        TimeUnit.MILLISECONDS);
                logger.info("Stopped");
            } catch (Exception e) {
                logger.warn("Stop did not finish cleanly: {}", e.toString());
            }
        }, "switchboard-shutdown"));
    }

    /**
     * SIGHUP re-reads the TLS certificate and key (issue 19), as nginx and HAProxy do, instead of
     * stopping the JVM. {@code sun.misc.Signal} is reached by reflection: where it is missing (or the
     * JVM runs with {@code -Xrs}) the node says so and relies on its check for changed files.
     */
    private static void reloadTlsOnSighup(SwitchboardServer server, Logger logger) {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handler = Class.forName("sun.misc.SignalHandler");
            Object onHup = java.lang.reflect.Proxy.newProxyInstance(Main.class.getClassLoader(), new Class<?>[] {handler},
                    (proxy, method, args) -> {
                        if (method.getName().equals("handle")) {
                            logger.info("SIGHUP: reloading the TLS certificate");
                            server.reloadTls();
                            return null;
                        }
                        return method.getName().equals("toString") ? "switchboard SIGHUP handler"
                                : method.getName().equals("hashCode") ? System.identityHashCode(proxy)
                                : (Object) (proxy == args[0]);
                    });
            signal.getMethod("handle", signal, handler)
                    .invoke(null, signal.getConstructor(String.class).newInstance("HUP"), onHup);
        } catch (ReflectiveOperationException | RuntimeException e) {
            logger.info("SIGHUP cannot reload the TLS certificate here ({}); changed files are still picked up "
                    + "within {} s", e.toString(), Tls.POLL_SECONDS);
        }
    }

    /**
     * Points logback at the app's configuration, unless the user chose one with
     * {@code -Dlogback.configurationFile}. The library jar ships no {@code logback.xml}, so an
     * embedder's own logging setup is never overridden.
     */
    private static void configureLogging(SwitchboardConfig config) {
        if (System.getProperty("logback.configurationFile") == null) {
            System.setProperty("logback.configurationFile", "switchboard-logback.xml");
        }
        System.setProperty("switchboard.log.level", config.logDebug() ? "DEBUG" : "INFO");
    }
}
