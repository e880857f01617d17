package io.switchboard.server;

import io.switchboard.server.testing.RawClient;
import io.switchboard.server.testing.Requests;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.net.InetSocketAddress;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A client's close frame is answered as RFC 6455 section 7.4 and docs/guarantees.md say: a valid
 * status is echoed, an invalid one gets 1002, an invalid UTF-8 reason 1007, and then the server
 * closes the connection (issue 15: some got a bare TCP close, 5000 and 65535 were echoed).
 */
@Timeout(60)
public class CloseCodesIT {

    private static SwitchboardServer server;
    private static InetSocketAddress address;

    @BeforeAll
    static void start() {
        server = Requests.startOnLoopback(SwitchboardConfig.builder());
        address = server.localAddress();
    }

    @AfterAll
    static void stop() {
        server.stop().join();
    }

    @ParameterizedTest(name = "close {0} is answered with {1}")
    @CsvSource({
            "999, 1002",
            "1000, 1000",
            "1001, 1001",
            "1004, 1002",
            "1005, 1002",
            "1006, 1002",
            "1011, 1011",
            "1015, 1002",
            "1016, 1002",
            "2999, 1002",
            "3000, 3000",
            "4999, 4999",
            "5000, 1002",
            "65535, 1002",
    })
    void answersAClosesStatusWithTheRightCode(int sent, int expected) throws IOException {
        try (RawClient c = connected()) {
            c.sendFrame(RawClient.CLOSE, true, new byte[] {(byte) (sent >>> 8), (byte) sent, 'b', 'y', 'e'});
            RawClient.Frame answer = c.readFrame();
            assertEquals(RawClient.CLOSE, answer.opcode());
            assertEquals(expected, answer.closeCode());
            if (sent == expected) {
                assertEquals("bye", answer.closeReason(), "a valid close is echoed, reason included");
            }
            assertTrue(c.isClosedByServer());
        }
    }

    @Test
    void answersAnInvalidUtf8ReasonWith1007() throws IOException {
        try (RawClient c = connected()) {
            c.sendFrame(RawClient.CLOSE, true, new byte[] {0x03, (byte) 0xE8, 'a', (byte) 0xC3, 0x28});
            RawClient.Frame answer = c.readFrame();
            assertEquals(RawClient.CLOSE, answer.opcode());
            assertEquals(1007, answer.closeCode());
            assertTrue(c.isClosedByServer());
        }
    }

    @Test
    void answersAOneByteCloseBodyWithAnError() throws IOException {
        try (RawClient c = connected()) {
            c.sendFrame(RawClient.CLOSE, true, new byte[] {0x03});
            RawClient.Frame answer = c.readFrame();
            assertEquals(RawClient.CLOSE, answer.opcode());
            assertEquals(1002, answer.closeCode());
            assertTrue(c.isClosedByServer());
        }
    }

    @Test
    void echoesAnEmptyClose() throws IOException {
        try (RawClient c = connected()) {
            c.sendFrame(RawClient.CLOSE, true, new byte[0]);
            RawClient.Frame answer = c.readFrame();
            assertEquals(RawClient.CLOSE, answer.opcode());
            assertArrayEquals(new byte[0], answer.payload(), "no status: 1005 must not be sent (RFC 6455 7.4.1)");
            assertTrue(c.isClosedByServer());
        }
    }

    @Test
    void answersInvalidUtf8InATextMessageWith1007() throws IOException {
        double before = Requests.metric(server, "switchboard_closes_total{reason=\"invalid_utf8\"}");
        try (RawClient c = connected()) {
            c.sendFrame(RawClient.TEXT, true, new byte[] {'{', (byte) 0xC3, 0x28, '}'});
            RawClient.Frame answer = c.readFrame();
            assertEquals(RawClient.CLOSE, answer.opcode());
            assertEquals(1007, answer.closeCode());
            assertTrue(c.isClosedByServer());
        }
        assertEquals(before + 1, Requests.metric(server, "switchboard_closes_total{reason=\"invalid_utf8\"}"));
    }

    @Test
    void answersAReservedOpcodeWith1002() throws IOException {
        double before = Requests.metric(server, "switchboard_closes_total{reason=\"protocol_error\"}");
        try (RawClient c = connected()) {
            c.sendFrame(0x3, true, new byte[] {1});
            RawClient.Frame answer = c.readFrame();
            assertEquals(RawClient.CLOSE, answer.opcode());
            assertEquals(1002, answer.closeCode());
            assertTrue(c.isClosedByServer());
        }
        assertEquals(before + 1, Requests.metric(server, "switchboard_closes_total{reason=\"protocol_error\"}"));
    }

    private static RawClient connected() throws IOException {
        RawClient c = new RawClient(address);
        assertTrue(c.upgrade("/api/connect?client_name=Closer").startsWith("HTTP/1.1 101 "));
        c.readText(); // the ok
        return c;
    }
}
