package io.switchboard.benchmarks.loadgen;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * loadgen's command line, and the same settings from a scenario file ({@link Scenario}): both go
 * through {@link #set}. Every option has a default; {@code --help} prints them.
 */
final class Options {

    enum Role { ALL, SUBSCRIBERS, PUBLISHERS }

    /** Where a subscriber reconnects after a drop, among {@link #urls()} ({@code --reconnect-to}). */
    enum ReconnectTo { SAME, NEXT, RANDOM }

    Protocol protocol = MinichatsProtocol.INSTANCE;
    /** Where subscribers connect, subscriber i to the (i % n)th; empty: the protocol's default. */
    List<URI> urls = List.of();
    /** Where publishers connect; {@code null}: {@link #url()}. */
    URI publishUrl;
    int subscribers = 1000;
    int channels = 1;
    int publishers = 1;
    private boolean publishersSet;
    /** Publishes per second over all publishers; 0 = as fast as the window allows. */
    int rate;
    int window = 64;
    int size = 40;
    int durationSeconds = 10;
    int warmupSeconds = 3;
    int sourceIps = 4;
    int connectTimeoutSeconds = 120;
    String channelPrefix = "load";
    Role role = Role.ALL;
    /** The process whose CPU is sampled each second ({@code --server-pid}), or {@code null}. */
    ServerCpu serverCpu;
    boolean json;
    boolean progress = true;
    /** Offer permessage-deflate and inflate compressed deliveries ({@code --compression}, issue 19). */
    boolean compression;
    /**
     * minichats only: connect with {@code ?batch=1} and split each frame into its {@code \n}-separated
     * messages ({@code --batch}, PROTOCOL.md section 1a).
     */
    boolean batch;
    /** Where the JSON result is written, or {@code null}. */
    String out;
    /** Where the HTML report is written, or {@code null}. */
    String report;
    /** The scenario file these options came from, or {@code null}. */
    String scenario;
    final List<Threshold> thresholds = new ArrayList<>();
    /** The stages of a scenario file; empty: warm-up then {@link #durationSeconds} at {@link #rate}. */
    final List<Stage> stages = new ArrayList<>();
    /** wss:// only: the PEM CA certificate(s) to trust instead of the JDK's ({@code --ca-file}), or {@code null}. */
    String caFile;
    /** wss:// only: trust any certificate, check no host name ({@code --insecure}). */
    boolean insecure;
    /** The command line as given, for the report. */
    String command = "";
    /**
     * minichats: subscribe with positions and, whenever a subscriber's connection ends, reconnect it
     * and subscribe with {@code recover} from the last offset it received ({@code --recover}, issue 18).
     * Implied by the two drop options.
     */
    boolean recover;
    /** Mean interval at which each subscriber drops its connection, in ms; 0: never ({@code --drop-every}). */
    long dropEveryMillis;
    /** Interval at which every subscriber drops its connection at once, in ms; 0: never ({@code --drop-all-every}). */
    long dropAllEveryMillis;
    ReconnectTo reconnectTo = ReconnectTo.NEXT;

    static final String USAGE = String.join("\n",
            "Usage: java -jar loadgen.jar [OPTION VALUE]...",
            "       java -jar loadgen.jar report RUN.json [RUN.json]... -o REPORT.html",
            "       java -jar loadgen.jar merge RUN.json RUN.json... -o MERGED.json   (--role split runs)",
            "",
            "Load-tests a pub-sub server: N subscriber connections over C channels, P publishers",
            "(publisher p owns the channels c with c % P == p and joins them too), publishing at a fixed",
            "total rate scheduled by intended send time (latency includes any queueing: no coordinated",
            "omission) or as fast as a window of unanswered publishes allows. Each content carries its",
            "channel's sequence number and its intended send time; receivers record publish-to-receipt",
            "latency in an HdrHistogram and count missing and duplicate deliveries. Always stops by itself.",
            "",
            "  --protocol NAME        minichats (/api/connect), disposable (/ws rooms), chatroom (topics),",
            "                         nats (NATS over WebSocket)                    [minichats]",
            "  --url URL[,URL...]     ws://host:port/path or wss:// (TLS)  [the protocol's:",
            "                         ws://127.0.0.1:3501/api/connect, .../ws, .../chatroom; nats: ws://127.0.0.1:8080/]",
            "                         several (the nodes of a cluster): subscriber i connects to the (i % n)th",
            "  --ca-file FILE         wss://: trust the PEM CA certificate(s) in FILE instead of the JDK's",
            "  --insecure             wss://: trust any certificate and check no host name (a throwaway one)",
            "  --publish-url URL      publishers connect here instead (another node of a cluster)",
            "                         [the first --url]",
            "  --subscribers N        subscriber connections                       [1000]",
            "  --channels C           channels; subscriber i joins channel i % C   [1]",
            "  --publishers P         publisher connections (at most C, or a multiple of C: P/C publishers",
            "                         into each channel, fan-in; disposable: C, a connection is in one room) [1]",
            "  --rate R               publishes per second in all; 0 = max rate    [0]",
            "  --window W             unanswered publishes per publisher at max rate [64]",
            "  --size BYTES           content bytes on the wire (a JSON string's quotes included); at",
            "                         least 40: it carries a sequence number and the send time [40]",
            "  --duration S           measured seconds                             [10]",
            "  --warmup S             seconds of load before measuring             [3]",
            "  --scenario FILE        a JSON scenario: these options by name, and stages (docs/loadgen.md);",
            "                         options after it override it",
            "  --threshold LIST       pass/fail rules, comma-separated, e.g. 'p99<5ms,missing=0,",
            "                         deliveries_per_s>100000': any crossed gives exit code 1",
            "  --report FILE.html     write a self-contained HTML report of the run",
            "  --out FILE.json        write the JSON result (with its per-second series) to FILE",
            "  --json                 also print the JSON result as the last line of standard output",
            "  --no-progress          no progress line on standard error",
            "  --source-ips K         spread connections over 127.0.0.1..127.0.0.K [4]",
            "  --connect-timeout S    give up if not all connected by then         [120]",
            "  --channel-prefix NAME  channel names are NAME-0, NAME-1, ...        [load]",
            "  --role all|subscribers|publishers   split one test over processes   [all]",
            "  --server-pid PID       also sample that process's CPU each second (Linux: /proc/PID/stat)",
            "  --compression          offer permessage-deflate (RFC 7692) and inflate compressed messages;",
            "                         a server that does not accept it fails the run (publishes go plain)",
            "  --batch                minichats: connect with ?batch=1 (batched frames, PROTOCOL.md 1a)",
            "                         and split each frame on \\n; the publishes a frame's answers (or a",
            "                         window) call for go out together, one per line, up to 16 KiB a frame",
            "",
            "Reconnect storms (minichats, a node with HISTORY_SIZE > 0; PROTOCOL.md 1a):",
            "  --recover              subscribe with positions; a subscriber whose connection ends, however,",
            "                         reconnects at once and subscribes with recover from the last offset",
            "                         and epoch it received (a failed attempt is retried after 100 ms)",
            "  --drop-every T         --recover, and each subscriber closes its connection at random moments,",
            "                         on average every T (exponential intervals; 500ms, 2s, 1m)  [off]",
            "  --drop-all-every T     --recover, and every T all subscribers close their connections at once",
            "                         (a storm)                                    [off]",
            "  --reconnect-to WHERE   same (its last --url), next (the next --url), random (any)   [next]",
            "  Each subscriber checks every publisher's sequence numbers across its reconnects: a skip after a",
            "  reconnect that said recovered:true is a gap, one after recovered:false is lost (allowed), a",
            "  repeat is a duplicate, a late one out of order. Gaps, duplicates, out-of-order deliveries and",
            "  missing ones fail the run. Replayed deliveries are counted apart; latency is the live ones'.",
            "",
            "Thresholds: p50, p90, p99, p999, max, mean (latency: us, ms or s; ms without a unit),",
            "deliveries_per_s, publishes_per_s, errors, missing, duplicates, cpu (loadgen's, percent of",
            "its cores); with --recover also recovery_p50, recovery_p90, recovery_p99, recovery_max",
            "(reconnect start to the ok that said recovered:true), gaps, out_of_order, lost, recovered,",
            "unrecovered, drops; operators < <= > >= = !=.",
            "",
            "Exit codes: 0 passed; 1 the run failed (errors, missing, duplicate or out-of-order deliveries,",
            "gaps, a crossed threshold, a server that refuses or is not there); 2 a usage error.",
            "",
            "Latency needs sender and receivers on one machine (it compares System.nanoTime).",
            "One process opens about N + P sockets; keep that under its open-file limit (ulimit -n),",
            "or split: run '--role subscribers' in several processes and '--role publishers' in one.");

    /** Parses a command line; IllegalArgumentException with a message for the user when it is wrong. */
    static Options parse(String[] args) {
        Options o = new Options();
        o.command = "java -jar loadgen.jar" + commandLine(args);
        // A scenario file first, wherever it is: the other options override it.
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals("--scenario")) {
                o.scenario = args[i + 1];
                Scenario.load(java.nio.file.Path.of(args[i + 1]), o);
            }
        }
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (!flag.startsWith("--")) {
                throw new IllegalArgumentException("unexpected '" + flag + "'");
            }
            String name = flag.substring(2);
            if (name.equals("json") || name.equals("no-progress") || name.equals("insecure")
                    || name.equals("compression") || name.equals("batch") || name.equals("recover")) {
                o.set(name, "true");
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + flag + " needs a value");
            }
            String v = args[++i];
            if (!name.equals("scenario")) {
                o.set(name, v);
            }
        }
        return o.validate();
    }

    /** Sets the option {@code name} (without its dashes), from a flag or a scenario file. */
    void set(String name, String v) {
        String flag = "--" + name;
        switch (name) {
            case "protocol":
                protocol = Protocol.named(v);
                break;
            case "url": {
                List<URI> list = new ArrayList<>();
                for (String u : v.split(",", -1)) {
                    list.add(parseUrl(flag, u.trim()));
                }
                urls = List.copyOf(list);
                break;
            }
            case "publish-url":
                publishUrl = parseUrl(flag, v);
                break;
            case "subscribers":
                subscribers = parse(flag, v, 0);
                break;
            case "channels":
                channels = parse(flag, v, 1);
                break;
            case "publishers":
                publishers = parse(flag, v, 0);
                publishersSet = true;
                break;
            case "rate":
                rate = parse(flag, v, 0);
                break;
            case "window":
                window = parse(flag, v, 1);
                break;
            case "size":
                size = parse(flag, v, 40);
                break;
            case "duration":
                durationSeconds = parseSeconds(flag, v, 1);
                break;
            case "warmup":
                warmupSeconds = parseSeconds(flag, v, 0);
                break;
            case "source-ips":
                sourceIps = parse(flag, v, 1);
                break;
            case "connect-timeout":
                connectTimeoutSeconds = parseSeconds(flag, v, 1);
                break;
            case "channel-prefix":
                if (v.isEmpty() || !v.matches("[A-Za-z0-9_.-]+")) {
                    throw new IllegalArgumentException(flag + " '" + v + "': expected letters, digits, '_', '-' or '.'");
                }
                channelPrefix = v;
                break;
            case "role":
                try {
                    role = Role.valueOf(v.toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(flag + " " + v + ": expected all, subscribers or publishers");
                }
                break;
            case "server-pid": {
                long pid;
                try {
                    pid = Long.parseLong(v.trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(flag + " " + v + ": not a process id");
                }
                if (pid <= 0) {
                    throw new IllegalArgumentException(flag + " " + v + ": not a process id");
                }
                serverCpu = ServerCpu.of(pid);
                break;
            }
            case "threshold":
                thresholds.addAll(Threshold.parseList(v));
                break;
            case "report":
                report = v;
                break;
            case "out":
                out = v;
                break;
            case "json":
                json = Boolean.parseBoolean(v);
                break;
            case "no-progress":
                progress = !Boolean.parseBoolean(v);
                break;
            case "ca-file":
                if (!java.nio.file.Files.isReadable(java.nio.file.Path.of(v))) {
                    throw new IllegalArgumentException(flag + " " + v + ": not a readable file");
                }
                caFile = v;
                break;
            case "insecure":
                insecure = Boolean.parseBoolean(v);
                break;
            case "compression":
                compression = Boolean.parseBoolean(v);
                break;
            case "batch":
                batch = Boolean.parseBoolean(v);
                break;
            case "recover":
                recover = Boolean.parseBoolean(v);
                break;
            case "drop-every":
                dropEveryMillis = parseMillis(flag, v);
                break;
            case "drop-all-every":
                dropAllEveryMillis = parseMillis(flag, v);
                break;
            case "reconnect-to":
                try {
                    reconnectTo = ReconnectTo.valueOf(v.toUpperCase(Locale.ROOT));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(flag + " " + v + ": expected same, next or random");
                }
                break;
            default:
                throw new IllegalArgumentException("unknown option '" + flag + "'");
        }
    }

    private Options validate() {
        recover |= dropEveryMillis > 0 || dropAllEveryMillis > 0;
        if (recover && protocol != MinichatsProtocol.INSTANCE) {
            throw new IllegalArgumentException(reconnectOption() + ": recovery after a reconnect is a minichats "
                    + "extension, not " + protocol.name() + "'s");
        }
        if (recover && role != Role.ALL) {
            throw new IllegalArgumentException(reconnectOption() + " with --role " + role.name().toLowerCase(Locale.ROOT)
                    + ": the reconnect check needs the publishers in the same process (--role all)");
        }
        if (batch && protocol != MinichatsProtocol.INSTANCE) {
            throw new IllegalArgumentException("--batch: batched frames are a minichats extension, not "
                    + protocol.name() + "'s");
        }
        if (protocol.oneChannelPerConnection() && publishers != channels) {
            if (publishersSet) {
                throw new IllegalArgumentException("--publishers " + publishers + " with --channels " + channels + ": a "
                        + protocol.name() + " connection is in one room, so each channel needs a publisher of its own "
                        + "(--publishers " + channels + ")");
            }
            publishers = channels;
        }
        if (publishers > channels && publishers % channels != 0) {
            throw new IllegalArgumentException("--publishers " + publishers + " is more than --channels "
                    + channels + " and not a multiple of it: each publisher owns at least one channel, or each "
                    + "channel has the same number of publishers (fan-in)");
        }
        if (caFile != null && insecure) {
            throw new IllegalArgumentException("--ca-file and --insecure: choose one (a CA to trust, or none checked)");
        }
        if (sourceIps > 254) {
            throw new IllegalArgumentException("--source-ips " + sourceIps + " (expected: 1 to 254)");
        }
        if (size > protocol.maxContentBytes()) {
            throw new IllegalArgumentException("--size " + size + ": " + protocol.name() + " carries at most "
                    + protocol.maxContentBytes() + " bytes");
        }
        boolean fixedRate = plan().stream().anyMatch(s -> s.rate > 0);
        for (Stage s : plan()) {
            if (fixedRate && s.rate == 0) {
                throw new IllegalArgumentException("stage '" + s.name + "': rate 0 (max rate) in a run of fixed rates: "
                        + "give every stage a rate, or none");
            }
        }
        return this;
    }

    /** The option that turned reconnects on, for messages. */
    private String reconnectOption() {
        return dropEveryMillis > 0 ? "--drop-every" : dropAllEveryMillis > 0 ? "--drop-all-every" : "--recover";
    }

    /** The first URL subscribers connect to (publishers too, without {@code --publish-url}). */
    URI url() {
        return urls().get(0);
    }

    /** Every URL subscribers connect to: {@code --url}'s, or the protocol's default. */
    List<URI> urls() {
        return urls.isEmpty() ? List.of(protocol.defaultUrl()) : urls;
    }

    /** {@code --url} as given: its URLs joined by commas. */
    String urlText() {
        StringBuilder b = new StringBuilder();
        for (URI u : urls()) {
            b.append(b.length() == 0 ? "" : ",").append(u);
        }
        return b.toString();
    }

    private static URI parseUrl(String flag, String v) {
        URI u;
        try {
            u = new URI(v);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(flag + " " + v + ": not a URL (" + e.getReason() + ")");
        }
        if (!("ws".equalsIgnoreCase(u.getScheme()) || "wss".equalsIgnoreCase(u.getScheme())) || u.getHost() == null) {
            throw new IllegalArgumentException(flag + " " + v + ": expected ws://host[:port]/path or wss://...");
        }
        return u;
    }

    static int parse(String flag, String v, int min) {
        int n;
        try {
            n = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " " + v + ": not a whole number");
        }
        if (n < min) {
            throw new IllegalArgumentException(flag + " " + v + ": expected at least " + min);
        }
        return n;
    }

    /** Seconds as a whole number, or with a unit: {@code 90}, {@code 90s}, {@code 2m}, {@code 1h}. */
    static int parseSeconds(String flag, String v, int min) {
        String t = v.trim().toLowerCase(Locale.ROOT);
        int scale = 1;
        if (t.endsWith("h")) {
            scale = 3600;
        } else if (t.endsWith("m")) {
            scale = 60;
        } else if (!t.endsWith("s")) {
            return parse(flag, t, min);
        }
        int n = parse(flag, t.substring(0, t.length() - 1), 0) * scale;
        if (n < min) {
            throw new IllegalArgumentException(flag + " " + v + ": expected at least " + min + " s");
        }
        return n;
    }

    /**
     * A duration in milliseconds: {@code 500ms}, {@code 2s}, {@code 1m}, {@code 1h}, or a whole number
     * of seconds; 0 turns the option off.
     */
    static long parseMillis(String flag, String v) {
        String t = v.trim().toLowerCase(Locale.ROOT);
        long scale;
        String digits;
        if (t.endsWith("ms")) {
            scale = 1;
            digits = t.substring(0, t.length() - 2);
        } else if (t.endsWith("s")) {
            scale = 1000;
            digits = t.substring(0, t.length() - 1);
        } else if (t.endsWith("m")) {
            scale = 60_000;
            digits = t.substring(0, t.length() - 1);
        } else if (t.endsWith("h")) {
            scale = 3_600_000;
            digits = t.substring(0, t.length() - 1);
        } else {
            scale = 1000;
            digits = t;
        }
        try {
            long n = Long.parseLong(digits.trim());
            if (n >= 0 && n <= Long.MAX_VALUE / scale) {
                return n * scale;
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new IllegalArgumentException(flag + " " + v + ": expected a duration such as 500ms, 2s or 1m");
    }

    private static String commandLine(String[] args) {
        StringBuilder b = new StringBuilder();
        for (String a : args) {
            b.append(' ');
            b.append(a.matches("[A-Za-z0-9_./:=@%+,-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
        }
        return b.toString();
    }

    String channel(int index) {
        return channelPrefix + "-" + index;
    }

    int subscribersToRun() {
        return role == Role.PUBLISHERS ? 0 : subscribers;
    }

    /** How many publishers publish into each channel: 1, or P/C when P > C (fan-in). */
    int publishersPerChannel() {
        return publishers > channels ? publishers / channels : 1;
    }

    int publishersToRun() {
        return role == Role.SUBSCRIBERS ? 0 : publishers;
    }

    /** The stages to run: the scenario's, or a warm-up and a measured stage from the flags. */
    List<Stage> plan() {
        if (!stages.isEmpty()) {
            return stages;
        }
        List<Stage> plan = new ArrayList<>();
        if (warmupSeconds > 0) {
            plan.add(new Stage("warm-up", warmupSeconds, rate, subscribers, false));
        }
        plan.add(new Stage("steady", durationSeconds, rate, subscribers, true));
        return plan;
    }

    /**
     * One stage of a run: for {@code seconds}, publish at {@code rate} (0: max rate) while the
     * subscriber connections go linearly from the previous stage's count to {@code subscribers}.
     */
    static final class Stage {
        final String name;
        final int seconds;
        final int rate;
        final int subscribers;
        final boolean measured;

        Stage(String name, int seconds, int rate, int subscribers, boolean measured) {
            this.name = name;
            this.seconds = seconds;
            this.rate = rate;
            this.subscribers = subscribers;
            this.measured = measured;
        }
    }
}
