package io.switchboard.benchmarks.broadcast;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.switchboard.benchmarks.Frames;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.minichats.MinichatsEncoder;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.SwitchboardServer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One publish to a channel with N subscribers on real loopback sockets, timed from the publish
 * until the last subscriber has received its frame. {@code server=switchboard} is the node with 2
 * event loops ({@code switchboard-history}: with history on, issue 18); {@code server=netty} is the floor, {@link BareFanoutServer}, fanning out the same
 * bytes. Divide the time by N for the cost per delivery; {@code -prof gc} gives the bytes this JVM
 * (server and publisher) allocates per publish, which must not grow with N.
 *
 * <p>JMH's last iteration of a trial also counts the allocation of the trial's teardown (closing
 * N connections) in {@code gc.alloc.rate.norm}; read B/op from the other iterations.
 *
 * <p>The subscribers live in a child process ({@link SubscriberFleet}) that acknowledges each
 * completed fan-out over a control socket; that hop (tens of microseconds) is in every figure, the
 * floor's included.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Dio.netty.leakDetection.level=disabled", "-Xmx2g",
        // The runnable node's defaults (Main.NETTY_DEFAULTS: the recycler off), for both servers.
        "-Dio.netty.recycler.maxCapacityPerThread=0"})
public class BroadcastBenchmark {

    private static final String CHANNEL = "bench";
    private static final String SENDER = "publisher";
    private static final String CONTENT = "\"" + "x".repeat(14) + "\""; // 16 bytes of JSON

    @Param({"1", "100", "1000", "10000"})
    public int subscribers;

    /** {@code switchboard-history}: the node with {@code HISTORY_SIZE=1000}, each publish appended to its stream (issue 18). */
    @Param({"switchboard", "switchboard-history", "netty"})
    public String server;

    private SwitchboardServer switchboard;
    private BareFanoutServer bare;
    private Process fleet;
    private ServerSocket controlListener;
    private Socket control;
    private InputStream acks;
    private Socket publisher;
    private OutputStream publisherOut;
    private InputStream publisherIn;
    private byte[] publish;
    /** What the publisher itself receives per publish (its ok and its own copy), drained each time. */
    private byte[] publisherEcho;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        int payload = MinichatsEncoder.deliveryPayloadLength(JsonStrings.quote(SENDER), JsonStrings.quote(CHANNEL),
                CONTENT.length());
        int frameLength = Frames.serverFrameLength(payload);
        int port;
        boolean websocket = server.startsWith("switchboard");
        if (websocket) {
            switchboard = SwitchboardServer.create(SwitchboardConfig.builder().host("127.0.0.1").port(0).ioThreads(2)
                    // The fleet's subscribers only read (no pongs); the floor sends no pings either.
                    .maxMessagesPerSecond(0).pingInterval(Duration.ZERO)
                    .historySize("switchboard-history".equals(server) ? 1000 : 0).build());
            switchboard.start().join();
            port = switchboard.localAddress().getPort();
        } else {
            ByteBuf content = Unpooled.copiedBuffer(CONTENT, StandardCharsets.UTF_8);
            ByteBuf frame = MinichatsEncoder.delivery(PooledByteBufAllocator.DEFAULT, JsonStrings.quote(SENDER),
                    JsonStrings.quote(CHANNEL), System.currentTimeMillis(), content);
            content.release();
            bare = new BareFanoutServer(frame, 2);
            port = bare.port();
        }

        controlListener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        controlListener.setSoTimeout(300_000);
        String java = ProcessHandle.current().info().command().orElse("java");
        fleet = new ProcessBuilder(List.of(java, "-Xmx1g", "-Dio.netty.leakDetection.level=disabled",
                "-cp", System.getProperty("java.class.path"), SubscriberFleet.class.getName(),
                "127.0.0.1", Integer.toString(port), Integer.toString(controlListener.getLocalPort()),
                Integer.toString(subscribers), websocket ? "websocket" : "raw", CHANNEL))
                .redirectOutput(ProcessBuilder.Redirect.INHERIT).redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        control = controlListener.accept();
        control.setTcpNoDelay(true);
        acks = control.getInputStream();
        byte[] ready = acks.readNBytes(6);
        if (!"READY\n".equals(new String(ready, StandardCharsets.US_ASCII))) {
            throw new IOException("the subscriber fleet did not get ready");
        }
        new DataOutputStream(control.getOutputStream()).writeLong((long) subscribers * frameLength);

        publisher = new Socket("127.0.0.1", port);
        publisher.setTcpNoDelay(true);
        publisher.setSoTimeout(60_000);
        publisherOut = publisher.getOutputStream();
        publisherIn = publisher.getInputStream();
        if (websocket) {
            publisherOut.write(Frames.upgradeRequest("127.0.0.1", port, "/api/connect?client_name=" + SENDER));
            readHead(publisherIn);
            readFrame(publisherIn); // connection confirmation
            publisherOut.write(Frames.maskedText(
                    "{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"" + CHANNEL + "\"}}"));
            readFrame(publisherIn);
            publish = Frames.maskedText("{\"action\":\"publish\",\"params\":{\"channel_name\":\"" + CHANNEL
                    + "\",\"content\":" + CONTENT + "}}");
            publisherEcho = new byte[Frames.serverFrameLength("{\"status\":\"ok\"}".length()) + frameLength];
        } else {
            publish = new byte[] {1};
            publisherEcho = new byte[0];
        }
    }

    @Benchmark
    public int publishToAll() throws IOException {
        publisherOut.write(publish);
        int ack = acks.read();
        if (ack < 0) {
            throw new IOException("the subscriber fleet went away");
        }
        publisherIn.readNBytes(publisherEcho, 0, publisherEcho.length);
        return ack;
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        closeQuietly(publisher);
        closeQuietly(control);
        closeQuietly(controlListener);
        if (fleet != null && !fleet.waitFor(10, TimeUnit.SECONDS)) {
            fleet.destroyForcibly();
        }
        if (switchboard != null) {
            switchboard.stop().join();
        }
        if (bare != null) {
            bare.close();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            if (c != null) {
                c.close();
            }
        } catch (Exception ignored) {
            // tearing down
        }
    }

    private static void readHead(InputStream in) throws IOException {
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed during the upgrade");
            }
            matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
    }

    private static void readFrame(InputStream in) throws IOException {
        DataInputStream data = new DataInputStream(in);
        data.readUnsignedByte();
        int len = data.readUnsignedByte() & 0x7F;
        if (len == 126) {
            len = data.readUnsignedShort();
        }
        data.skipNBytes(len);
    }
}
