package io.switchboard.server.testing;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A WebSocket client on the JDK's {@link WebSocket}, a standard client nobody on the team wrote.
 * Collects text messages in order; every wait is bounded.
 */
public final class JdkClient implements AutoCloseable {

    public static final Duration WAIT = Duration.ofSeconds(10);
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final BlockingQueue<String> messages = new LinkedBlockingQueue<>();
    private final CompletableFuture<int[]> closed = new CompletableFuture<>();
    private volatile String closeReason;
    private final WebSocket ws;

    private JdkClient(URI uri) {
        this(HTTP, uri, java.util.Map.of());
    }

    private JdkClient(HttpClient http, URI uri, java.util.Map<String, String> headers) {
        WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(WAIT);
        headers.forEach(builder::header);
        ws = builder.buildAsync(uri, new Listener()).orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS).join();
    }

    /** Connects to {@code uri} with more handshake headers (an {@code Authorization}, a {@code Cookie}). */
    public static JdkClient connect(URI uri, java.util.Map<String, String> headers) {
        return new JdkClient(HTTP, uri, headers);
    }

    /** Connects to {@code uri}, e.g. {@code ws://127.0.0.1:8080/ws?client_name=Ann}. */
    public static JdkClient connect(URI uri) {
        return new JdkClient(uri);
    }

    /** Connects to a {@code wss://} {@code uri}, trusting what {@code tls} trusts. */
    public static JdkClient connect(URI uri, javax.net.ssl.SSLContext tls) {
        return new JdkClient(HttpClient.newBuilder().sslContext(tls).build(), uri, java.util.Map.of());
    }

    /** Connects to {@code ws://address/api/connect} plus {@code query} (may be empty). */
    public static JdkClient connect(InetSocketAddress address, String query) {
        return new JdkClient(URI.create("ws://127.0.0.1:" + address.getPort() + "/api/connect" + query));
    }

    /** Connects and consumes the connection confirmation. */
    public static JdkClient connectAs(InetSocketAddress address, String name) {
        JdkClient c = connect(address, "?client_name=" + name);
        c.next();
        return c;
    }

    public void send(String text) {
        ws.sendText(text, true).orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS).join();
    }

    public void sendBinary(byte[] bytes) {
        ws.sendBinary(ByteBuffer.wrap(bytes), true).orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS).join();
    }

    /** Sends {@code text} and returns the next message. */
    public String request(String text) {
        send(text);
        return next();
    }

    /** The next text message; fails after {@link #WAIT}. */
    public String next() {
        try {
            String m = messages.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            if (m == null) {
                throw new AssertionError("no message within " + WAIT);
            }
            return m;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The next message if one arrives within {@code millis}, else {@code null}. */
    public String poll(long millis) throws InterruptedException {
        return messages.poll(millis, TimeUnit.MILLISECONDS);
    }

    /** Completes with the server's close code when its close frame arrives (fails after {@link #WAIT}). */
    public CompletableFuture<Integer> closed() {
        return closed.orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS).thenApply(c -> c[0]);
    }

    /** Waits for the server's close and returns its status code. */
    public int awaitClose() {
        return closed.orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS).join()[0];
    }

    /** {@code null} while open; else the server's close code and reason, e.g. {@code 1008 slow consumer}. */
    public String closedBy() {
        if (!closed.isDone()) {
            return null;
        }
        return closed.isCompletedExceptionally() ? "an error" : closed.join()[0] + " " + closeReason;
    }

    public String closeReason() {
        return closeReason;
    }

    /** Closes with status 1000 and waits for the server's answering close frame. */
    public void closeGracefully() {
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").orTimeout(WAIT.toMillis(), TimeUnit.MILLISECONDS).join();
        awaitClose();
    }

    /** Drops the TCP connection without a close handshake. */
    public void abort() {
        ws.abort();
    }

    @Override
    public void close() {
        ws.abort();
    }

    private final class Listener implements WebSocket.Listener {
        private final StringBuilder partial = new StringBuilder();

        @Override
        public void onOpen(WebSocket webSocket) {
            webSocket.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                messages.add(partial.toString());
                partial.setLength(0);
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            messages.add("<binary>");
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closeReason = reason;
            closed.complete(new int[] {statusCode});
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            closed.completeExceptionally(error);
        }
    }
}
