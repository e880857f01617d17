package io.switchboard.server;

import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The randomchat scenarios on one node with the embedded store (SQLite), and what only it does. */
@Timeout(60)
class RandomchatIT extends RandomchatScenarios {

    private static final AtomicInteger OWN = new AtomicInteger();
    @TempDir
    static Path data;
    private static SwitchboardServer server;

    @BeforeAll
    static void start() {
        server = Requests.startOnLoopback(SwitchboardConfig.builder().dataDir(data)
                .randomchatMaxChatsPerUser(MAX_OWNED).randomchatMaxAddedChatsPerUser(MAX_ADDED));
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

    @Override
    List<SwitchboardServer> sharedNodes() {
        return List.of(server);
    }

    @Override
    Nodes startNodes(UnaryOperator<SwitchboardConfig.Builder> tune) {
        return new Nodes(List.of(Requests.startOnLoopback(tune.apply(SwitchboardConfig.builder()
                .dataDir(data.resolve("own-" + OWN.incrementAndGet())).randomchatMaxChatsPerUser(MAX_OWNED)
                .randomchatMaxAddedChatsPerUser(MAX_ADDED)))));
    }

    /** The data directory is a file: the store cannot be opened. */
    @Override
    Nodes startNodesWithTheStoreDown() {
        try {
            Path notADirectory = Files.createFile(data.resolve("file-" + OWN.incrementAndGet()));
            return new Nodes(List.of(Requests.startOnLoopback(SwitchboardConfig.builder().dataDir(notADirectory))));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void keepsItsDataInOneFileOfTheDataDirectory() {
        register("Ann", "ann");
        assertTrue(Files.exists(data.resolve("randomchat.db")));
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
