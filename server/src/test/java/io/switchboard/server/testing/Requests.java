package io.switchboard.server.testing;

import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.SwitchboardServer;

/** The minichats requests tests send, and a node on loopback to send them to. */
public final class Requests {

    private Requests() {
    }

    public static String subscribe(String channel) {
        return "{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"" + channel + "\"}}";
    }

    public static String unsubscribe(String channel) {
        return "{\"action\":\"unsubscribe\",\"params\":{\"channel_name\":\"" + channel + "\"}}";
    }

    /** A publish of {@code content}, raw JSON. */
    public static String publish(String channel, String content) {
        return "{\"action\":\"publish\",\"params\":{\"channel_name\":\"" + channel + "\",\"content\":" + content + "}}";
    }

    /** Starts a node with {@code config} on 127.0.0.1 and an ephemeral port. */
    public static SwitchboardServer startOnLoopback(SwitchboardConfig.Builder config) {
        SwitchboardServer server = SwitchboardServer.create(config.host("127.0.0.1").port(0).build());
        server.start().join();
        return server;
    }
}
