package io.switchboard.benchmarks.loadgen;

import java.net.URI;
import java.util.Locale;

/** loadgen's command line. Every option has a default; {@code --help} prints them. */
final class Options {

    enum Role { ALL, SUBSCRIBERS, PUBLISHERS }

    URI url = URI.create("ws://127.0.0.1:3501/api/connect");
    /** Where publishers connect; {@code null}: {@link #url}. */
    URI publishUrl;
    int subscribers = 1000;
    int channels = 1;
    int publishers = 1;
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
    boolean json;

    static final String USAGE = String.join("\n",
            "Usage: java -jar loadgen.jar [OPTION VALUE]...",
            "",
            "Load-tests a server speaking the minichats protocol (PROTOCOL.md section 1): N subscriber",
            "connections over C channels, P publishers (publisher p owns the channels c with c % P == p and",
            "subscribes to them, as the protocol requires), publishing at a fixed total rate scheduled by",
            "intended send time (latency includes any queueing: no coordinated omission) or as fast as a",
            "window of unanswered publishes allows. Each content carries its channel, sequence number and",
            "intended send time; receivers record publish-to-receipt latency in an HdrHistogram and count",
            "missing and duplicate deliveries. Always stops by itself: warm-up + duration + at most 5 s of",
            "draining, and the connect phase is bounded too.",
            "",
            "  --url URL              ws://127.0.0.1:3501/api/connect",
            "  --publish-url URL      publishers connect here instead (another node of a cluster) [--url]",
            "  --subscribers N        subscriber connections                       [1000]",
            "  --channels C           channels; subscriber i joins channel i % C   [1]",
            "  --publishers P         publisher connections (at most C)            [1]",
            "  --rate R               publishes per second in all; 0 = max rate    [0]",
            "  --window W             unanswered publishes per publisher at max rate [64]",
            "  --size BYTES           content bytes, quotes included; at least 40: it carries a sequence",
            "                         number and the send time                     [40]",
            "  --duration S           measured seconds                             [10]",
            "  --warmup S             seconds of load before measuring             [3]",
            "  --source-ips K         spread connections over 127.0.0.1..127.0.0.K [4]",
            "  --connect-timeout S    give up if not all connected by then         [120]",
            "  --channel-prefix NAME  channel names are NAME-0, NAME-1, ...       [load]",
            "  --role all|subscribers|publishers   split one test over processes  [all]",
            "  --json                 also print one JSON line with the results",
            "",
            "Latency needs sender and receivers on one machine (it compares System.nanoTime).",
            "One process opens about N + P sockets; keep that under its open-file limit (ulimit -n),",
            "or split: run '--role subscribers' in several processes and '--role publishers' in one.");

    static Options parse(String[] args) {
        Options o = new Options();
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            if (flag.equals("--json")) {
                o.json = true;
                continue;
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + flag + " needs a value");
            }
            String v = args[++i];
            switch (flag) {
                case "--url":
                    o.url = URI.create(v);
                    break;
                case "--publish-url":
                    o.publishUrl = URI.create(v);
                    break;
                case "--subscribers":
                    o.subscribers = parse(flag, v, 0);
                    break;
                case "--channels":
                    o.channels = parse(flag, v, 1);
                    break;
                case "--publishers":
                    o.publishers = parse(flag, v, 0);
                    break;
                case "--rate":
                    o.rate = parse(flag, v, 0);
                    break;
                case "--window":
                    o.window = parse(flag, v, 1);
                    break;
                case "--size":
                    o.size = parse(flag, v, 40);
                    break;
                case "--duration":
                    o.durationSeconds = parse(flag, v, 1);
                    break;
                case "--warmup":
                    o.warmupSeconds = parse(flag, v, 0);
                    break;
                case "--source-ips":
                    o.sourceIps = parse(flag, v, 1);
                    break;
                case "--connect-timeout":
                    o.connectTimeoutSeconds = parse(flag, v, 1);
                    break;
                case "--channel-prefix":
                    o.channelPrefix = v;
                    break;
                case "--role":
                    o.role = Role.valueOf(v.toUpperCase(Locale.ROOT));
                    break;
                default:
                    throw new IllegalArgumentException("unknown option '" + flag + "'");
            }
        }
        if (o.publishers > o.channels) {
            throw new IllegalArgumentException("--publishers " + o.publishers + " is more than --channels "
                    + o.channels + ": each publisher owns at least one channel");
        }
        if (o.sourceIps > 254) {
            throw new IllegalArgumentException("--source-ips " + o.sourceIps + " (expected: 1 to 254)");
        }
        return o;
    }

    private static int parse(String flag, String v, int min) {
        int n;
        try {
            n = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " " + v + ": not a whole number");
        }
        if (n < min) {
            throw new IllegalArgumentException(flag + " " + v + ": expected at least " + min);
        }
        return n;
    }

    String channel(int index) {
        return channelPrefix + "-" + index;
    }

    int subscribersToRun() {
        return role == Role.PUBLISHERS ? 0 : subscribers;
    }

    int publishersToRun() {
        return role == Role.SUBSCRIBERS ? 0 : publishers;
    }
}
