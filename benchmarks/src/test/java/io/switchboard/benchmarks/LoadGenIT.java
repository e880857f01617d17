package io.switchboard.benchmarks;

import io.switchboard.benchmarks.loadgen.LoadGen;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.SwitchboardServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A few seconds of loadgen against a real node: the tool works and the node loses nothing. */
@Timeout(60)
class LoadGenIT {

    private static final Pattern RESULT = Pattern.compile(
            "\\{\"subscribers\":(\\d+),.*\"deliveries_per_s\":(\\d+),\"publishes_per_s\":(\\d+),.*"
                    + "\"errors\":(\\d+),\"missing\":(\\d+),\"duplicates\":(\\d+)}");

    private static SwitchboardServer server;
    private static String url;

    @BeforeAll
    static void start() {
        server = SwitchboardServer.create(SwitchboardConfig.builder().host("127.0.0.1").port(0).build());
        server.start().join();
        url = "ws://127.0.0.1:" + server.localAddress().getPort() + "/api/connect";
    }

    @AfterAll
    static void stop() {
        server.stop().join();
    }

    @Test
    void deliversEveryPublishAtAFixedRate() throws Exception {
        Matcher m = run("--url", url, "--subscribers", "40", "--channels", "4", "--publishers", "2",
                "--rate", "400", "--duration", "2", "--warmup", "1", "--json");
        assertEquals("40", m.group(1));
        assertTrue(Long.parseLong(m.group(2)) > 0, "deliveries/s");
        assertTrue(Long.parseLong(m.group(3)) > 0, "publishes/s");
        assertEquals("0", m.group(4), "errors");
        assertEquals("0", m.group(5), "missing");
        assertEquals("0", m.group(6), "duplicates");
    }

    @Test
    void deliversEveryPublishAtMaxRate() throws Exception {
        Matcher m = run("--url", url, "--subscribers", "20", "--publishers", "1", "--window", "8",
                "--duration", "1", "--warmup", "1", "--size", "256", "--json");
        assertTrue(Long.parseLong(m.group(2)) > 0, "deliveries/s");
        assertEquals("0", m.group(5), "missing");
        assertEquals("0", m.group(6), "duplicates");
    }

    @Test
    void refusesBadOptionsWithExitCode2() throws Exception {
        assertEquals(2, LoadGen.run(new String[] {"--publishers", "3", "--channels", "2"}, System.out));
        assertEquals(2, LoadGen.run(new String[] {"--bogus", "1"}, System.out));
    }

    private static Matcher run(String... args) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int exit = LoadGen.run(args, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, exit, out);
        Matcher m = RESULT.matcher(out);
        assertTrue(m.find(), out);
        return m;
    }
}
