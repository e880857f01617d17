package io.switchboard.server.testing;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A WebSocket client on a plain socket, for what a well-behaved client library will not send:
 * invalid UTF-8, over-size and fragmented frames, raw HTTP handshakes. Reads block for at most
 * {@link JdkClient#WAIT}.
 */
public final class RawClient implements AutoCloseable {

    public static final int TEXT = 0x1;
    public static final int BINARY = 0x2;
    public static final int CONTINUATION = 0x0;
    public static final int CLOSE = 0x8;
    public static final int PING = 0x9;
    public static final int PONG = 0xA;

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    /** A received frame; {@code rsv} is its RSV1-3 bits (0x4 is RSV1: compressed, RFC 7692). */
    public record Frame(int opcode, byte[] payload, int rsv) {
        public Frame(int opcode, byte[] payload) {
            this(opcode, payload, 0);
        }

        public String text() {
            return new String(payload, StandardCharsets.UTF_8);
        }

        /** The status code of a close frame. */
        public int closeCode() {
            return ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
        }

        /** The reason of a close frame. */
        public String closeReason() {
            return new String(payload, 2, payload.length - 2, StandardCharsets.UTF_8);
        }
    }

    public RawClient(InetSocketAddress address) throws IOException {
        this(address, 0);
    }

    /** @param receiveBufferBytes the socket's receive buffer (SO_RCVBUF), or 0 for the system's */
    public RawClient(InetSocketAddress address, int receiveBufferBytes) throws IOException {
        this(address, receiveBufferBytes, null);
    }

    /** Over an already connected socket, e.g. a handshaken TLS socket ({@code TestPki.connect}). */
    public RawClient(Socket connected) throws IOException {
        socket = connected;
        socket.setSoTimeout((int) JdkClient.WAIT.toMillis());
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** @param localHost the address to connect from, e.g. {@code 127.0.0.2}; {@code null}: any */
    public RawClient(InetSocketAddress address, int receiveBufferBytes, String localHost) throws IOException {
        socket = new Socket();
        if (receiveBufferBytes > 0) {
            socket.setReceiveBufferSize(receiveBufferBytes);
        }
        if (localHost != null) {
            socket.bind(new InetSocketAddress(localHost, 0));
        }
        socket.connect(new InetSocketAddress("127.0.0.1", address.getPort()));
        socket.setSoTimeout((int) JdkClient.WAIT.toMillis());
        in = new DataInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** The client's port: the node sees it as the connection's remote port. */
    public int localPort() {
        return socket.getLocalPort();
    }

    /** Sends raw bytes, e.g. an HTTP request. */
    public void write(String raw) throws IOException {
        out.write(raw.getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** A WebSocket upgrade request for {@code target}, as a browser would send it. */
    public static String upgradeRequest(String target) {
        return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    }

    /** Sends an upgrade request for {@code target} and returns the response head (status line and headers). */
    public String upgrade(String target) throws IOException {
        write(upgradeRequest(target));
        return readHead();
    }

    /** Reads an HTTP response head, up to the blank line. */
    public String readHead() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new EOFException("connection closed in the response head: " + head);
            }
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.UTF_8);
    }

    /** Reads exactly {@code length} bytes, e.g. an HTTP response body, as UTF-8. */
    public String readUtf8(int length) throws IOException {
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Reads everything up to the end of the stream (for a response whose server closes). */
    public String readToEnd() throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }

    /** Sends raw bytes in one write, e.g. an upgrade request and a frame in one packet. */
    public void write(byte[] raw) throws IOException {
        out.write(raw);
        out.flush();
    }

    /** Sends one masked frame, as a client must. */
    public void sendFrame(int opcode, boolean fin, byte[] payload) throws IOException {
        write(maskedFrame(opcode, fin, payload));
    }

    /** One masked frame as a client sends it, header included. */
    public static byte[] maskedFrame(int opcode, boolean fin, byte[] payload) {
        ByteArrayOutputStream frame = new ByteArrayOutputStream(payload.length + 14);
        frame.write((fin ? 0x80 : 0) | opcode);
        if (payload.length <= 125) {
            frame.write(0x80 | payload.length);
        } else if (payload.length <= 0xFFFF) {
            frame.write(0x80 | 126);
            frame.write(payload.length >>> 8);
            frame.write(payload.length);
        } else {
            frame.write(0x80 | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                frame.write((int) ((long) payload.length >>> shift));
            }
        }
        byte[] mask = new byte[4];
        ThreadLocalRandom.current().nextBytes(mask);
        frame.write(mask, 0, mask.length);
        for (int i = 0; i < payload.length; i++) {
            frame.write(payload[i] ^ mask[i % 4]);
        }
        return frame.toByteArray();
    }

    public void sendText(String text) throws IOException {
        sendFrame(TEXT, true, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Reads one frame (server frames are unmasked). */
    public Frame readFrame() throws IOException {
        int b0 = in.readUnsignedByte();
        int b1 = in.readUnsignedByte();
        if ((b1 & 0x80) != 0) {
            throw new IOException("server frames must not be masked");
        }
        long length = b1 & 0x7F;
        if (length == 126) {
            length = in.readUnsignedShort();
        } else if (length == 127) {
            length = in.readLong();
        }
        byte[] payload = new byte[(int) length];
        in.readFully(payload);
        if ((b0 & 0x80) == 0) {
            throw new IOException("this client does not expect fragmented server frames");
        }
        return new Frame(b0 & 0x0F, payload, (b0 >> 4) & 0x7);
    }

    /** Reads frames until a text frame and returns its text. */
    public String readText() throws IOException {
        Frame f = readFrame();
        if (f.opcode() != TEXT) {
            throw new IOException("expected a text frame, got opcode " + f.opcode()
                    + (f.opcode() == CLOSE ? " (close " + f.closeCode() + " " + f.closeReason() + ")" : ""));
        }
        return f.text();
    }

    /**
     * Whether the server has closed the TCP connection: reads to the end, or to a reset, for at
     * most {@link JdkClient#WAIT}.
     */
    public boolean isClosedByServer() throws IOException {
        InputStream s = socket.getInputStream();
        try {
            while (s.read() >= 0) {
                // drain
            }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (java.net.SocketException e) {
            // A reset: the server closed with bytes of ours still unread (the rest of an over-size frame).
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
