package io.switchboard.server.internal.dialect.chatroom;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.switchboard.protocol.chatroom.JsonValues;
import io.switchboard.server.SwitchboardConfig;
import io.switchboard.server.internal.transport.HttpDeadline;
import io.switchboard.server.internal.metrics.Metrics;
import io.switchboard.server.internal.transport.HttpResponses;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The chatroom inspection page ({@code DEBUG=true}, on {@code DEBUG_PORT}): this node's clients,
 * topics (type, value, version, subscribers) and services, as HTML at {@code /} and as JSON at
 * {@code /json}. It reads what the chatroom publishes for it (volatile fields, copy-on-write
 * arrays, values that are never modified), so it takes no lock and stops nothing.
 *
 * <p>It answers only a request whose {@code Host} names the page itself
 * ({@link SwitchboardConfig#debugAllowedHosts()}): bound to loopback, it is still reachable from
 * any web page in a local browser whose DNS name the page's author rebinds to 127.0.0.1, and the
 * browser would then let that page read every topic; such a request carries the author's name in
 * {@code Host} and gets 403 (issue 15), counted in {@code refused_total{reason="debug_host"}}. Its
 * connections close after {@code HANDSHAKE_TIMEOUT} without a request ({@link HttpDeadline},
 * started by the channel initializer).
 *
 * <p>Stateless and {@link Sharable}.
 */
@Sharable
public final class DebugPage extends SimpleChannelInboundHandler<FullHttpRequest> {

    static final String JSON_PATH = "/json";
    private static final JsonFactory JSON = new JsonFactory();

    private final Chatroom room;
    private final SwitchboardConfig config;

    public DebugPage(Chatroom room, SwitchboardConfig config) {
        this.room = room;
        this.config = config;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        HttpDeadline.requestSeen(ctx.channel());
        String host = request.headers().get(HttpHeaderNames.HOST);
        if (!hostAllowed(host, (InetSocketAddress) ctx.channel().localAddress())) {
            room.metrics.refuse(Metrics.Refusal.DEBUG_HOST);
            HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.FORBIDDEN, host == null
                    ? "A request to the inspection page needs a Host header\n"
                    : "Host '" + host + "' is not the inspection page's address; list it in DEBUG_ALLOWED_HOSTS to "
                    + "allow it\n"));
            return;
        }
        String path = new QueryStringDecoder(request.uri()).path();
        if (!HttpMethod.GET.equals(request.method())) {
            FullHttpResponse r = HttpResponses.text(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED, "Use GET\n");
            r.headers().set(HttpHeaderNames.ALLOW, "GET");
            HttpResponses.send(ctx, request, r);
            return;
        }
        switch (path) {
            case "/":
                HttpResponses.send(ctx, request, HttpResponses.html(ctx, HttpResponseStatus.OK, html()));
                return;
            case JSON_PATH: {
                ByteBuf body = ctx.alloc().buffer();
                try (OutputStream out = new ByteBufOutputStream(body); JsonGenerator g = JSON.createGenerator(out)) {
                    writeJson(g);
                } catch (IOException | RuntimeException e) {
                    body.release();
                    throw new IllegalStateException("could not write the inspection JSON", e);
                }
                HttpResponses.send(ctx, request, HttpResponses.json(HttpResponseStatus.OK, body));
                return;
            }
            default:
                HttpResponses.send(ctx, request, HttpResponses.text(ctx, HttpResponseStatus.NOT_FOUND,
                        "The chatroom inspection page is at / (HTML) and " + JSON_PATH + " (JSON)\n"));
        }
    }

    /**
     * Whether the page answers a request with {@code host} (the {@code Host} header, {@code null}
     * when absent) that came in on {@code local}: a host naming {@code DEBUG_HOST}, the local
     * address, or, on loopback, {@code localhost}, {@code 127.0.0.1} or {@code [::1]}, with no port
     * or the page's; or one of {@code DEBUG_ALLOWED_HOSTS}.
     */
    boolean hostAllowed(String host, InetSocketAddress local) {
        if (host == null) {
            return false;
        }
        String value = host.trim().toLowerCase(Locale.ROOT);
        List<String> allowed = config.debugAllowedHosts();
        String name = value;
        String port = null;
        int colon = value.lastIndexOf(':');
        if (colon >= 0 && value.indexOf(']') < colon && (value.startsWith("[") || value.indexOf(':') == colon)) {
            name = value.substring(0, colon);
            port = value.substring(colon + 1);
        }
        if (allowed.contains(value) || allowed.contains(name)) {
            return true;
        }
        if (port != null && !port.equals(String.valueOf(local.getPort()))) {
            return false;
        }
        String bare = name.startsWith("[") && name.endsWith("]") ? name.substring(1, name.length() - 1) : name;
        String bound = config.debugHost().toLowerCase(Locale.ROOT);
        if (bare.equals(bound) || name.equals(bound) || bare.equals(local.getAddress().getHostAddress())) {
            return true;
        }
        return local.getAddress().isLoopbackAddress()
                && (bare.equals("localhost") || bare.equals("127.0.0.1") || bare.equals("::1"));
    }

    /** One consistent-enough reading of the chatroom: each topic's fields are read once. */
    private record Snapshot(List<Client> clients, List<TopicView> topics, Map<String, Long> services) {
    }

    private record Client(long id, String address, List<String> topics, List<String> services) {
    }

    private record TopicView(String name, String type, Object value, long version, long[] subscribers) {
    }

    private Snapshot snapshot() {
        Map<Long, Client> clients = new TreeMap<>();
        for (ChatroomSession s : room.clients()) {
            clients.put(s.id, new Client(s.id, s.address(), new ArrayList<>(), new ArrayList<>()));
        }
        List<TopicView> topics = new ArrayList<>();
        for (Topic t : room.topics()) {
            if (t.type == null) {
                continue; // still loading
            }
            ChatroomSession[] subs = t.subscribers;
            long[] ids = new long[subs.length];
            for (int i = 0; i < subs.length; i++) {
                ids[i] = subs[i].id;
                Client c = clients.get(subs[i].id);
                if (c != null) {
                    c.topics().add(t.name);
                }
            }
            topics.add(new TopicView(t.name, t.type.wireName(), t.value, t.version, ids));
        }
        Map<String, Long> services = new TreeMap<>();
        room.localServices().forEach((name, provider) -> {
            services.put(name, provider.id);
            Client c = clients.get(provider.id);
            if (c != null) {
                c.services().add(name);
            }
        });
        return new Snapshot(new ArrayList<>(clients.values()), topics, services);
    }

    private void writeJson(JsonGenerator g) throws IOException {
        Snapshot s = snapshot();
        g.writeStartObject();
        g.writeArrayFieldStart("clients");
        for (Client c : s.clients()) {
            g.writeStartObject();
            g.writeNumberField("id", c.id());
            g.writeStringField("address", c.address());
            writeStrings(g, "topics", c.topics());
            writeStrings(g, "services", c.services());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeArrayFieldStart("topics");
        for (TopicView t : s.topics()) {
            g.writeStartObject();
            g.writeStringField("name", t.name());
            g.writeStringField("type", t.type());
            g.writeFieldName("value");
            JsonValues.write(g, t.value());
            g.writeNumberField("version", t.version());
            g.writeArrayFieldStart("subscribers");
            for (long id : t.subscribers()) {
                g.writeNumber(id);
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeArrayFieldStart("services");
        for (Map.Entry<String, Long> e : s.services().entrySet()) {
            g.writeStartObject();
            g.writeStringField("name", e.getKey());
            g.writeNumberField("provider", e.getValue());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeNumberField("pending_requests", room.pendingCount());
        g.writeNumberField("rejected_updates", room.rejectedUpdates.sum());
        g.writeNumberField("ignored_responses", room.ignoredResponses.sum());
        g.writeEndObject();
    }

    private static void writeStrings(JsonGenerator g, String field, List<String> values) throws IOException {
        g.writeArrayFieldStart(field);
        for (String v : values) {
            g.writeString(v);
        }
        g.writeEndArray();
    }

    private String html() {
        Snapshot s = snapshot();
        StringBuilder b = new StringBuilder(4096);
        b.append("<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"2\">")
                .append("<title>Switchboard chatroom</title><style>body{font-family:sans-serif}table{border-collapse:")
                .append("collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left;vertical-align:top}")
                .append("pre{margin:0;max-height:12em;overflow:auto}</style></head><body>")
                .append("<h1>Chatroom on this node</h1><p>Refreshes every 2 s; the same data as JSON at <a href=\"")
                .append(JSON_PATH).append("\">").append(JSON_PATH).append("</a>. Pending requests: ")
                .append(room.pendingCount()).append(". Rejected updates: ").append(room.rejectedUpdates.sum())
                .append(". Ignored responses: ").append(room.ignoredResponses.sum()).append(".</p>");
        b.append("<h2>Clients (").append(s.clients().size()).append(")</h2><table><tr><th>id</th><th>address</th>")
                .append("<th>topics</th><th>services</th></tr>");
        for (Client c : s.clients()) {
            b.append("<tr><td>").append(c.id()).append("</td><td>").append(escape(c.address())).append("</td><td>")
                    .append(escape(String.join(", ", c.topics()))).append("</td><td>")
                    .append(escape(String.join(", ", c.services()))).append("</td></tr>");
        }
        b.append("</table><h2>Topics (").append(s.topics().size()).append(")</h2><table><tr><th>name</th>")
                .append("<th>type</th><th>version</th><th>subscribers</th><th>value</th></tr>");
        for (TopicView t : s.topics()) {
            StringBuilder ids = new StringBuilder();
            for (long id : t.subscribers()) {
                ids.append(ids.length() == 0 ? "" : ", ").append(id);
            }
            b.append("<tr><td>").append(escape(t.name())).append("</td><td>").append(t.type()).append("</td><td>")
                    .append(t.version()).append("</td><td>").append(ids).append("</td><td><pre>")
                    .append(escape(JsonValues.toJson(t.value()))).append("</pre></td></tr>");
        }
        b.append("</table><h2>Services (").append(s.services().size()).append(")</h2><table><tr><th>name</th>")
                .append("<th>provider</th></tr>");
        s.services().forEach((name, provider) -> b.append("<tr><td>").append(escape(name)).append("</td><td>")
                .append(provider).append("</td></tr>"));
        return b.append("</table></body></html>").toString();
    }

    private static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
