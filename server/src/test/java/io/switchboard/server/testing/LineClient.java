package io.switchboard.server.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A line chat client on a plain socket, as {@code nc} would be: writes bytes, reads lines ending in
 * {@code \n} (returned without it). Every read is bounded.
 */
public final class LineClient implements AutoCloseable {

    /** How long a read waits, in milliseconds, unless told otherwise. */
    public static final int WAIT_MILLIS = 10_000;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    /** The line read so far: kept when a {@link #poll} times out in the middle of it. */
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    public LineClient(InetSocketAddress address) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", address.getPort()), WAIT_MILLIS);
        socket.setSoTimeout(WAIT_MILLIS);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    /** This client's id as the server sees it: {@code address:port}. */
    public String id() {
        return "127.0.0.1:" + socket.getLocalPort();
    }

    /** Connects and reads the three welcome lines; returns the client. */
    public static LineClient join(InetSocketAddress address) throws IOException {
        LineClient c = new LineClient(address);
        c.readLine();
        c.readLine();
        c.readLine();
        return c;
    }

    public void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Sends {@code text} followed by {@code \r\n}, as telnet does. */
    public void send(String text) throws IOException {
        write((text + "\r\n").getBytes(StandardCharsets.UTF_8));
    }

    /** The next line, without its {@code \n}; fails when none comes within the wait or the server closed. */
    public String readLine() throws IOException {
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new AssertionError("closed by the server after '" + line.toString(StandardCharsets.UTF_8) + "'");
            }
            line.write(b);
        }
        String text = line.toString(StandardCharsets.UTF_8);
        line.reset();
        return text;
    }

    /**
     * The next line, or {@code null} once a read waited {@code millis} in vain; what came of the
     * line so far is kept for the next read, so polling never loses a line.
     */
    public String poll(int millis) throws IOException {
        socket.setSoTimeout(millis);
        try {
            return readLine();
        } catch (SocketTimeoutException e) {
            return null;
        } finally {
            socket.setSoTimeout(WAIT_MILLIS);
        }
    }

    /** Whether the server closed the connection (reads to the end; fails on a timeout). */
    public boolean isClosedByServer() throws IOException {
        return in.read() < 0;
    }

    /** Drops the connection at once (RST), as a crashed client would. */
    public void abort() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
