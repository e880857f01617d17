package io.switchboard.benchmarks.loadgen;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * loadgen's NATS protocol against a real nats-server over WebSocket, started by the test when one
 * is installed (Debian's nats-server; .ci/run installs it) and skipped with the reason otherwise.
 * The server pings every second and drops a client after one unanswered ping, so a run that lasts
 * longer than that also proves loadgen answers PING with PONG.
 */
@Timeout(60)
class LoadGenNatsIT {

    /** nats-server's log once it listens: the websocket port it bound, then "Server is ready". */
    private static final Pattern READY = Pattern.compile(
            "Listening for websocket clients on ws://127\\.0\\.0\\.1:(\\d+)(?s:.*)Server is ready");

    private static Process nats;
    private static Path dir;
    private static String url;

    @BeforeAll
    static void start() throws Exception {
        String binary = findOnPath("nats-server");
        if (binary == null) {
            System.out.println("LoadGenNatsIT skipped: no nats-server on PATH (apt-get install nats-server)");
            Assumptions.abort("no nats-server on PATH");
        }
        dir = Files.createTempDirectory("loadgen-nats");
        Path conf = dir.resolve("nats.conf");
        Path log = dir.resolve("nats.log");
        // -1: nats-server binds a port of the system's choosing and logs it.
        Files.writeString(conf, "listen: \"127.0.0.1:-1\"\nping_interval: \"1s\"\nping_max: 1\n"
                + "websocket {\n  listen: \"127.0.0.1:-1\"\n  no_tls: true\n  compression: false\n}\n");
        nats = new ProcessBuilder(binary, "-c", conf.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        Matcher ready;
        while (!(ready = READY.matcher(Files.readString(log))).find()) {
            if (System.nanoTime() > deadline || !nats.isAlive()) {
                throw new IllegalStateException("nats-server did not start: " + Files.readString(log));
            }
            Thread.sleep(50); // polling its log for "Server is ready", bounded above; nothing is decided by time
        }
        int port = Integer.parseInt(ready.group(1));
        url = "ws://127.0.0.1:" + port + "/";
    }

    @AfterAll
    static void stop() throws Exception {
        if (nats != null) {
            nats.destroy();
            if (!nats.waitFor(10, TimeUnit.SECONDS)) {
                nats.destroyForcibly().waitFor();
            }
            System.out.println(Files.readString(dir.resolve("nats.log")));
        }
    }

    @Test
    void deliversEveryMessageAtAFixedRateAndAnswersPings() {
        Map<String, Object> r = LoadGenIT.runOk("--protocol", "nats", "--url", url, "--subscribers", "20",
                "--channels", "4", "--publishers", "2", "--rate", "400", "--duration", "3", "--warmup", "1",
                "--size", "200");
        assertEquals("nats", r.get("protocol"));
        LoadGenIT.assertDeliveredAll(r);
    }

    @Test
    void deliversEveryMessageAtMaxRate() {
        Map<String, Object> r = LoadGenIT.runOk("--protocol", "nats", "--url", url, "--subscribers", "10",
                "--window", "16", "--duration", "1", "--warmup", "1", "--size", "3000", "--channel-prefix", "big");
        LoadGenIT.assertDeliveredAll(r);
    }

    private static String findOnPath(String name) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            File f = new File(d, name);
            if (f.canExecute()) {
                return f.getPath();
            }
        }
        return null;
    }
}
