package io.switchboard.server;

import io.switchboard.server.example.HelloApp;
import io.switchboard.server.testing.RawClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

import static io.switchboard.server.testing.Requests.subscribe;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client may send its first frames right behind its upgrade request, in the same packet (RFC
 * 6455 section 4.1 lets a client send once it has the 101; eager clients do not wait): they are
 * served after the greeting, standalone and mounted (issue 15: they were dropped).
 */
@Timeout(60)
public class EarlyFrameIT {

    @Test
    void servesAFrameThatCameInTheUpgradesPacket() throws IOException {
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder());
             RawClient c = new RawClient(server.localAddress())) {
            c.write(upgradeWithFrames("/api/connect?client_name=Eager", subscribe("early")));
            assertTrue(c.readHead().startsWith("HTTP/1.1 101 "));
            assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"Eager\"}}", c.readText());
            assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"early\",\"total_subscribers\":1}}",
                    c.readText());
            c.sendText(subscribe("later"));
            assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"later\",\"total_subscribers\":1}}",
                    c.readText());
        }
    }

    @Test
    void servesSeveralFramesAndAPartOfOneThatCameWithTheUpgrade() throws IOException {
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder());
             RawClient c = new RawClient(server.localAddress())) {
            byte[] third = RawClient.maskedFrame(RawClient.TEXT, true, subscribe("c3").getBytes(StandardCharsets.UTF_8));
            ByteArrayOutputStream first = new ByteArrayOutputStream();
            first.write(upgradeWithFrames("/api/connect?client_name=Eager", subscribe("c1"), subscribe("c2")));
            first.write(third, 0, 5);
            c.write(first.toByteArray());
            assertTrue(c.readHead().startsWith("HTTP/1.1 101 "));
            assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"Eager\"}}", c.readText());
            assertTrue(c.readText().contains("\"channel_name\":\"c1\""));
            assertTrue(c.readText().contains("\"channel_name\":\"c2\""));
            byte[] rest = new byte[third.length - 5];
            System.arraycopy(third, 5, rest, 0, rest.length);
            c.write(rest);
            assertTrue(c.readText().contains("\"channel_name\":\"c3\""));
        }
    }

    @Test
    void aMountedRouterServesAFrameThatCameInTheUpgradesPacket() throws Exception {
        for (boolean aggregator : new boolean[] {true, false}) {
            try (HelloApp app = new HelloApp(Switchboard.builder(SwitchboardConfig.builder().build()).build(), aggregator);
                 RawClient c = new RawClient(app.address())) {
                c.write(upgradeWithFrames("/ws?client_name=Eager", subscribe("early")));
                assertTrue(c.readHead().startsWith("HTTP/1.1 101 "));
                assertEquals("{\"status\":\"ok\",\"info\":{\"client_name\":\"Eager\"}}", c.readText());
                assertEquals("{\"status\":\"ok\",\"info\":{\"channel_name\":\"early\",\"total_subscribers\":1}}",
                        c.readText(), "aggregator: " + aggregator);
            }
        }
    }

    /** An upgrade request for {@code target} followed by a masked text frame per request, as one write. */
    private static byte[] upgradeWithFrames(String target, String... requests) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.write(RawClient.upgradeRequest(target).getBytes(StandardCharsets.US_ASCII));
        for (String request : requests) {
            bytes.write(RawClient.maskedFrame(RawClient.TEXT, true, request.getBytes(StandardCharsets.UTF_8)));
        }
        return bytes.toByteArray();
    }
}
