package io.switchboard.server.internal;

import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.Transport;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SettingsTest {

    @Test
    void usesTheDefaultsWithNothingSet() {
        SwitchboardConfig c = Settings.load(Map.of(), new String[0]);
        assertEquals("0.0.0.0", c.host());
        assertEquals(3501, c.port());
        assertEquals("dev", c.environment());
        assertEquals(Transport.AUTO, c.transport());
        assertEquals(65536, c.maxMessageBytes());
        assertEquals(128, c.maxChannelNameBytes());
        assertEquals(64, c.maxClientNameBytes());
        assertEquals(1000, c.maxSubscriptionsPerConnection());
        assertEquals(32, c.maxJsonDepth());
        assertEquals(Duration.ofSeconds(10), c.shutdownTimeout());
    }

    /** dialects.md, "line": the application serves the line chat on 8888, the library's builder on no port. */
    @Test
    void theApplicationOpensTheLinePortAndTheLibraryDoesNot() {
        assertEquals(8888, Settings.load(Map.of(), new String[0]).linePort());
        assertEquals(0, SwitchboardConfig.builder().build().linePort());
    }

    @Test
    void readsTheEnvironmentAndLetsFlagsWin() {
        SwitchboardConfig c = Settings.load(
                Map.of("APP_PORT", "4000", "APP_HOST", "127.0.0.1", "APP_VERSION", "1.2.3", "APP_ENVIRONMENT", "prod",
                        "LOG_DEBUG", "true", "TRANSPORT", "nio", "SHUTDOWN_TIMEOUT", "500ms"),
                new String[] {"--app-port", "4001", "--max-message-bytes=2048", "--handshake-timeout", "PT3S"});
        assertEquals(4001, c.port());
        assertEquals("127.0.0.1", c.host());
        assertEquals("1.2.3", c.version());
        assertEquals("prod", c.environment());
        assertTrue(c.logDebug());
        assertEquals(Transport.NIO, c.transport());
        assertEquals(Duration.ofMillis(500), c.shutdownTimeout());
        assertEquals(2048, c.maxMessageBytes());
        assertEquals(Duration.ofSeconds(3), c.handshakeTimeout());
    }

    /** Token auth (issue 19): its settings, a secret never repeated in an error, and the line port closed. */
    @Test
    void readsTokenAuthSettingsAndRefusesTheLinePortBesideThem() {
        String secret = "0123456789abcdef0123456789abcdef";
        SwitchboardConfig c = Settings.load(Map.of("JWT_HMAC_SECRET", secret, "JWT_AUDIENCE", "chat",
                "JWT_ISSUER", "https://login.example", "JWT_COOKIE", "sb", "JWT_LEEWAY", "0", "LINE_PORT", "0",
                "JWT_JWKS_FILE", "/etc/jwks.json"), new String[0]);
        assertTrue(c.tokenAuthEnabled());
        assertEquals(secret, c.jwtHmacSecret());
        assertEquals("chat", c.jwtAudience());
        assertEquals("https://login.example", c.jwtIssuer());
        assertEquals("sb", c.jwtCookie());
        assertEquals(Duration.ZERO, c.jwtLeeway());
        assertEquals(Path.of("/etc/jwks.json"), c.jwtJwksFile());
        assertTrue(c.toString().contains("jwtHmacSecret=(set)") && !c.toString().contains(secret), c.toString());
        assertEquals(Duration.ofSeconds(30), Settings.load(Map.of(), new String[0]).jwtLeeway());

        IllegalArgumentException shortSecret = assertThrows(IllegalArgumentException.class,
                () -> Settings.load(Map.of("JWT_HMAC_SECRET", "too-short-a-secret"), new String[0]));
        assertEquals("JWT_HMAC_SECRET=...: jwtHmacSecret: 18 bytes (expected: at least 32, RFC 7518 section 3.2)",
                shortSecret.getMessage());
        // The application's line chat is off with token auth unless LINE_PORT asks for it, which is refused.
        assertFalse(Settings.load(Map.of("JWT_HMAC_SECRET", secret), new String[0]).lineEnabled());
        IllegalArgumentException line = assertThrows(IllegalArgumentException.class,
                () -> Settings.load(Map.of("JWT_HMAC_SECRET", secret, "LINE_PORT", "8888"), new String[0]));
        assertTrue(line.getMessage().contains("linePort: 8888 (expected: 0 while token auth is on: line clients "
                + "cannot present a token; leave LINE_PORT unset or 0)"), line.getMessage());
    }

    /** --help says what README and the node do: only the disposable /ws refuses an upgrade without Origin (issue 20). */
    @Test
    void helpSaysWhereAMissingOriginIsRefused() {
        assertTrue(Settings.usage().contains("browser origins allowed to connect (another Origin: 403; no Origin header: "
                + "allowed, except at the disposable /ws) [ACCEPTED_ORIGIN, default none: any origin]"), Settings.usage());
    }

    /** --help reads each default from the builder (issue 16), written the way a user writes the value. */
    @Test
    void helpPrintsTheBuildersDefaults() {
        String usage = Settings.usage();
        SwitchboardConfig builder = SwitchboardConfig.builder().build();
        for (String expected : List.of("[APP_PORT, default " + builder.port() + "]",
                "[SLOW_CONSUMER_POLICY, default close]", "[OUTBOUND_SOFT_LIMIT_TIME, default 10s]",
                "[OUTBOUND_HARD_LIMIT_BYTES, default " + builder.outboundHardLimitBytes() + "]",
                "[DRAIN_WINDOW, default 0s]", "[RANDOMCHAT_PENDING_TTL, default 30d]",
                "[API_KEY, default none: the HTTP API is off]", "[REDIS_SECRET, default none]",
                "[IO_THREADS, default " + builder.ioThreads() + " (number of CPUs)]",
                "[APP_VERSION, default " + SwitchboardConfig.BUILD_VERSION + " (the build's version)]",
                "[LINE_PORT, default 8888]", "[DATA_DIR, default ./data]")) {
            assertTrue(usage.contains(expected), expected + " in\n" + usage);
        }
    }

    @Test
    void formatsValuesTheWayTheyAreWritten() {
        assertEquals("none", Settings.format(null));
        assertEquals("none", Settings.format(List.of()));
        assertEquals("a,b", Settings.format(List.of("a", "b")));
        assertEquals("0s", Settings.format(Duration.ZERO));
        assertEquals("60s", Settings.format(Duration.ofMinutes(1)));
        assertEquals("30d", Settings.format(Duration.ofDays(30)));
        assertEquals("500ms", Settings.format(Duration.ofMillis(500)));
        assertEquals("PT0.0000005S", Settings.format(Duration.ofNanos(500)));
        assertEquals("auto", Settings.format(Transport.AUTO));
        assertEquals("./data", Settings.format(Path.of("data")));
        assertEquals("./data", Settings.format(Path.of("./data")));
        assertEquals(Path.of("/var/lib/x").toString(), Settings.format(Path.of("/var/lib/x")));
        for (String written : List.of("0s", "60s", "30d", "500ms", "PT0.0000005S")) {
            assertEquals(written, Settings.format(Settings.parseDuration(written)), "round trip of " + written);
        }
    }

    @Test
    void refusesUnknownFlagsAndMalformedValuesWithAClearMessage() {
        assertMessage("unknown option '--port'", Map.of(), "--port", "1");
        assertMessage("option --app-port needs a value (PORT)", Map.of(), "--app-port");
        assertMessage("--app-port abc: 'abc' is not a whole number", Map.of(), "--app-port", "abc");
        assertMessage("--app-port 70000: port: 70000 (expected: 0 to 65535)", Map.of(), "--app-port", "70000");
        assertMessage("APP_PORT=-1: port: -1 (expected: 0 to 65535)", Map.of("APP_PORT", "-1"));
        assertMessage("LOG_DEBUG=maybe: 'maybe' is not a boolean (expected: true or false)",
                Map.of("LOG_DEBUG", "maybe"));
        assertMessage("--transport=kqueue: 'kqueue' is not a transport (expected: auto, epoll, io_uring or nio)",
                Map.of(), "--transport=kqueue");
        assertMessage("--shutdown-timeout 0s: shutdownTimeout: PT0S (expected: > 0)", Map.of(),
                "--shutdown-timeout", "0s");
        assertMessage("--shutdown-timeout soon: 'soon' is not a duration (expected: e.g. 500ms, 10s, 2m)", Map.of(),
                "--shutdown-timeout", "soon");
    }

    @Test
    void listsEverySettingInTheUsage() {
        String usage = Settings.usage();
        for (Settings.Setting s : Settings.ALL) {
            assertTrue(usage.contains(s.flag()) && usage.contains("[" + s.env() + ", default "), s.env());
        }
    }

    private static void assertMessage(String expected, Map<String, String> env, String... args) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Settings.load(env, args));
        assertEquals(expected, e.getMessage());
    }
}
