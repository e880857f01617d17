package io.switchboard.server.internal;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.switchboard.protocol.minichats.ErrorCode;
import io.switchboard.server.TokenAuth;
import io.switchboard.server.internal.auth.TokenFailure;
import io.switchboard.server.internal.broker.Broker;
import io.switchboard.server.internal.broker.History;
import io.switchboard.server.internal.broker.ClusterLink;
import io.switchboard.server.internal.dialect.chatroom.Chatroom;
import io.switchboard.server.internal.metrics.Metrics;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Shows a node's {@link Metrics} to Micrometer: counters read the node's adders when scraped, so
 * registering costs the hot path nothing. Loaded only when Micrometer is on the class path.
 */
public final class MetricsBinder {

    private MetricsBinder() {
    }

    /** Registers the node's meters with {@code registry}. */
    static void bind(MeterRegistry registry, Node node) {
        Metrics m = node.metrics();
        Broker broker = node.broker();
        Gauge.builder("switchboard.connections", node, Node::connectionCount)
                .description("open connections, HTTP or WebSocket").register(registry);
        Gauge.builder("switchboard.websocket.connections", node, n -> n.limits().count())
                .description("WebSocket connections").register(registry);
        Gauge.builder("switchboard.subscriptions", m.subscriptions, LongAdder::sum)
                .description("subscriptions of this node's connections, each a member of its channel's presence")
                .register(registry);
        Gauge.builder("switchboard.channels", broker, Broker::localChannelCount)
                .description("channels with subscribers on this node").register(registry);
        Gauge.builder("switchboard.outbound.pending", node, Node::outboundPendingBytes).baseUnit("bytes")
                .description("bytes written and not yet taken by the peers").register(registry);
        counter(registry, "switchboard.messages.in", m.messagesIn, "WebSocket messages received");
        counter(registry, "switchboard.deliveries", m.deliveries, "deliveries written to subscribers");
        counter(registry, "switchboard.drops", m.drops, "deliveries skipped for slow consumers (drop policy)");
        counter(registry, "switchboard.compressed.messages", m.compressedMessages,
                "messages compressed with permessage-deflate (a delivery once per publish and dialect)");
        counter(registry, "switchboard.compressed.deliveries", m.compressedDeliveries,
                "deliveries written compressed");
        FunctionCounter.builder("switchboard.compression.saved", m.compressionSavedBytes, LongAdder::sum)
                .baseUnit("bytes").description("bytes compressed deliveries saved against their plain frames")
                .register(registry);
        counter(registry, "switchboard.presence.requests", m.presenceRequests,
                "presence requests answered (minichats presence, GET /api/presence)");
        counter(registry, "switchboard.presence.partial", m.presencePartial,
                "presence requests answered with this node's members only: the other nodes' could not be read");
        counter(registry, "switchboard.read.pauses", m.readPauses,
                "times a connection was not read from because it was over its outbound soft limit");
        tagged(registry, "switchboard.errors", "code", m.errors, "error replies, by code");
        tagged(registry, "switchboard.closes", "reason", m.closes, "connections the node closed, by reason");
        tagged(registry, "switchboard.refused", "reason", m.refusals,
                "WebSocket upgrades, line clients and inspection page requests refused, by reason");
        tagged(registry, "switchboard.disposable.errors", "reason", m.disposableErrors,
                "error frames sent to disposable clients, by reason");
        tagged(registry, "switchboard.line.errors", "reason", m.lineErrors,
                "error lines sent to line clients, by reason");
        tagged(registry, "switchboard.randomchat.limited", "limit", m.randomchatLimits,
                "randomchat requests refused by a per-user limit, by limit");
        TokenAuth tokenAuth = node.tokenAuth();
        if (tokenAuth != null) {
            for (TokenFailure f : TokenFailure.values()) {
                FunctionCounter.builder("switchboard.auth.failures", tokenAuth,
                                t -> t.failures().getOrDefault(f.label(), 0L)).tag("reason", f.label())
                        .description("tokens refused at the handshake or in a refresh, by reason").register(registry);
            }
        }
        // TLS (issue 19): zero on a node without it
        counter(registry, "switchboard.tls.handshakes", m.tlsHandshakes, "TLS handshakes completed");
        tagged(registry, "switchboard.tls.handshake.failures", "reason", m.tlsFailures,
                "TLS connections that ended before their handshake completed, by reason");
        counter(registry, "switchboard.tls.reloads", m.tlsReloads, "TLS certificate reloads that took effect");
        counter(registry, "switchboard.tls.reload.failures", m.tlsReloadFailures,
                "TLS certificate reloads refused (the previous certificate stays in use)");
        Gauge.builder("switchboard.tls.certificate.expiry", m, x -> x.tlsCertificateNotAfter).baseUnit("seconds")
                .description("when the certificate new TLS connections get expires, Unix time; 0 without TLS_CERT_FILE")
                .register(registry);
        tagged(registry, "switchboard.randomchat.pending.dropped", "reason", m.randomchatDrops,
                "randomchat messages kept for a user dropped past RANDOMCHAT_MAX_PENDING or RANDOMCHAT_PENDING_TTL");
        Chatroom chatroom = node.chatroom();
        counter(registry, "switchboard.chatroom.updates.rejected", chatroom.rejectedUpdates,
                "chatroom changes answered with reject_update");
        counter(registry, "switchboard.chatroom.responses.ignored", chatroom.ignoredResponses,
                "chatroom responses to no waiting request (late, unknown, or not from its provider)");
        Gauge.builder("switchboard.chatroom.requests.pending", chatroom, Chatroom::pendingCount)
                .description("chatroom requests of this node's clients waiting for responses").register(registry);
        Gauge.builder("switchboard.chatroom.topics", chatroom, Chatroom::topicCount)
                .description("chatroom topics on this node, the special ones aside").register(registry);
        Gauge.builder("switchboard.chatroom.memory", chatroom, Chatroom::memory).baseUnit("bytes")
                .description("estimated heap of this node's chatroom topic values (CHATROOM_MAX_MEMORY_BYTES)")
                .register(registry);
        counter(registry, "switchboard.chatroom.topics.expired", chatroom.expiredTopics,
                "chatroom topics dropped with their values after CHATROOM_TOPIC_IDLE_TIMEOUT without subscribers");
        counter(registry, "switchboard.chatroom.read.pauses", chatroom.readPauses,
                "times a chatroom client was not read from because 64 of its topic requests were in flight");
        History history = broker.history();
        if (history != null) {
            // History and recovery (issue 18): only with HISTORY_SIZE > 0
            Gauge.builder("switchboard.history.streams", history, History::streamCount)
                    .description("channels with a stream (history) on this node").register(registry);
            Gauge.builder("switchboard.history.publications", history, History::keptCount)
                    .description("publications kept for history and recovery (HISTORY_SIZE per channel)")
                    .register(registry);
            Gauge.builder("switchboard.history.memory", history, History::keptBytes).baseUnit("bytes")
                    .description("estimated bytes of the kept publications (HISTORY_MAX_BYTES)").register(registry);
            for (History.Eviction why : History.Eviction.values()) {
                FunctionCounter.builder("switchboard.history.evicted", history, h -> h.evicted(why))
                        .tag("reason", why.name().toLowerCase(Locale.ROOT))
                        .description("kept publications dropped: size (HISTORY_SIZE), ttl (HISTORY_TTL), "
                                + "memory (HISTORY_MAX_BYTES)").register(registry);
            }
            FunctionCounter.builder("switchboard.recoveries", history.recovered, LongAdder::sum).tag("result", "recovered")
                    .description("subscribes with recover, by result (not_recovered: recovered:false)").register(registry);
            FunctionCounter.builder("switchboard.recoveries", history.notRecovered, LongAdder::sum)
                    .tag("result", "not_recovered")
                    .description("subscribes with recover, by result (not_recovered: recovered:false)").register(registry);
        }
        if (broker.cluster() != ClusterLink.NONE) {
            Gauge.builder("switchboard.cluster.link.up", broker.cluster(), c -> c.problem() == null ? 1 : 0)
                    .description("1 while the link to Redis is up").register(registry);
            FunctionCounter.builder("switchboard.cluster.unforwarded", broker.cluster(), ClusterLink::unforwarded)
                    .description("publishes that did not reach the other nodes").register(registry);
            FunctionCounter.builder("switchboard.cluster.nodes.expired", broker.cluster(), ClusterLink::nodesExpired)
                    .description("other nodes forgotten after CLUSTER_NODE_TIMEOUT without a heartbeat")
                    .register(registry);
        }
    }

    /** A Prometheus registry with the node's meters and the JVM's. */
    static PrometheusMeterRegistry prometheus(Node node) {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        bind(registry, node);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        return registry;
    }

    private static void counter(MeterRegistry registry, String name, LongAdder adder, String description) {
        FunctionCounter.builder(name, adder, LongAdder::sum).description(description).register(registry);
    }

    private static <E extends Enum<E>> void tagged(MeterRegistry registry, String name, String tag,
                                                   Map<E, LongAdder> counters, String description) {
        counters.forEach((key, adder) -> FunctionCounter.builder(name, adder, LongAdder::sum)
                .tag(tag, key instanceof ErrorCode ? ((ErrorCode) key).wireName() : key.name().toLowerCase(Locale.ROOT))
                .description(description).register(registry));
    }
}
