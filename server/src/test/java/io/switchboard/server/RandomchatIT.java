package io.switchboard.server;

import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The randomchat scenarios on one node with the embedded store, and what only it does. */
@Timeout(60)
class RandomchatIT extends RandomchatScenarios {

    @TempDir
    static Path data;
    private static SwitchboardServer server;

    @BeforeAll
    static void start() {
        server = Requests.startOnLoopback(SwitchboardConfig.builder().dataDir(data));
    }

    @AfterAll
    static void stop() {
        server.stop().join();
    }

    @AfterEach
    void closeClients() {
        closeAll();
    }

    @Override
    InetSocketAddress address() {
        return server.localAddress();
    }

    @Test
    void keepsItsDataInOneFileOfTheDataDirectory() {
        register("Ann", "ann");
        assertTrue(Files.exists(data.resolve("randomchat.db")));
    }

    @Test
    void openLoginLetsAPhoneInWithoutItsToken(@TempDir Path dir) {
        try (SwitchboardServer open = Requests.startOnLoopback(SwitchboardConfig.builder().dataDir(dir)
                .randomchatOpenLogin(true))) {
            Person ann = register(open.localAddress(), "Ann", "ann");
            var c = open(open.localAddress());
            clients.add(c);
            c.send(registerRequest("Ann B.", ann.phone(), null));
            assertEquals(state(), c.next());
        }
    }

    @Test
    void isOffWithoutADataDirectoryInTheLibrary() throws Exception {
        try (SwitchboardServer off = Requests.startOnLoopback(SwitchboardConfig.builder())) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                    "http://127.0.0.1:" + off.localAddress().getPort() + "/randomchat")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(404, r.statusCode());
            assertEquals("The randomchat dialect is off: it needs DATA_DIR (or REDIS_ENDPOINT)\n", r.body());
        }
    }
}
