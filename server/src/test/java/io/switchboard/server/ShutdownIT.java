package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A graceful stop: every client told 1001, the goodbyes spread over the drain window. */
@Timeout(30)
class ShutdownIT {

    @Test
    void closesAreSpreadOverTheDrainWindow() {
        Duration window = Duration.ofSeconds(1);
        SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder().drainWindow(window));
        List<JdkClient> clients = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            clients.add(JdkClient.connectAs(server.localAddress(), "c" + i));
        }
        long stopAt = System.nanoTime();
        CompletableFuture<Void> stopped = server.stop();
        long lastClose = 0;
        for (JdkClient c : clients) {
            assertEquals(1001, c.awaitClose());
            lastClose = Math.max(lastClose, System.nanoTime());
        }
        stopped.join();
        // The fifth goodbye is scheduled 4/5 of the window after the stop began: never sooner.
        Duration last = Duration.ofNanos(lastClose - stopAt);
        assertTrue(last.compareTo(window.multipliedBy(4).dividedBy(5)) >= 0, "last goodbye after " + last);
    }
}
