package io.switchboard.benchmarks.loadgen;

import com.sun.management.UnixOperatingSystemMXBean;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.ssl.SslContext;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ScheduledFuture;
import io.switchboard.benchmarks.Frames;
import io.switchboard.benchmarks.Transports;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * loadgen: load for a pub-sub server over WebSocket, in any {@link Protocol} it speaks.
 * {@code java -jar loadgen.jar --help}; docs/loadgen.md.
 */
public final class LoadGen {

    private static final int MAX_CONNECTS_IN_FLIGHT = 256;
    /** --recover: how long a subscriber waits before it tries again after a reconnect attempt failed. */
    static final long RETRY_DELAY_MILLIS = 100;
    /** --recover: how long the end of a run waits for subscribers still reconnecting. */
    static final long RECONNECT_WAIT_SECONDS = 10;
    /** loadgen's own CPU, as a share of all its cores, at or above which its result is suspect. */
    static final double CPU_WARNING = 0.9;

    private final Options o;
    private final PrintStream out;
    private final PrintStream err;
    private final boolean terminal;
    private final ByteBufAllocator alloc = PooledByteBufAllocator.DEFAULT;
    private final Recorder latency = new Recorder(TimeUnit.SECONDS.toMicros(60), 3);
    private final LongAdder deliveries = new LongAdder();
    private final LongAdder publishes = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder duplicates = new LongAdder();
    private final LongAdder gaps = new LongAdder();
    /** Messages that came compressed (permessage-deflate, {@code --compression}), warm-up included. */
    private final LongAdder compressedMessages = new LongAdder();
    private final AtomicInteger connected = new AtomicInteger();
    private final AtomicReference<String> firstError = new AtomicReference<>();
    private final AtomicReference<String> fatal = new AtomicReference<>();
    private final AtomicLongArray publishedPerChannel;
    /**
     * --recover: publishes per channel and publisher slot ({@code channel * publishersPerChannel + slot}),
     * the sequence numbers each subscriber is owed; {@code null} without --recover.
     */
    private final AtomicLongArray publishedPerStream;
    // --recover: the reconnects of every subscriber, the whole run (warm-up included).
    private final LongAdder drops = new LongAdder();
    private final LongAdder closedByServer = new LongAdder();
    private final LongAdder failedAttempts = new LongAdder();
    private final LongAdder recovered = new LongAdder();
    private final LongAdder unrecovered = new LongAdder();
    private final LongAdder replayed = new LongAdder();
    /** Reconnect start to the ok that said recovered:true, in microseconds. */
    private final Recorder recovery = new Recorder(TimeUnit.SECONDS.toMicros(60), 3);
    private final AtomicReference<String> firstServerClose = new AtomicReference<>();
    /** --drop-all-every's timer; {@code null} when not running. */
    private ScheduledFuture<?> dropAllTimer;
    private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();
    private final List<Publisher> publishers = new ArrayList<>();
    private final Semaphore inFlight = new Semaphore(MAX_CONNECTS_IN_FLIGHT);
    private final Instant startedAt = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    private Bootstrap bootstrap;
    private EventLoopGroup group;
    /** Where subscribers connect: subscriber i to the (i % n)th first ({@code --url}). */
    private List<Endpoint> subscribeTo;
    private Endpoint publishTo;
    private final AtomicInteger connectionIndex = new AtomicInteger();
    private volatile boolean publishing;
    private volatile boolean stopping;
    /** Publishes per second the scheduler keeps to now (fixed-rate runs). */
    private volatile int currentRate;
    /** Wall-clock time at which the first measured second began: {@code loadgen merge} aligns runs on it. */
    private long seriesStartMillis;

    private LoadGen(Options o, PrintStream out, PrintStream err, boolean terminal) {
        this.o = o;
        this.out = out;
        this.err = err;
        this.terminal = terminal;
        this.publishedPerChannel = new AtomicLongArray(o.channels);
        this.publishedPerStream = o.recover ? new AtomicLongArray(o.channels * o.publishersPerChannel()) : null;
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** As {@link #run(String[], PrintStream, PrintStream)}, with problems to standard error. */
    public static int run(String[] args, PrintStream out) {
        return run(args, out, System.err);
    }

    /**
     * Runs loadgen (or {@code loadgen report ...}) and returns its exit code: 0 when every publish
     * was answered and delivered once and in order and every threshold held, 1 when not (or when the
     * run could not start or the server refused), 2 for a usage error. Reports to {@code out};
     * progress and problems go to {@code err}. Never throws: an unexpected failure is a message.
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
                out.println(Options.USAGE);
                return 0;
            }
            if (args.length > 0 && args[0].equals("report")) {
                return HtmlReport.command(args, out, err);
            }
            if (args.length > 0 && args[0].equals("merge")) {
                return Merge.command(args, out, err);
            }
            Options o;
            try {
                o = Options.parse(args);
            } catch (IllegalArgumentException e) {
                err.println("loadgen: " + e.getMessage() + "\nRun with --help to list the options.");
                return 2;
            }
            return new LoadGen(o, out, err, System.console() != null && err == System.err).run();
        } catch (Exception | OutOfMemoryError e) {
            err.println("loadgen: failed: " + e);
            return 1;
        }
    }

    private int run() throws InterruptedException {
        List<Options.Stage> plan = o.plan();
        int maxSubscribers = o.subscribersToRun();
        for (Options.Stage s : plan) {
            maxSubscribers = Math.max(maxSubscribers, o.role == Options.Role.PUBLISHERS ? 0 : s.subscribers);
        }
        if (!underOpenFileLimit(maxSubscribers + o.publishersToRun())) {
            return 2;
        }
        SslContext tls = null;
        try {
            if (o.urls().stream().anyMatch(LoadGen::isTls) || o.publishUrl != null && isTls(o.publishUrl)) {
                tls = ClientTls.context(o);
                out.printf(Locale.ROOT, "loadgen: TLS with %s, trusting %s%n", ClientTls.providerName(),
                        o.insecure ? "any certificate (--insecure)" : o.caFile != null ? o.caFile : "the JDK's CAs");
            }
            List<Endpoint> endpoints = new ArrayList<>();
            for (URI u : o.urls()) {
                endpoints.add(new Endpoint(u, tls));
            }
            subscribeTo = List.copyOf(endpoints);
            publishTo = o.publishUrl == null ? subscribeTo.get(0) : new Endpoint(o.publishUrl, tls);
        } catch (UnknownHostException e) {
            err.println("loadgen: unknown host: " + e.getMessage());
            return 1;
        } catch (IOException e) {
            err.println("loadgen: " + e.getMessage());
            return 2;
        }
        group = Transports.newGroup(Runtime.getRuntime().availableProcessors(), "loadgen");
        try {
            bootstrap = new Bootstrap().group(group).channel(Transports.socketChannel())
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000);
            out.printf(Locale.ROOT, "loadgen: %s, %d subscribers on %d channel(s), %d publisher(s), %s, %d-byte "
                            + "content, %s against %s%n", o.protocol.name(), o.subscribersToRun(), o.channels,
                    o.publishersToRun(), o.rate > 0 ? o.rate + " publishes/s" : "max rate (window " + o.window + ")",
                    o.size, describe(plan), o.publishUrl == null ? o.urlText() : o.urlText() + ", publishers to "
                            + o.publishUrl);
            if (o.recover) {
                out.printf(Locale.ROOT, "loadgen: reconnects with recover: %s, %s, reconnecting to %s%n",
                        o.dropEveryMillis > 0 ? "each subscriber drops every " + o.dropEveryMillis + " ms on average"
                                : "no random drops",
                        o.dropAllEveryMillis > 0 ? "all drop every " + o.dropAllEveryMillis + " ms" : "no storms",
                        o.urls().size() == 1 ? "its --url" : "the " + o.reconnectTo.name().toLowerCase(Locale.ROOT)
                                + " --url");
            }
            if (!connectAll()) {
                return 1;
            }
            return measure(plan);
        } finally {
            publishing = false;
            stopping = true;
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
    }

    private static String describe(List<Options.Stage> plan) {
        StringBuilder b = new StringBuilder();
        for (Options.Stage s : plan) {
            b.append(b.length() == 0 ? "" : ", ").append(s.name).append(' ').append(s.seconds).append('s');
        }
        return b.toString();
    }

    private boolean underOpenFileLimit(int connections) {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof UnixOperatingSystemMXBean) {
            long max = ((UnixOperatingSystemMXBean) os).getMaxFileDescriptorCount();
            long need = connections + 200L;
            if (need > max) {
                err.printf(Locale.ROOT, "loadgen: %d connections need about %d open files, but this process may "
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
        /** The client TLS context of a wss:// endpoint; {@code null} for ws://. */
        final SslContext tls;

        Endpoint(URI url, SslContext tls) throws UnknownHostException {
            this.tls = isTls(url) ? tls : null;
            host = url.getHost();
            port = url.getPort() > 0 ? url.getPort() : this.tls != null ? 443 : 80;
            target = (url.getRawPath() == null || url.getRawPath().isEmpty() ? "/" : url.getRawPath())
                    + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery());
            loopback = InetAddress.getByName(host).isLoopbackAddress();
            remote = new InetSocketAddress(host, port);
        }
    }

    private static boolean isTls(URI url) {
        return "wss".equalsIgnoreCase(url.getScheme());
    }

    /** Connects the subscribers and publishers the run starts with, and waits until all have joined. */
    private boolean connectAll() throws InterruptedException {
        int connections = o.subscribersToRun() + o.publishersToRun();
        CountDownLatch ready = new CountDownLatch(connections);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(o.connectTimeoutSeconds);
        for (int i = 0; i < connections; i++) {
            while (!inFlight.tryAcquire(1, TimeUnit.SECONDS)) {
                if (fatal.get() != null || System.nanoTime() > deadline) {
                    return stopConnecting(connections);
                }
            }
            if (i >= o.subscribersToRun()) {
                Publisher p = new Publisher(publishers.size(), ready);
                publishers.add(p);
                connect(p, publishTo, "pub" + p.index);
            } else {
                Subscriber s = new Subscriber(subscribers.size(), ready);
                subscribers.add(s);
                s.connect();
            }
            if (fatal.get() != null) {
                return stopConnecting(connections);
            }
        }
        while (!ready.await(1, TimeUnit.SECONDS)) {
            progress(String.format(Locale.ROOT, "[connecting] %d/%d", connected.get(), connections));
            if (fatal.get() != null || System.nanoTime() > deadline) {
                return stopConnecting(connections);
            }
        }
        return fatal.get() == null || stopConnecting(connections);
    }

    /**
     * Opens a connection for {@code peer} on its event loop; the caller holds a permit of
     * {@link #inFlight} (except a subscriber's reconnect).
     */
    private void connect(Peer peer, Endpoint endpoint, String name) {
        int i = connectionIndex.getAndIncrement();
        byte[] upgrade = Frames.upgradeRequest(endpoint.host, endpoint.port,
                o.batch ? Protocol.withQuery(o.protocol.target(endpoint.target, name, peer.channelNames()), "batch=1")
                        : o.protocol.target(endpoint.target, name, peer.channelNames()),
                o.compression ? WsConnection.DEFLATE_OFFER : null);
        WsConnection ws = new WsConnection(i, upgrade, o.compression ? compressedMessages : null, peer);
        ChannelHandler handler = endpoint.tls == null ? ws : new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                // wss://: the upgrade request waits in the SslHandler until the handshake is done.
                ch.pipeline().addLast(endpoint.tls.newHandler(ch.alloc(), endpoint.host, endpoint.port), ws);
            }
        };
        InetSocketAddress local = endpoint.loopback ? new InetSocketAddress("127.0.0." + (1 + i % o.sourceIps), 0) : null;
        bootstrap.clone(peer.loop).handler(handler).connect(endpoint.remote, local).addListener(f -> {
            if (!f.isSuccess()) {
                peer.connectFailed(endpoint, f.cause());
            }
        });
    }

    private boolean stopConnecting(int connections) {
        String why = fatal.get() != null ? fatal.get()
                : "not all connected within " + o.connectTimeoutSeconds + " s (" + connected.get() + "/" + connections
                + ")";
        endProgress();
        err.println("loadgen: " + why);
        return false;
    }

    private static String rootMessage(Throwable t) {
        String m = t.getMessage();
        return m != null ? m : t.toString();
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
            return " (nothing listens there, or the server refused: is it running, on that port, under its own "
                    + "open-file limit?)";
        }
        if (m.contains("timed out")) {
            return " (nothing answered: is the host reachable?)";
        }
        return "";
    }

    // ---- measuring ----

    /** One second of the run, as the series of the result hold it. */
    private static final class Second {
        int t;
        String stage;
        boolean measured;
        int connections;
        long publishes;
        long deliveries;
        long errors;
        double seconds;
        Histogram latency;
        double cpu;
        /** The --server-pid process's CPU, a share of all cores; -1 when not sampled. */
        double serverCpu = -1;
        /** --recover: connections dropped, and recovers answered true and false, in this second. */
        long drops;
        long recovered;
        long unrecovered;
    }

    private int measure(List<Options.Stage> plan) throws InterruptedException {
        boolean fixedRate = plan.stream().anyMatch(s -> s.rate > 0);
        publishing = true;
        currentRate = plan.get(0).rate;
        Thread scheduler = null;
        if (!publishers.isEmpty()) {
            if (fixedRate) {
                scheduler = new Thread(this::publishAtFixedRate, "loadgen-scheduler");
                scheduler.setDaemon(true);
                scheduler.start();
            } else {
                for (Publisher p : publishers) {
                    p.loop.execute(p::fillWindow);
                }
            }
        }
        if (o.recover) {
            startDrops();
        }
        com.sun.management.OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean
                ? (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean() : null;
        int totalSeconds = plan.stream().mapToInt(s -> s.seconds).sum();
        List<Second> series = new ArrayList<>();
        Histogram total = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
        long start = System.nanoTime();
        seriesStartMillis = System.currentTimeMillis();
        if (o.serverCpu != null) {
            o.serverCpu.start();
        }
        long last = start;
        long lastDeliveries = 0;
        long lastPublishes = 0;
        long lastErrors = 0;
        long lastDrops = 0;
        long lastRecovered = 0;
        long lastUnrecovered = 0;
        Options.Stage stage = plan.get(0);
        int stageIndex = 0;
        int stageStart = 0;
        int fromSubscribers = o.subscribersToRun();
        for (int sec = 1; sec <= totalSeconds && fatal.get() == null; sec++) {
            long tick = start + TimeUnit.SECONDS.toNanos(sec);
            LockSupport.parkNanos(tick - System.nanoTime());
            long now = System.nanoTime();
            Second s = new Second();
            s.t = sec;
            s.stage = stage.name;
            s.measured = stage.measured;
            s.connections = connected.get();
            long d = deliveries.sum();
            long p = publishes.sum();
            long e = errors.sum();
            s.deliveries = d - lastDeliveries;
            s.publishes = p - lastPublishes;
            s.errors = e - lastErrors;
            s.seconds = (now - last) / 1e9;
            s.latency = latency.getIntervalHistogram();
            s.cpu = os == null ? -1 : os.getProcessCpuLoad();
            if (o.serverCpu != null) {
                s.serverCpu = o.serverCpu.sample();
            }
            if (o.recover) {
                long dr = drops.sum();
                long rc = recovered.sum();
                long ur = unrecovered.sum();
                s.drops = dr - lastDrops;
                s.recovered = rc - lastRecovered;
                s.unrecovered = ur - lastUnrecovered;
                lastDrops = dr;
                lastRecovered = rc;
                lastUnrecovered = ur;
            }
            series.add(s);
            if (s.measured) {
                total.add(s.latency);
            }
            lastDeliveries = d;
            lastPublishes = p;
            lastErrors = e;
            last = now;
            progress(progressLine(s));
            // The stage of the next second: its rate now, its subscribers spread over its seconds.
            if (sec - stageStart >= stage.seconds && stageIndex + 1 < plan.size()) {
                fromSubscribers = stage.subscribers;
                stageStart = sec;
                stage = plan.get(++stageIndex);
                currentRate = stage.rate;
            }
            if (o.role != Options.Role.PUBLISHERS && sec < totalSeconds) {
                int into = sec - stageStart + 1;
                rampTo(fromSubscribers + (int) ((long) (stage.subscribers - fromSubscribers) * into / stage.seconds));
            }
        }
        endProgress();
        publishing = false;
        if (dropAllTimer != null) {
            dropAllTimer.cancel(false);
        }
        if (scheduler != null) {
            scheduler.join(2000);
        }
        int notReconnected = o.recover ? awaitReconnects() : 0;
        drain();
        if (stage.measured) {
            total.add(latency.getIntervalHistogram());
        }
        RecoveryCheck.Tally tally = o.recover ? tallyAll() : null;
        Map<String, Object> result = result(plan, series, total, tally, notReconnected);
        return report(result);
    }

    // ---- reconnect storms (--recover) ----

    /** Starts the drops of --drop-every and --drop-all-every, now that publishing has begun. */
    private void startDrops() {
        if (o.dropEveryMillis > 0) {
            for (Subscriber s : subscribers) {
                s.loop.execute(s::scheduleDrop);
            }
        }
        if (o.dropAllEveryMillis > 0) {
            dropAllTimer = group.next().scheduleAtFixedRate(() -> {
                for (Subscriber s : subscribers) {
                    s.loop.execute(s::drop);
                }
            }, o.dropAllEveryMillis, o.dropAllEveryMillis, TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Waits, at most {@link #RECONNECT_WAIT_SECONDS}, until no subscriber is between a lost
     * connection and the ok of its recover; returns how many still are.
     */
    private int awaitReconnects() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(RECONNECT_WAIT_SECONDS);
        for (;;) {
            int n = 0;
            for (Subscriber s : subscribers) {
                n += s.reconnecting && !s.left ? 1 : 0;
            }
            if (n == 0 || System.nanoTime() > deadline || fatal.get() != null) {
                return n;
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    /** Every subscriber's {@link RecoveryCheck} counts, added up, each read on its event loop. */
    private RecoveryCheck.Tally tallyAll() {
        RecoveryCheck.Tally all = RecoveryCheck.Tally.ZERO;
        for (Subscriber s : subscribers) {
            if (s.expectedFrom < 0) {
                continue; // never joined: owed nothing
            }
            try {
                all = all.plus(s.loop.submit(s::tally).get(5, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while counting", e);
            } catch (ExecutionException | TimeoutException e) {
                throw new IllegalStateException("subscriber " + s.index + " could not be counted: " + e, e);
            }
        }
        return all;
    }

    /** Connects or closes subscribers until {@code target} are open or on their way (from the measuring thread). */
    private void rampTo(int target) {
        int open = 0;
        for (Subscriber s : subscribers) {
            if (!s.left) {
                open++;
            }
        }
        for (int i = subscribers.size() - 1; open > target && i >= 0; i--) {
            Subscriber s = subscribers.get(i);
            if (!s.left) {
                s.leave();
                open--;
            }
        }
        while (open < target && inFlight.tryAcquire()) {
            Subscriber s = new Subscriber(subscribers.size(), null);
            subscribers.add(s);
            s.connect();
            open++;
        }
    }

    private String progressLine(Second s) {
        long p50 = s.latency.getTotalCount() == 0 ? -1 : s.latency.getValueAtPercentile(50);
        long p99 = s.latency.getTotalCount() == 0 ? -1 : s.latency.getValueAtPercentile(99);
        return String.format(Locale.ROOT, "[%4ds %s] connections %,d  sent/s %,d  received/s %,d  p50 %s  p99 %s  "
                        + "errors %d%s  cpu %s%s%s", s.t, s.stage, s.connections, Math.round(s.publishes / s.seconds),
                Math.round(s.deliveries / s.seconds), p50 < 0 ? "-" : formatMicros(p50),
                p99 < 0 ? "-" : formatMicros(p99), s.errors,
                o.recover ? String.format(Locale.ROOT, "  drops %d  recovered %d  unrecovered %d", s.drops,
                        s.recovered, s.unrecovered) : "",
                s.cpu < 0 ? "-" : Math.round(s.cpu * 100) + "%",
                o.serverCpu == null ? "" : "  server cpu " + (s.serverCpu < 0 ? "-" : Math.round(s.serverCpu * 100) + "%"),
                s.cpu >= CPU_WARNING ? " (loadgen is the bottleneck!)" : "");
    }

    /** One progress line on standard error: rewritten in place on a terminal, a line per call otherwise. */
    private void progress(String line) {
        if (!o.progress) {
            return;
        }
        if (terminal) {
            err.print("\r" + line + "\u001b[K");
            err.flush();
        } else {
            err.println(line);
        }
    }

    private void endProgress() {
        if (o.progress && terminal) {
            err.println();
        }
    }

    /** Waits, at most 5 s, for deliveries of everything published to arrive. */
    private void drain() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        long last = -1;
        while (System.nanoTime() < deadline) {
            long now = deliveries.sum();
            if (o.role == Options.Role.ALL && (o.recover ? tallyAll().owed() : missing()) == 0
                    || now == last && o.role != Options.Role.ALL) {
                return;
            }
            last = now;
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100));
        }
    }

    /**
     * Deliveries not received: exact with every role in one process (a subscriber that left during
     * the run is not counted); the gaps in sequence numbers seen otherwise.
     */
    private long missing() {
        if (o.role != Options.Role.ALL) {
            return gaps.sum();
        }
        long missing = 0;
        for (Subscriber s : subscribers) {
            if (s.expectedFrom >= 0 && !s.left) {
                missing += Math.max(0, publishedPerChannel.get(s.channel) - s.expectedFrom - s.unique);
            }
        }
        return missing;
    }

    /**
     * Per channel: publishes sent to it from this process, subscribers counted in {@link #missing()}
     * (joined, not left), the in-order deliveries they received, and the publishes sent before they
     * joined (which they are not owed). With these, {@code loadgen merge} computes the missing
     * deliveries of runs split over processes exactly, as {@link #missing()} does for one.
     */
    private Map<String, Object> perChannel() {
        List<Object> published = new ArrayList<>();
        long[] subs = new long[o.channels];
        long[] received = new long[o.channels];
        long[] before = new long[o.channels];
        for (Subscriber s : subscribers) {
            if (s.expectedFrom >= 0 && !s.left) {
                subs[s.channel]++;
                received[s.channel] += s.unique;
                before[s.channel] += s.expectedFrom;
            }
        }
        List<Object> subscribed = new ArrayList<>();
        List<Object> got = new ArrayList<>();
        List<Object> notOwed = new ArrayList<>();
        for (int c = 0; c < o.channels; c++) {
            published.add(publishedPerChannel.get(c));
            subscribed.add(subs[c]);
            got.add(received[c]);
            notOwed.add(before[c]);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("published", published);
        m.put("subscribers", subscribed);
        m.put("received", got);
        m.put("published_before_join", notOwed);
        return m;
    }

    /** One scheduler thread sends every publish at its intended time, round-robin over publishers. */
    private void publishAtFixedRate() {
        double next = System.nanoTime();
        for (long k = 0; publishing; k++) {
            int rate = currentRate;
            long intended = (long) next;
            long wait = intended - System.nanoTime();
            if (wait > 0) {
                LockSupport.parkNanos(wait);
            }
            Publisher p = publishers.get((int) (k % publishers.size()));
            p.loop.execute(() -> p.publish(intended, true));
            next += 1e9 / rate;
        }
    }

    static String formatMicros(long micros) {
        return micros < 1000 ? micros + " us" : String.format(Locale.ROOT, "%.2f ms", micros / 1000.0);
    }

    // ---- the result ----

    /**
     * The JSON result. {@code tally} is every subscriber's reconnect check with --recover
     * ({@code null} without), {@code notReconnected} the subscribers still reconnecting at the end.
     */
    private Map<String, Object> result(List<Options.Stage> plan, List<Second> series, Histogram total,
                                       RecoveryCheck.Tally tally, int notReconnected) {
        double measuredSeconds = 0;
        long measuredDeliveries = 0;
        long measuredPublishes = 0;
        long measuredErrors = 0;
        for (Second s : series) {
            if (s.measured) {
                measuredSeconds += s.seconds;
                measuredDeliveries += s.deliveries;
                measuredPublishes += s.publishes;
                measuredErrors += s.errors;
            }
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("subscribers", o.subscribersToRun());
        r.put("channels", o.channels);
        r.put("publishers", o.publishersToRun());
        r.put("rate", o.rate);
        r.put("window", o.window);
        r.put("size", o.size);
        r.put("compression", o.compression);
        r.put("batch", o.batch);
        r.put("duration_s", Math.round(measuredSeconds));
        r.put("protocol", o.protocol.name());
        r.put("url", o.urlText());
        if (o.publishUrl != null) {
            r.put("publish_url", o.publishUrl.toString());
        }
        r.put("role", o.role.name().toLowerCase(Locale.ROOT));
        r.put("command", o.command);
        r.put("started_at", startedAt.toString());
        r.put("deliveries_per_s", measuredSeconds > 0 ? measuredDeliveries / measuredSeconds : 0.0);
        r.put("publishes_per_s", measuredSeconds > 0 ? measuredPublishes / measuredSeconds : 0.0);
        r.put("latency_us", Histograms.summary(total));
        r.put("errors", measuredErrors);
        r.put("missing", tally != null ? tally.owed() : missing());
        r.put("duplicates", tally != null ? tally.duplicates() : duplicates.sum());
        if (tally != null) {
            r.put("reconnect", reconnectResult(tally, notReconnected));
        }
        if (o.compression) {
            r.put("compressed_messages", compressedMessages.sum());
        }
        double cpuSum = 0;
        double cpuMax = 0;
        int cpuN = 0;
        int hot = 0;
        for (Second s : series) {
            if (s.measured && s.cpu >= 0) {
                cpuSum += s.cpu;
                cpuMax = Math.max(cpuMax, s.cpu);
                cpuN++;
                hot += s.cpu >= CPU_WARNING ? 1 : 0;
            }
        }
        Map<String, Object> cpu = new LinkedHashMap<>();
        cpu.put("mean", cpuN == 0 ? null : cpuSum / cpuN);
        cpu.put("max", cpuN == 0 ? null : cpuMax);
        cpu.put("cores", Runtime.getRuntime().availableProcessors());
        r.put("cpu", cpu);
        int serverUnread = 0;
        if (o.serverCpu != null) {
            double sum = 0;
            double max = 0;
            int n = 0;
            int gone = 0;
            for (Second s : series) {
                if (s.measured && s.serverCpu >= 0) {
                    sum += s.serverCpu;
                    max = Math.max(max, s.serverCpu);
                    n++;
                } else if (s.serverCpu < 0) {
                    gone++;
                }
            }
            Map<String, Object> server = new LinkedHashMap<>();
            server.put("pid", o.serverCpu.pid());
            server.put("mean", n == 0 ? null : sum / n);
            server.put("max", n == 0 ? null : max);
            server.put("seconds_unread", gone);
            r.put("server_cpu", server);
            serverUnread = gone;
        }
        List<String> warnings = new ArrayList<>();
        String cpuWarning = cpuWarning(hot, cpuN, cpuMax, Runtime.getRuntime().availableProcessors());
        if (cpuWarning != null) {
            warnings.add(cpuWarning);
        }
        if (serverUnread > 0) {
            warnings.add("the CPU of --server-pid " + o.serverCpu.pid() + " could not be read in " + serverUnread
                    + " second(s): did the process end?");
        }
        if (fatal.get() != null) {
            warnings.add("stopped early: " + fatal.get());
        }
        if (firstError.get() != null) {
            warnings.add("first error from the server: " + firstError.get());
        }
        if (notReconnected > 0) {
            warnings.add(notReconnected + " subscriber(s) had not reconnected " + RECONNECT_WAIT_SECONDS
                    + " s after the end: what they were owed counts as missing");
        }
        if (firstServerClose.get() != null) {
            warnings.add(closedByServer.sum() + " subscriber connection(s) ended without loadgen dropping them "
                    + "(each reconnected with recover); the first: " + firstServerClose.get());
        }
        r.put("warnings", warnings);
        List<Object> stages = new ArrayList<>();
        for (Options.Stage s : plan) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", s.name);
            m.put("seconds", s.seconds);
            m.put("rate", s.rate);
            m.put("subscribers", o.role == Options.Role.PUBLISHERS ? 0 : s.subscribers);
            m.put("measured", s.measured);
            stages.add(m);
        }
        r.put("stages", stages);
        List<Object> distribution = Histograms.distribution(total);
        r.put("distribution", distribution);
        // What `loadgen merge` needs to add runs of split processes exactly.
        r.put("histogram", Histograms.encode(total));
        r.put("per_channel", perChannel());
        r.put("series_start_ms", seriesStartMillis);
        r.put("series", seriesColumns(series));
        boolean passed = measuredErrors == 0 && (long) r.get("missing") == 0 && (long) r.get("duplicates") == 0
                && (tally == null || tally.outOfOrder() == 0) && fatal.get() == null;
        passed &= Threshold.judge(o.thresholds, r, r);
        r.put("passed", passed);
        return r;
    }

    /** The result's {@code reconnect} section: what the drops, reconnects and recoveries of the whole run did. */
    private Map<String, Object> reconnectResult(RecoveryCheck.Tally tally, int notReconnected) {
        Map<String, Object> m = new LinkedHashMap<>();
        List<Object> urls = new ArrayList<>();
        for (URI u : o.urls()) {
            urls.add(u.toString());
        }
        m.put("urls", urls);
        m.put("reconnect_to", o.reconnectTo.name().toLowerCase(Locale.ROOT));
        m.put("drop_every_ms", o.dropEveryMillis);
        m.put("drop_all_every_ms", o.dropAllEveryMillis);
        m.put("drops", drops.sum());
        m.put("closed_by_server", closedByServer.sum());
        m.put("failed_attempts", failedAttempts.sum());
        m.put("recovered", recovered.sum());
        m.put("unrecovered", unrecovered.sum());
        m.put("not_reconnected", (long) notReconnected);
        m.put("replayed", replayed.sum());
        m.put("lost", tally.lost());
        m.put("gaps", tally.gaps());
        m.put("missing_while_connected", tally.missing());
        m.put("duplicates", tally.duplicates());
        m.put("out_of_order", tally.outOfOrder());
        Histogram h = recovery.getIntervalHistogram();
        m.put("recovery_us", Histograms.summary(h));
        m.put("recovery_distribution", Histograms.distribution(h));
        m.put("recovery_histogram", Histograms.encode(h));
        return m;
    }

    /** The warning when loadgen itself was at or above {@link #CPU_WARNING} of its cores in measured seconds. */
    static String cpuWarning(int hotSeconds, int seconds, double max, int cores) {
        if (hotSeconds == 0) {
            return null;
        }
        return String.format(Locale.ROOT, "loadgen's own CPU was at or above %.0f%% of its %d cores in %d of %d "
                        + "measured seconds (up to %.0f%%): the result may measure loadgen, not the server. Give "
                        + "loadgen more cores, or split the load over processes or machines (--role).",
                CPU_WARNING * 100, cores, hotSeconds, seconds, max * 100);
    }

    private Map<String, Object> seriesColumns(List<Second> series) {
        Map<String, List<Object>> c = new LinkedHashMap<>();
        for (String k : List.of("t", "stage", "measured", "connections", "publishes_per_s", "deliveries_per_s",
                "errors", "p50_us", "p90_us", "p99_us", "p999_us", "max_us", "cpu", "server_cpu",
                "latency_histogram", "drops", "recovered", "unrecovered")) {
            c.put(k, new ArrayList<>());
        }
        boolean server = o.serverCpu != null;
        for (Second s : series) {
            boolean any = s.latency.getTotalCount() > 0;
            c.get("t").add(s.t);
            c.get("stage").add(s.stage);
            c.get("measured").add(s.measured);
            c.get("connections").add(s.connections);
            c.get("publishes_per_s").add((double) Math.round(s.publishes / s.seconds));
            c.get("deliveries_per_s").add((double) Math.round(s.deliveries / s.seconds));
            c.get("errors").add(s.errors);
            c.get("p50_us").add(any ? s.latency.getValueAtPercentile(50) : null);
            c.get("p90_us").add(any ? s.latency.getValueAtPercentile(90) : null);
            c.get("p99_us").add(any ? s.latency.getValueAtPercentile(99) : null);
            c.get("p999_us").add(any ? s.latency.getValueAtPercentile(99.9) : null);
            c.get("max_us").add(any ? s.latency.getMaxValue() : null);
            c.get("cpu").add(s.cpu < 0 ? null : Math.round(s.cpu * 1000) / 1000.0);
            c.get("server_cpu").add(s.serverCpu < 0 ? null : Math.round(s.serverCpu * 1000) / 1000.0);
            c.get("latency_histogram").add(any ? Histograms.encode(s.latency) : null);
            c.get("drops").add(s.drops);
            c.get("recovered").add(s.recovered);
            c.get("unrecovered").add(s.unrecovered);
        }
        if (!server) {
            c.remove("server_cpu");
        }
        if (!o.recover) {
            c.remove("drops");
            c.remove("recovered");
            c.remove("unrecovered");
        }
        return new LinkedHashMap<>(c);
    }

    /** Prints the result, writes the files asked for, and returns the exit code. */
    @SuppressWarnings("unchecked")
    private int report(Map<String, Object> r) {
        Map<String, Object> lat = (Map<String, Object>) r.get("latency_us");
        out.printf(Locale.ROOT, "deliveries/s %,.0f  publishes/s %,.0f%n", (double) r.get("deliveries_per_s"),
                (double) r.get("publishes_per_s"));
        if (lat.get("p50") == null) {
            out.println("latency: no deliveries received in this process");
        } else {
            out.printf(Locale.ROOT, "latency, publish to receipt: p50 %s  p99 %s  p99.9 %s  max %s  (%,d samples)%n",
                    formatMicros((long) lat.get("p50")), formatMicros((long) lat.get("p99")),
                    formatMicros((long) lat.get("p999")), formatMicros((long) lat.get("max")), (long) lat.get("count"));
        }
        out.printf(Locale.ROOT, "errors %d  missing %d  duplicates %d%n", (long) r.get("errors"), (long) r.get("missing"),
                (long) r.get("duplicates"));
        Map<String, Object> rc = (Map<String, Object>) r.get("reconnect");
        if (rc != null) {
            Map<String, Object> rl = (Map<String, Object>) rc.get("recovery_us");
            out.printf(Locale.ROOT, "reconnects: drops %d  closed by the server %d  failed attempts %d  recovered %d  "
                            + "unrecovered %d (lost %d)  replayed %d%n", rc.get("drops"), rc.get("closed_by_server"),
                    rc.get("failed_attempts"), rc.get("recovered"), rc.get("unrecovered"), rc.get("lost"),
                    rc.get("replayed"));
            out.printf(Locale.ROOT, "after reconnects: gaps %d  missing while connected %d  duplicates %d  out of order "
                            + "%d%n", rc.get("gaps"), rc.get("missing_while_connected"), rc.get("duplicates"),
                    rc.get("out_of_order"));
            if (rl.get("p50") != null) {
                out.printf(Locale.ROOT, "recovery, reconnect start to recovered:true: p50 %s  p99 %s  max %s  (%,d)%n",
                        formatMicros((long) rl.get("p50")), formatMicros((long) rl.get("p99")),
                        formatMicros((long) rl.get("max")), (long) rl.get("count"));
            }
        }
        for (Object w : (List<Object>) r.get("warnings")) {
            out.println("warning: " + w);
        }
        boolean thresholdsCrossed = false;
        for (Object v : (List<Object>) r.get("thresholds")) {
            Map<String, Object> m = (Map<String, Object>) v;
            Threshold t = Threshold.parse((String) m.get("rule"));
            double actual = Json.number(m.get("actual"));
            boolean ok = (boolean) m.get("passed");
            out.printf(Locale.ROOT, "threshold %s: %s (%s)%n", t.text, ok ? "passed" : "FAILED", t.describe(actual));
            if (!ok) {
                thresholdsCrossed = true;
                err.printf(Locale.ROOT, "loadgen: threshold crossed: %s (%s was %s)%n", t.text, t.metric,
                        t.describe(actual));
            }
        }
        String json = Json.write(r);
        int exit = 0;
        try {
            if (o.out != null) {
                Files.writeString(Path.of(o.out), json + "\n", StandardCharsets.UTF_8);
                out.println("result: " + o.out);
            }
            if (o.report != null) {
                // From the JSON as written, so that the report shows exactly its numbers.
                HtmlReport.write(List.of(Json.object(Json.parse(json), "result")), Path.of(o.report));
                out.println("report: " + o.report);
            }
        } catch (IOException e) {
            err.println("loadgen: cannot write " + e.getMessage());
            exit = 1;
        }
        if (o.json) {
            out.println(json);
        }
        if (fatal.get() != null) {
            err.println("loadgen: stopped early: " + fatal.get());
            return 1;
        }
        if (firstError.get() != null) {
            err.println("loadgen: first error from the server: " + firstError.get());
        }
        if (rc != null && ((long) rc.get("gaps") != 0 || (long) rc.get("duplicates") != 0
                || (long) rc.get("out_of_order") != 0 || (long) rc.get("missing_while_connected") != 0)) {
            err.printf(Locale.ROOT, "loadgen: failed: after reconnects, gaps %d, duplicates %d, out of order %d, missing "
                            + "while connected %d%n", rc.get("gaps"), rc.get("duplicates"), rc.get("out_of_order"),
                    rc.get("missing_while_connected"));
            return 1;
        }
        if ((long) r.get("errors") != 0 || (long) r.get("missing") != 0 || (long) r.get("duplicates") != 0) {
            err.println("loadgen: failed: errors, missing or duplicate deliveries");
            return 1;
        }
        return thresholdsCrossed ? 1 : exit;
    }

    // ---- peers ----

    /**
     * A connection's role. All but the constructor run on its event loop, {@link #loop}, which every
     * connection of the peer uses (a subscriber's reconnects too).
     */
    private abstract class Peer implements WsConnection.Listener, Protocol.Events {
        final int index;
        final EventLoop loop = group.next();
        private final CountDownLatch ready;
        Protocol.Client client;
        private WsConnection connection;
        /** Its first connection has joined or failed: its permit of {@link #inFlight} is back. */
        private boolean counted;
        /** Joined and not closed since: counted in {@link #connected}. */
        private boolean open;
        /** Closed by loadgen on purpose (a ramp down): not a failure. */
        volatile boolean left;

        Peer(int index, CountDownLatch ready) {
            this.index = index;
            this.ready = ready;
        }

        abstract List<String> channelNames();

        WsConnection connection() {
            return connection;
        }

        /** The protocol client of a new connection. */
        Protocol.Client newClient() {
            return o.protocol.client(this, channelNames());
        }

        @Override
        public void onOpen(WsConnection c) {
            connection = c;
            client = newClient();
            client.opened();
        }

        /** A connection to {@code endpoint} could not be made: the run cannot go on. */
        void connectFailed(Endpoint endpoint, Throwable cause) {
            fatal.compareAndSet(null, "cannot connect to " + endpoint.remote.getHostString() + ":" + endpoint.port
                    + " after " + connected.get() + " connections: " + rootMessage(cause) + hint(cause));
            inFlight.release();
        }

        @Override
        public void onMessage(WsConnection c, ByteBuf payload) {
            if (client == null) {
                return; // a connection closed as it opened (a subscriber that left while it reconnected)
            }
            if (!o.batch) {
                client.onMessage(c.ctx().alloc(), payload);
                return;
            }
            // A batched frame (--batch): its messages, one per line, each as if it came alone; the
            // requests they make (a publisher's next publishes) go out together, in one frame, after.
            holding = true;
            try {
                int end = payload.writerIndex();
                int start = payload.readerIndex();
                while (start < end) {
                    int nl = payload.indexOf(start, end, (byte) '\n');
                    int lineEnd = nl < 0 ? end : nl;
                    if (lineEnd > start) {
                        client.onMessage(c.ctx().alloc(), payload.slice(start, lineEnd - start));
                    }
                    start = nl < 0 ? end : nl + 1;
                }
            } finally {
                holding = false;
            }
            sendHeld(true);
        }

        /** --batch: the most bytes of requests loadgen puts in one frame (the node's limit is 64 KiB). */
        static final int MAX_BATCH_BYTES = 16 * 1024;
        /** --batch: requests held to go out together, one per line, in one frame; {@code null}: none. */
        private ByteBuf held;
        /** --batch: whether sends are held (while a received frame or a window fill is served). */
        boolean holding;

        @Override
        public void send(ByteBuf payload, boolean flush) {
            if (!o.batch) {
                connection.send(o.protocol.frameType(), payload, flush);
                return;
            }
            if (held != null && held.readableBytes() + 1 + payload.readableBytes() > MAX_BATCH_BYTES) {
                sendHeld(false);
            }
            if (held == null) {
                held = payload;
            } else {
                ByteBuf merged = connection.ctx().alloc().buffer(held.readableBytes() + 1 + payload.readableBytes());
                merged.writeBytes(held).writeByte('\n').writeBytes(payload);
                held.release();
                payload.release();
                held = merged;
            }
            if (!holding) {
                sendHeld(flush);
            }
        }

        /** --batch: sends the held requests as one frame. */
        void sendHeld(boolean flush) {
            ByteBuf b = held;
            if (b != null) {
                held = null;
                connection.send(o.protocol.frameType(), b, flush);
            }
        }

        @Override
        public void joined() {
            if (!open) {
                open = true;
                connected.incrementAndGet();
            }
            if (!counted) {
                counted = true;
                inFlight.release();
                if (ready != null) {
                    ready.countDown();
                }
            }
        }

        @Override
        public void answered(boolean ok, ByteBuf payload) {
            if (!ok) {
                error(payload.toString(StandardCharsets.UTF_8));
            }
        }

        @Override
        public void refused(String why) {
            fatal.compareAndSet(null, why);
        }

        @Override
        public void serverError(String text) {
            error(text);
        }

        void error(String text) {
            errors.increment();
            firstError.compareAndSet(null, text);
        }

        /** Closes this connection on purpose. */
        void leave() {
            left = true;
            if (connection != null) {
                connection.ctx().close();
            }
        }

        @Override
        public void onFailure(WsConnection c, String reason) {
            if (!left && !stopping && (publishing || !counted)) {
                fatal.compareAndSet(null, (this instanceof Publisher ? "publisher " : "subscriber ") + index + ": "
                        + reason);
            }
            if (!counted) {
                counted = true; // its permit goes back once
                inFlight.release();
            }
        }

        @Override
        public void onClosed(WsConnection c) {
            if (held != null) {
                held.release();
                held = null;
            }
            if (client != null) {
                client.closed();
                client = null;
            }
            if (open) {
                open = false;
                connected.decrementAndGet();
            }
        }
    }

    /**
     * Joins one channel and checks every delivery's order and latency. With --recover it joins with
     * positions, drops its connection when told, reconnects whenever a connection ends, and checks
     * with a {@link RecoveryCheck} instead.
     */
    private final class Subscriber extends Peer implements MinichatsProtocol.Positions {
        final int channel;
        private final long[] parsed = new long[2];
        private long nextSeq;
        /**
         * With several publishers per channel (fan-in): the next sequence number of each, by its slot
         * ({@link Publisher#SLOT_SHIFT}); -1 until its first delivery when this joined mid-run.
         */
        private final long[] nextSeqs;
        /** The first sequence number this subscriber must get: 0 unless it joined after publishing began; -1 until joined. */
        volatile long expectedFrom = -1;
        volatile long unique;
        // --recover only:
        private final RecoveryCheck check;
        /** Which of {@link #subscribeTo} its current connection goes to. */
        private int urlIndex;
        /** The channel's epoch as last reported, and the last offset received in it; null until joined. */
        private String epoch;
        private long offset;
        /** The highest offset received on the current connection; -1: none yet. */
        private long connectionOffset = -1;
        /** After a recovered:true, deliveries up to this offset are the replay; -1: none. */
        private long replayUpTo = -1;
        /** Subscribed on the current connection, and not dropped. */
        private boolean live;
        /** loadgen is closing the current connection on purpose. */
        private boolean dropping;
        /** Counts connections: a drop timer of an earlier one finds a later count and does nothing. */
        private int generation;
        private long reconnectStartedNanos;
        /** From the end of a joined connection to the ok of the next one's recover. */
        volatile boolean reconnecting;

        Subscriber(int index, CountDownLatch ready) {
            super(index, ready);
            this.channel = index % o.channels;
            this.nextSeqs = o.publishersPerChannel() > 1 ? new long[o.publishersPerChannel()] : null;
            this.check = o.recover ? new RecoveryCheck(o.publishersPerChannel()) : null;
            this.urlIndex = index % subscribeTo.size();
        }

        /** Opens its first connection, to its share of --url. */
        void connect() {
            LoadGen.this.connect(this, subscribeTo.get(urlIndex), "sub" + index);
        }

        @Override
        Protocol.Client newClient() {
            return o.recover ? MinichatsProtocol.INSTANCE.positions(this, o.channel(channel)) : super.newClient();
        }

        @Override
        public void onOpen(WsConnection c) {
            if (left) {
                c.ctx().close(); // ramped down while it reconnected
                return;
            }
            super.onOpen(c);
        }

        @Override
        List<String> channelNames() {
            return List.of(o.channel(channel));
        }

        @Override
        public void joined() {
            if (expectedFrom < 0) {
                // Publishes counted from now on were sent after the join took effect: they must arrive.
                expectedFrom = publishing ? publishedPerChannel.get(channel) : 0;
                nextSeq = expectedFrom;
                if (nextSeqs != null) {
                    java.util.Arrays.fill(nextSeqs, expectedFrom == 0 ? 0 : -1);
                }
                if (check != null) {
                    int slots = o.publishersPerChannel();
                    for (int slot = 0; slot < slots; slot++) {
                        check.expectFrom(slot, publishing ? publishedPerStream.get(channel * slots + slot) : 0);
                    }
                }
            }
            super.joined();
            if (check != null) {
                live = true;
                reconnecting = false;
                if (publishing) {
                    scheduleDrop();
                }
            }
        }

        @Override
        public void delivered(ByteBuf buf, int contentAt) {
            long now = System.nanoTime();
            if (!Content.parse(buf, contentAt, parsed)) {
                return; // not loadgen's content (another client's message on the channel)
            }
            long seq = parsed[0];
            if (nextSeqs != null) {
                deliveredFromOneOf(seq, now);
                return;
            }
            if (unique == 0 && seq < expectedFrom) {
                // One published before the join was counted but delivered after it.
                expectedFrom = seq;
                nextSeq = seq;
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
            latency.recordValue(Math.max(0, (now - parsed[1]) / 1000));
        }

        /** A delivery on a channel with several publishers: order and gaps are per publisher. */
        private void deliveredFromOneOf(long tagged, long now) {
            int slot = (int) (tagged >>> Publisher.SLOT_SHIFT);
            long seq = tagged & ((1L << Publisher.SLOT_SHIFT) - 1);
            if (slot >= nextSeqs.length) {
                return; // not one of this run's publishers
            }
            long next = nextSeqs[slot];
            if (next < 0 || seq >= next) {
                if (next >= 0 && seq > next) {
                    gaps.add(seq - next);
                }
                nextSeqs[slot] = seq + 1;
                unique++;
            } else {
                duplicates.increment();
            }
            deliveries.increment();
            latency.recordValue(Math.max(0, (now - parsed[1]) / 1000));
        }

        // ---- --recover ----

        @Override
        public String epoch() {
            return epoch;
        }

        @Override
        public long offset() {
            return offset;
        }

        @Override
        public void subscribed(Boolean recoveredAll, long latest, String latestEpoch) {
            if (recoveredAll == null) {
                epoch = latestEpoch; // the first subscribe: positions from here
                offset = Math.max(latest, connectionOffset);
                return;
            }
            check.reconnected(recoveredAll);
            if (recoveredAll) {
                recovered.increment();
                recovery.recordValue(Math.max(0, (System.nanoTime() - reconnectStartedNanos) / 1000));
                replayUpTo = latest; // O+1 up to here follow, then live ones
            } else {
                unrecovered.increment();
                epoch = latestEpoch;
                offset = latest;
                replayUpTo = -1;
            }
        }

        @Override
        public void delivered(ByteBuf buf, int contentAt, long deliveredOffset) {
            long now = System.nanoTime();
            if (deliveredOffset >= 0) {
                offset = deliveredOffset;
                connectionOffset = Math.max(connectionOffset, deliveredOffset);
            }
            if (!Content.parse(buf, contentAt, parsed)) {
                return; // not loadgen's content (another client's message on the channel)
            }
            long tagged = parsed[0];
            boolean replay = deliveredOffset >= 0 && deliveredOffset <= replayUpTo;
            RecoveryCheck.Verdict v = check.delivered((int) (tagged >>> Publisher.SLOT_SHIFT),
                    tagged & ((1L << Publisher.SLOT_SHIFT) - 1), replay);
            if (v == RecoveryCheck.Verdict.FOREIGN) {
                return;
            }
            if (v != RecoveryCheck.Verdict.DUPLICATE) {
                unique++;
            }
            deliveries.increment();
            if (replay) {
                replayed.increment(); // its latency is the outage's, not the live path's
            } else {
                latency.recordValue(Math.max(0, (now - parsed[1]) / 1000));
            }
        }

        /** --drop-every: drops this connection after a random time, exponential with the option's mean. */
        void scheduleDrop() {
            if (o.dropEveryMillis <= 0 || !live) {
                return;
            }
            int g = generation;
            double u = ThreadLocalRandom.current().nextDouble();
            long delayMicros = Math.max(1, (long) (-Math.log(1 - u) * o.dropEveryMillis * 1000));
            loop.schedule(() -> {
                if (generation == g) {
                    drop();
                }
            }, delayMicros, TimeUnit.MICROSECONDS);
        }

        /** Closes the current connection, if subscribed and still publishing; a reconnect follows. */
        void drop() {
            if (!live || left || !publishing) {
                return;
            }
            live = false;
            dropping = true;
            drops.increment();
            connection().ctx().close();
        }

        @Override
        public void onFailure(WsConnection c, String reason) {
            if (check == null || expectedFrom < 0) {
                super.onFailure(c, reason); // the first connection: as without --recover
                return;
            }
            if (live && !dropping && !left && !stopping) {
                closedByServer.increment();
                firstServerClose.compareAndSet(null, "subscriber " + index + ": " + reason);
            }
        }

        @Override
        public void onClosed(WsConnection c) {
            super.onClosed(c);
            if (check == null || expectedFrom < 0 || left || stopping) {
                return;
            }
            boolean joinedThen = live || dropping;
            live = false;
            dropping = false;
            generation++;
            if (joinedThen) {
                reconnectStartedNanos = System.nanoTime();
                reconnecting = true;
                reconnect(false);
            } else {
                failedAttempts.increment(); // closed before its recover was answered
                reconnect(true);
            }
        }

        @Override
        void connectFailed(Endpoint endpoint, Throwable cause) {
            if (check == null || expectedFrom < 0) {
                super.connectFailed(endpoint, cause);
                return;
            }
            failedAttempts.increment();
            reconnect(true);
        }

        /** Connects again, to the --url --reconnect-to says; after {@link #RETRY_DELAY_MILLIS} when {@code retry}. */
        private void reconnect(boolean retry) {
            int n = subscribeTo.size();
            switch (o.reconnectTo) {
                case NEXT:
                    urlIndex = (urlIndex + 1) % n;
                    break;
                case RANDOM:
                    urlIndex = ThreadLocalRandom.current().nextInt(n);
                    break;
                default:
                    break;
            }
            connectionOffset = -1;
            Runnable go = () -> {
                if (!left && !stopping) {
                    connect();
                }
            };
            if (retry) {
                loop.schedule(go, RETRY_DELAY_MILLIS, TimeUnit.MILLISECONDS);
            } else {
                go.run();
            }
        }

        /**
         * Its {@link RecoveryCheck} counts, with the tails the publishers left; of one that left (a
         * ramp down), only what came twice or late.
         */
        RecoveryCheck.Tally tally() {
            int slots = o.publishersPerChannel();
            long[] published = new long[slots];
            for (int slot = 0; slot < slots; slot++) {
                published[slot] = publishedPerStream.get(channel * slots + slot);
            }
            RecoveryCheck.Tally t = check.tally(published);
            return left ? new RecoveryCheck.Tally(0, 0, 0, 0, t.duplicates(), t.outOfOrder()) : t;
        }
    }

    /**
     * Owns the channels c with c % P == p: joins them and publishes to them in turn. With more
     * publishers than channels (fan-in, P a multiple of C) publisher p publishes into channel p % C
     * only, as the (p / C)th of its P/C publishers: that slot is in the high bits of its sequence
     * numbers ({@link #SLOT_SHIFT}), so subscribers check order and gaps per publisher.
     */
    private final class Publisher extends Peer {
        /** Where a fan-in publisher's slot starts in its sequence numbers. */
        static final int SLOT_SHIFT = 40;
        private final int[] channels;
        private final long[] seqs;
        private final long slotBits;
        private int next;
        private int unanswered;

        Publisher(int index, CountDownLatch ready) {
            super(index, ready);
            if (o.publishersPerChannel() > 1) {
                channels = new int[] {index % o.channels};
                slotBits = (long) (index / o.channels) << SLOT_SHIFT;
            } else {
                int n = (o.channels - index + o.publishers - 1) / o.publishers;
                channels = new int[n];
                for (int i = 0; i < n; i++) {
                    channels[i] = index + i * o.publishers;
                }
                slotBits = 0;
            }
            seqs = new long[channels.length];
        }

        @Override
        List<String> channelNames() {
            List<String> names = new ArrayList<>();
            for (int c : channels) {
                names.add(o.channel(c));
            }
            return names;
        }

        @Override
        public void delivered(ByteBuf buf, int contentAt) {
            // Its own copy of what it published: the answer, for protocols that send no other. With
            // fan-in the channel's other publishers' messages come too: only its own slot's count.
            if (!o.protocol.repliesToPublish()
                    && (o.publishersPerChannel() == 1 || isOwn(buf, contentAt))) {
                answered();
            }
        }

        private final long[] parsedOwn = new long[2];

        private boolean isOwn(ByteBuf buf, int contentAt) {
            return Content.parse(buf, contentAt, parsedOwn) && (parsedOwn[0] >>> SLOT_SHIFT) == (slotBits >>> SLOT_SHIFT);
        }

        @Override
        public void answered(boolean ok, ByteBuf payload) {
            super.answered(ok, payload);
            answered();
        }

        @Override
        public void serverError(String text) {
            super.serverError(text);
            if (!o.protocol.repliesToPublish()) {
                answered(); // a rejected publish: its answer
            }
        }

        private void answered() {
            if (unanswered > 0) {
                unanswered--;
            }
            if (currentRate == 0 && publishing) {
                publish(System.nanoTime(), true);
            }
        }

        /** Fills the window of unanswered publishes (max-rate mode). */
        void fillWindow() {
            holding = true; // --batch: the window's publishes in as few frames as fit
            try {
                while (unanswered < o.window) {
                    publish(System.nanoTime(), false);
                }
            } finally {
                holding = false;
            }
            sendHeld(false);
            connection().ctx().flush();
        }

        /** Publishes the next message of the next channel. */
        void publish(long intendedNanos, boolean flush) {
            if (!publishing || !connection().ctx().channel().isActive()) {
                return;
            }
            int slot = next;
            next = (next + 1) % channels.length;
            int channel = channels[slot];
            long seq = slotBits | seqs[slot]++;
            ByteBuf payload = client.publish(alloc, o.channel(channel), seq, intendedNanos, o.size);
            unanswered++;
            publishedPerChannel.incrementAndGet(channel);
            if (publishedPerStream != null) {
                int perChannel = o.publishersPerChannel();
                publishedPerStream.incrementAndGet(channel * perChannel + (int) (slotBits >>> SLOT_SHIFT));
            }
            publishes.increment();
            send(payload, flush);
        }
    }
}
