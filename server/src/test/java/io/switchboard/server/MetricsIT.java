package io.switchboard.server;

import io.switchboard.server.testing.JdkClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code GET /metrics}: Prometheus text with what the node did. */
@Timeout(30)
class MetricsIT {

    @Test
    void countsWhatHappened() throws Exception {
        try (SwitchboardServer server = Requests.startOnLoopback(SwitchboardConfig.builder())) {
            try (JdkClient a = JdkClient.connectAs(server.localAddress(), "a");
                 JdkClient b = JdkClient.connectAs(server.localAddress(), "b")) {
                a.request(Requests.subscribe("room"));
                b.request(Requests.subscribe("room"));
                a.request(Requests.publish("room", "1"));
                a.next();
                b.next();
                a.request("{not json");
                a.request("{\"action\":\"dance\"}");

                HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.localAddress().getPort() + "/metrics")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
                assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/plain; version=0.0.4"));
                String text = r.body();
                for (String line : new String[] {
                    "switchboard_websocket_connections 2.0",
                    "switchboard_subscriptions 2.0",
                    "switchboard_channels 1.0",
                    "switchboard_messages_in_total 5.0",
                    "switchboard_deliveries_total 2.0",
                    "switchboard_drops_total 0.0",
                    "switchboard_errors_total{code=\"invalid_json\"} 1.0",
                    "switchboard_errors_total{code=\"unknown_action\"} 1.0",
                    "switchboard_closes_total{reason=\"slow_consumer\"} 0.0",
                    "switchboard_refused_total{reason=\"origin\"} 0.0",
                }) {
                    assertTrue(text.contains("\n" + line + "\n"), line + " in\n" + text);
                }
                assertTrue(text.contains("jvm_memory_used_bytes"), "and the JVM's");
            }
        }
    }
}
