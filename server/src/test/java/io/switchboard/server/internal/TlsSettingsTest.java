package io.switchboard.server.internal;

import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.TlsProvider;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TLS_CERT_FILE, TLS_KEY_FILE and TLS_PROVIDER (issue 19): parsed, defaulted, refused together. */
class TlsSettingsTest {

    @Test
    void plainByDefaultAndAutoProvider() {
        SwitchboardConfig c = Settings.load(Map.of(), new String[0]);
        assertNull(c.tlsCertFile());
        assertNull(c.tlsKeyFile());
        assertEquals(TlsProvider.AUTO, c.tlsProvider());
        String usage = Settings.usage();
        assertTrue(usage.contains("[TLS_CERT_FILE, default none: plain HTTP and WebSocket]"), usage);
        assertTrue(usage.contains("[TLS_PROVIDER, default auto]"), usage);
    }

    @Test
    void readsTheFilesAndTheProviderFromTheEnvironmentAndFlags() {
        SwitchboardConfig c = Settings.load(Map.of("TLS_CERT_FILE", "/etc/node.crt", "TLS_KEY_FILE", "/etc/node.key"),
                new String[] {"--tls-provider", "openssl"});
        assertEquals(Path.of("/etc/node.crt"), c.tlsCertFile());
        assertEquals(Path.of("/etc/node.key"), c.tlsKeyFile());
        assertEquals(TlsProvider.OPENSSL, c.tlsProvider());
        assertTrue(c.toString().contains("tlsCertFile=/etc/node.crt, tlsKeyFile=/etc/node.key, tlsProvider=OPENSSL"));
    }

    @Test
    void refusesOneFileWithoutTheOtherAndAnUnknownProvider() {
        assertEquals("tlsKeyFile (TLS_KEY_FILE): k.pem without tlsCertFile (TLS_CERT_FILE); expected: both, or neither",
                assertThrows(IllegalArgumentException.class,
                        () -> Settings.load(Map.of("TLS_KEY_FILE", "k.pem"), new String[0])).getMessage());
        assertEquals("--tls-provider=boring: 'boring' is not a tls provider (expected: auto, jdk or openssl)",
                assertThrows(IllegalArgumentException.class,
                        () -> Settings.load(Map.of(), new String[] {"--tls-provider=boring"})).getMessage());
    }
}
