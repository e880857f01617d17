package io.switchboard.server;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;

import java.net.SocketAddress;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a client sent to open its WebSocket connection, as the authorization hooks see it.
 * Immutable after construction; safe to keep and to read from any thread.
 */
public final class HandshakeRequest {

    private final String path;
    private final Map<String, List<String>> query;
    private final HttpHeaders headers;
    private final SocketAddress remoteAddress;

    /**
     * Captures {@code request} (its headers are copied; it is not retained). Switchboard's router
     * makes these; tests of an authorizer may too.
     */
    public HandshakeRequest(HttpRequest request, SocketAddress remoteAddress) {
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        this.path = uri.path();
        this.query = Collections.unmodifiableMap(uri.parameters());
        this.headers = request.headers().copy();
        this.remoteAddress = remoteAddress;
    }

    /** The request path, e.g. {@code /api/connect}. */
    public String path() {
        return path;
    }

    /** The decoded query parameters, in order; empty when there is no query. */
    public Map<String, List<String>> queryParameters() {
        return query;
    }

    /** The first value of query parameter {@code name}, or {@code null}. */
    public String queryParameter(String name) {
        List<String> values = query.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    /** The request headers (a copy). */
    public HttpHeaders headers() {
        return headers;
    }

    /** The cookies of the {@code Cookie} header, decoded strictly (RFC 6265); empty when none. */
    public Set<Cookie> cookies() {
        String header = headers.get(HttpHeaderNames.COOKIE);
        return header == null ? Set.of() : ServerCookieDecoder.STRICT.decode(header);
    }

    /** The client's address as the server's socket sees it. */
    public SocketAddress remoteAddress() {
        return remoteAddress;
    }
}
