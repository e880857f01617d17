package io.switchboard.benchmarks.loadgen;

import com.sun.management.UnixOperatingSystemMXBean;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.switchboard.benchmarks.Frames;
import io.switchboard.benchmarks.Transports;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * loadgen: load for any server speaking the minichats protocol. {@code java -jar loadgen.jar --help}.
 */
public final class LoadGen {

    private static final ByteBuf CONTENT_KEY = Unpooled.unreleasableBuffer(
            Unpooled.copiedBuffer("\"content\":\"", StandardCharsets.US_ASCII));
    private static final ByteBuf STATUS_OK = Unpooled.unreleasableBuffer(
            Unpooled.copiedBuffer("\"status\":\"ok\"", StandardCharsets.US_ASCII));
    private static final int MAX_CONNECTS_IN_FLIGHT = 256;

    private final Options o;
    private final PrintStream out;
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private final Recorder latency = new Recorder(TimeUnit.SECONDS.toMicros(60), 3);
    private final LongAdder deliveries = new LongAdder();
    private final LongAdder publishes = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder duplicates = new LongAdder();
    private final LongAdder gaps = new LongAdder();
    private final AtomicInteger connected = new AtomicInteger();
    private final AtomicReference<String> firstError = new AtomicReference<>();
    private final AtomicReference<String> fatal = new AtomicReference<>();
    private final AtomicLongArray publishedPerChannel;
    private final List<Subscriber> subscribers = new ArrayList<>();
    private final List<Publisher> publishers = new ArrayList<>();
    private volatile boolean publishing;
    private volatile boolean measuring;

    private LoadGen(Options o, PrintStream out) {
        this.o = o;
        this.out = out;
        this.publishedPerChannel = new AtomicLongArray(o.channels);
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(args, System.out));
    }

    /**
     * Runs loadgen and returns its exit code: 0 when every publish was answered and delivered once
     * and in order, 1 when not (or when the run could not start), 2 for a usage error. Reports to
     * {@code out}; problems go to standard error.
     */
    public static int run(String[] args, PrintStream out) throws Exception {
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
            out.println(Options.USAGE);
            return 0;
        }
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("loadgen: " + e.getMessage() + "\nRun with --help to list the options.");
            return 2;
        }
        return new LoadGen(o, out).run();
    }

    private int run() throws Exception {
        int connections = o.subscribersToRun() + o.publishersToRun();
        if (!underOpenFileLimit(connections)) {
            return 2;
        }
        EventLoopGroup group = Transports.newGroup(Runtime.getRuntime().availableProcessors(), "loadgen");
        try {
            out.printf(Locale.ROOT, "loadgen: %d subscribers on %d channel(s), %d publisher(s), %s, %d-byte "
                            + "content, %ds (+%ds warm-up) against %s%n", o.subscribersToRun(), o.channels,
                    o.publishersToRun(), o.rate > 0 ? o.rate + " publishes/s" : "max rate (window " + o.window + ")",
                    o.size, o.durationSeconds, o.warmupSeconds,
                    o.publishUrl == null ? o.url : o.url + ", publishers to " + o.publishUrl);
            if (!connectAll(group, connections)) {
                return 1;
            }
            return measure();
        } finally {
            publishing = false;
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
    }

    private boolean underOpenFileLimit(int connections) {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof UnixOperatingSystemMXBean) {
            long max = ((UnixOperatingSystemMXBean) os).getMaxFileDescriptorCount();
            long need = connections + 200L;
            if (need > max) {
                System.err.printf(Locale.ROOT, "loadgen: %d connections need about %d open files, but this process may "
                        + "open %d (ulimit -n). Raise the limit, or split the load: run '--role subscribers' with "
                        + "part of the subscribers in several processes and '--role publishers' in one.%n",
                        connections, need, max);
                return false;
            }
        }
        return true;
    }

    // ---- connecting ----

    /** Where a kind of peer connects: subscribers to --url, publishers to --publish-url. */
    private static final class Endpoint {
        final String host;
        final int port;
        final String target;
        final boolean loopback;
        final InetSocketAddress remote;

        Endpoint(URI url) throws UnknownHostException {
            host = url.getHost();
            port = url.getPort() > 0 ? url.getPort() : 80;
            target = (url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath())
                    + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
            loopback = InetAddress.getByName(host).isLoopbackAddress();
            remote = new InetSocketAddress(host, port);
        }

        byte[] upgrade(String clientName) {
            return Frames.upgradeRequest(host, port, target + (target.contains("?") ? "&" : "?") + "client_name=" + clientName);
        }
    }

    private boolean connectAll(EventLoopGroup group, int connections) throws InterruptedException, UnknownHostException {
        Endpoint subscribeTo = new Endpoint(o.url);
        Endpoint publishTo = o.publishUrl == null ? subscribeTo : new Endpoint(o.publishUrl);
        Bootstrap b = new Bootstrap().group(group).channel(Transports.socketChannel())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 30_000);
        Semaphore inFlight = new Semaphore(MAX_CONNECTS_IN_FLIGHT);
        CountDownLatch ready = new CountDownLatch(connections);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.connectTimeoutSeconds);
        for (int i = 0; i < connections; i++) {
            boolean isPublisher = i >= o.subscribersToRun();
            Peer peer = isPublisher ? new Publisher(publishers.size(), ready, inFlight)
                    : new Subscriber(subscribers.size(), ready, inFlight);
            if (isPublisher) {
                publishers.add((Publisher) peer);
            } else {
                subscribers.add((Subscriber) peer);
            }
            String name = (isPublisher ? "pub" : "sub") + i;
            Endpoint endpoint = isPublisher ? publishTo : subscribeTo;
            byte[] upgrade = endpoint.upgrade(name);
            while (!inFlight.tryAcquire(1, TimeUnit.SECONDS)) {
                if (fatal.get() != null || System.nanoTime() > deadline) {
                    return stopConnecting(connections);
                }
            }
            WsConnection handler = new WsConnection(i, upgrade, peer);
            InetSocketAddress local = endpoint.loopback
                    ? new InetSocketAddress("127.0.0." + (1 + i % o.sourceIps), 0) : null;
            b.handler(handler).connect(endpoint.remote, local).addListener(f -> {
                if (!f.isSuccess()) {
                    fatal.compareAndSet(null, "connect failed after " + connected.get() + " connections: " + f.cause()
                            + hint(f.cause()));
                    inFlight.release();
                }
            });
            if (fatal.get() != null) {
                return stopConnecting(connections);
            }
        }
        while (!ready.await(1, TimeUnit.SECONDS)) {
            out.printf(Locale.ROOT, "[connecting] %d/%d%n", connected.get(), connections);
            if (fatal.get() != null || System.nanoTime() > deadline) {
                return stopConnecting(connections);
            }
        }
        return fatal.get() == null || stopConnecting(connections);
    }

    private boolean stopConnecting(int connections) {
        String why = fatal.get() != null ? fatal.get()
                : "not all connected within " + o.connectTimeoutSeconds + " s (" + connected.get() + "/" + connections
                + ")";
        System.err.println("loadgen: " + why);
        return false;
    }

    private static String hint(Throwable cause) {
        String m = String.valueOf(cause);
        if (m.contains("Too many open files")) {
            return " (this process is out of file descriptors: raise ulimit -n or split the load with --role)";
        }
        if (m.contains("Cannot assign requested address")) {
            return " (out of ephemeral ports: raise --source-ips)";
        }
        if (m.contains("Connection refused") || m.contains("Connection reset")) {
            return " (the server refused: is it running, and under its own open-file limit?)";
        }
        return "";
    }

    // ---- measuring ----

    private int measure() throws InterruptedException {
        publishing = true;
        Thread scheduler = null;
        if (!publishers.isEmpty()) {
            if (o.rate > 0) {
                scheduler = new Thread(this::publishAtFixedRate, "loadgen-scheduler");
                scheduler.setDaemon(true);
                scheduler.start();
            } else {
                for (Publisher p : publishers) {
                    p.connection().ctx().executor().execute(p::fillWindow);
                }
            }
        }
        long start = System.nanoTime();
        long warmupEnd = start + TimeUnit.SECONDS.toNanos(o.warmupSeconds);
        long end = warmupEnd + TimeUnit.SECONDS.toNanos(o.durationSeconds);
        Histogram total = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
        Histogram interval = null;
        long lastDeliveries = 0;
        long lastPublishes = 0;
        long measureStart = start;
        long deliveriesAtStart = 0;
        long publishesAtStart = 0;
        long errorsAtStart = 0;
        if (o.warmupSeconds == 0) {
            measuring = true;
        }
        long tick = start;
        while (tick < end && fatal.get() == null) {
            tick += TimeUnit.SECONDS.toNanos(1);
            LockSupport.parkNanos(tick - System.nanoTime());
            long d = deliveries.sum();
            long p = publishes.sum();
            interval = latency.getIntervalHistogram(interval);
            boolean warmup = !measuring;
            if (measuring) {
                total.add(interval);
            } else if (tick >= warmupEnd) {
                // The warm-up ends here: measure from now on.
                measuring = true;
                measureStart = System.nanoTime();
                deliveriesAtStart = d;
                publishesAtStart = p;
                errorsAtStart = errors.sum();
            }
            out.printf(Locale.ROOT, "[%4ds%s] connected %d  deliveries/s %,d  publishes/s %,d  p99 %s  errors %d%n",
                    TimeUnit.NANOSECONDS.toSeconds(tick - start), warmup ? " warm-up" : "", connected.get(),
                    d - lastDeliveries, p - lastPublishes,
                    interval.getTotalCount() == 0 ? "-" : formatMicros(interval.getValueAtPercentile(99)),
                    errors.sum());
            lastDeliveries = d;
            lastPublishes = p;
        }
        double seconds = (System.nanoTime() - measureStart) / 1e9;
        long deliveredInWindow = deliveries.sum() - deliveriesAtStart;
        long publishedInWindow = publishes.sum() - publishesAtStart;
        long errorsInWindow = errors.sum() - errorsAtStart;
        publishing = false;
        if (scheduler != null) {
            scheduler.join(2000);
        }
        drain();
        total.add(latency.getIntervalHistogram());

        Result r = new Result(deliveredInWindow / seconds, publishedInWindow / seconds, total, errorsInWindow,
                missing(), duplicates.sum());
        r.print(o, out);
        if (fatal.get() != null) {
            System.err.println("loadgen: stopped early: " + fatal.get());
            return 1;
        }
        if (firstError.get() != null) {
            System.err.println("loadgen: first error reply: " + firstError.get());
        }
        return r.errors == 0 && r.missing == 0 && r.duplicates == 0 ? 0 : 1;
    }

    /** Waits, at most 5 s, for deliveries of everything published to arrive. */
    private void drain() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        long last = -1;
        while (System.nanoTime() < deadline) {
            long now = deliveries.sum();
            if (o.role == Options.Role.ALL && missing() == 0 || now == last && o.role != Options.Role.ALL) {
                return;
            }
            last = now;
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
        }
    }

    /** Deliveries not received: exact with every role in one process; the gaps seen otherwise. */
    private long missing() {
        if (o.role != Options.Role.ALL) {
            return gaps.sum();
        }
        long missing = 0;
        for (Subscriber s : subscribers) {
            missing += publishedPerChannel.get(s.channel) - s.unique;
        }
        return missing;
    }

    /** One scheduler thread sends every publish at its intended time, round-robin over publishers. */
    private void publishAtFixedRate() {
        double intervalNanos = 1e9 / o.rate;
        long start = System.nanoTime();
        for (long k = 0; publishing; k++) {
            long intended = start + (long) (k * intervalNanos);
            long wait = intended - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            Publisher p = publishers.get((int) (k % publishers.size()));
            p.connection().ctx().executor().execute(() -> p.publish(intended, true));
        }
    }

    private static String formatMicros(long micros) {
        return micros < 1000 ? micros + " us" : String.format(Locale.ROOT, "%.2f ms", micros / 1000.0);
    }

    // ---- peers ----

    /** A connection's role. */
    private abstract class Peer implements WsConnection.Listener {
        final CountDownLatch ready;
        final Semaphore inFlight;
        private WsConnection connection;
        private boolean counted;

        Peer(CountDownLatch ready, Semaphore inFlight) {
            this.ready = ready;
            this.inFlight = inFlight;
        }

        WsConnection connection() {
            return connection;
        }

        @Override
        public void onOpen(WsConnection c) {
            connection = c;
        }

        void subscribe(int channel) {
            connection.ctx().writeAndFlush(WsConnection.textFrame(connection.ctx().alloc(),
                    "{\"action\":\"subscribe\",\"params\":{\"channel_name\":\"" + o.channel(channel) + "\"}}"));
        }

        void becomeReady() {
            if (!counted) {
                counted = true;
                connected.incrementAndGet();
                inFlight.release();
                ready.countDown();
            }
        }

        boolean isOk(ByteBuf payload) {
            return ByteBufUtil.indexOf(STATUS_OK, payload) >= 0;
        }

        void error(ByteBuf payload) {
            errors.increment();
            firstError.compareAndSet(null, payload.toString(StandardCharsets.UTF_8));
        }

        @Override
        public void onFailure(WsConnection c, String reason) {
            if (publishing || !counted) {
                fatal.compareAndSet(null, (this instanceof Publisher ? "publisher " : "subscriber ") + c.index + ": "
                        + reason);
                if (!counted) {
                    inFlight.release();
                }
            }
        }
    }

    /** Subscribes to one channel and checks every delivery's order and latency. */
    private final class Subscriber extends Peer {
        final int channel;
        private int replies;
        private long nextSeq;
        long unique;

        Subscriber(int index, CountDownLatch ready, Semaphore inFlight) {
            super(ready, inFlight);
            this.channel = index % o.channels;
        }

        @Override
        public void onText(WsConnection c, ByteBuf payload) {
            int at = ByteBufUtil.indexOf(CONTENT_KEY, payload);
            if (at >= 0) {
                long now = System.nanoTime();
                int i = at + CONTENT_KEY.readableBytes();
                long seq = 0;
                byte b;
                while ((b = payload.getByte(i++)) != ':') {
                    seq = (seq << 4) + Character.digit(b, 16);
                }
                long sentAt = 0;
                while ((b = payload.getByte(i++)) != ':') {
                    sentAt = (sentAt << 4) + Character.digit(b, 16);
                }
                if (seq >= nextSeq) {
                    if (seq > nextSeq) {
                        gaps.add(seq - nextSeq);
                    }
                    nextSeq = seq + 1;
                    unique++;
                } else {
                    duplicates.increment();
                }
                deliveries.increment();
                latency.recordValue(Math.max(0, (now - sentAt) / 1000));
            } else if (replies < 2) {
                // The connection confirmation, then the subscribe reply.
                if (++replies == 1) {
                    subscribe(channel);
                } else if (isOk(payload)) {
                    becomeReady();
                } else {
                    fatal.compareAndSet(null, "subscribe refused: " + payload.toString(StandardCharsets.UTF_8));
                }
            } else if (!isOk(payload)) {
                error(payload);
            }
        }
    }

    /** Owns the channels c with c % P == p: subscribes to them and publishes to them in turn. */
    private final class Publisher extends Peer {
        private final int[] channels;
        private final long[] seqs;
        private int next;
        private int replies;
        private int unanswered;

        Publisher(int index, CountDownLatch ready, Semaphore inFlight) {
            super(ready, inFlight);
            int n = (o.channels - index + o.publishers - 1) / o.publishers;
            channels = new int[n];
            for (int i = 0; i < n; i++) {
                channels[i] = index + i * o.publishers;
            }
            seqs = new long[n];
        }

        @Override
        public void onText(WsConnection c, ByteBuf payload) {
            if (ByteBufUtil.indexOf(CONTENT_KEY, payload) >= 0) {
                return; // its own copy of what it published
            }
            if (replies <= channels.length) {
                // The connection confirmation, then one reply per subscribe.
                if (replies++ == 0) {
                    for (int ch : channels) {
                        subscribe(ch);
                    }
                } else if (!isOk(payload)) {
                    fatal.compareAndSet(null, "subscribe refused: " + payload.toString(StandardCharsets.UTF_8));
                } else if (replies == channels.length + 1) {
                    becomeReady();
                }
                return;
            }
            unanswered--;
            if (!isOk(payload)) {
                error(payload);
            }
            if (o.rate == 0 && publishing) {
                publish(System.nanoTime(), true);
            }
        }

        /** Fills the window of unanswered publishes (max-rate mode). Call from the event loop. */
        void fillWindow() {
            while (unanswered < o.window) {
                publish(System.nanoTime(), false);
            }
            connection().ctx().flush();
        }

        /** Publishes the next message of the next channel. Call from the event loop. */
        void publish(long intendedNanos, boolean flush) {
            if (!publishing) {
                return;
            }
            int slot = next;
            next = (next + 1) % channels.length;
            int channel = channels[slot];
            long seq = seqs[slot]++;
            String head = "{\"action\":\"publish\",\"params\":{\"channel_name\":\"" + o.channel(channel)
                    + "\",\"content\":\"" + Long.toHexString(seq) + ':' + Long.toHexString(intendedNanos) + ':';
            ByteBuf json = alloc.buffer(head.length() + o.size + 4);
            json.writeCharSequence(head, StandardCharsets.US_ASCII);
            // Pad so that the content, quotes included, is o.size bytes.
            int contentSoFar = 1 + Long.toHexString(seq).length() + 1 + Long.toHexString(intendedNanos).length() + 1;
            for (int i = contentSoFar; i < o.size - 1; i++) {
                json.writeByte('x');
            }
            json.writeCharSequence("\"}}", StandardCharsets.US_ASCII);
            unanswered++;
            publishedPerChannel.incrementAndGet(channel);
            publishes.increment();
            connection().sendText(json, flush);
        }
    }

    /** The outcome of a run. */
    private static final class Result {
        final double deliveriesPerSecond;
        final double publishesPerSecond;
        final Histogram latency;
        final long errors;
        final long missing;
        final long duplicates;

        Result(double deliveriesPerSecond, double publishesPerSecond, Histogram latency, long errors, long missing,
               long duplicates) {
            this.deliveriesPerSecond = deliveriesPerSecond;
            this.publishesPerSecond = publishesPerSecond;
            this.latency = latency;
            this.errors = errors;
            this.missing = missing;
            this.duplicates = duplicates;
        }

        void print(Options o, PrintStream out) {
            out.printf(Locale.ROOT, "deliveries/s %,.0f  publishes/s %,.0f%n", deliveriesPerSecond,
                    publishesPerSecond);
            if (latency.getTotalCount() == 0) {
                out.println("latency: no deliveries received in this process");
            } else {
                out.printf(Locale.ROOT, "latency, publish to receipt: p50 %s  p99 %s  p99.9 %s  max %s  (%,d samples)%n",
                        formatMicros(latency.getValueAtPercentile(50)), formatMicros(latency.getValueAtPercentile(99)),
                        formatMicros(latency.getValueAtPercentile(99.9)), formatMicros(latency.getMaxValue()),
                        latency.getTotalCount());
            }
            out.printf(Locale.ROOT, "errors %d  missing %d  duplicates %d%n", errors, missing, duplicates);
            if (o.json) {
                out.printf(Locale.ROOT, "{\"subscribers\":%d,\"channels\":%d,\"publishers\":%d,\"rate\":%d,"
                                + "\"window\":%d,\"size\":%d,\"duration_s\":%d,\"deliveries_per_s\":%.0f,"
                                + "\"publishes_per_s\":%.0f,\"latency_us\":{\"p50\":%d,\"p99\":%d,\"p999\":%d,\"max\":%d},"
                                + "\"errors\":%d,\"missing\":%d,\"duplicates\":%d}%n",
                        o.subscribersToRun(), o.channels, o.publishersToRun(), o.rate, o.window, o.size,
                        o.durationSeconds, deliveriesPerSecond, publishesPerSecond,
                        latency.getValueAtPercentile(50), latency.getValueAtPercentile(99),
                        latency.getValueAtPercentile(99.9), latency.getMaxValue(), errors, missing, duplicates);
            }
        }
    }
}
