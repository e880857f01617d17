package io.switchboard.server.example;

import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.DefaultFileRegion;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.QueryStringDecoder;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import java.util.Map;

/**
 * Serves the files of one directory: {@code GET} and {@code HEAD}, a directory's
 * {@code index.html}, a content type by file extension (with {@code X-Content-Type-Options: nosniff}).
 * Everything that is not a regular file inside the directory is 404, whatever the request does to
 * get out: {@code ..} segments, percent-encoded slashes and dots, absolute paths, symbolic links that
 * lead outside. Names that start with a dot ({@code .git}, {@code .env}) are never served. Other
 * methods get 405, a request Netty could not decode 400.
 *
 * <p>Takes {@link FullHttpRequest}s: put an {@code HttpObjectAggregator} in front of it. The body
 * goes out as a {@link DefaultFileRegion} (zero-copy), which needs a plaintext connection; behind
 * TLS, Netty's {@code HttpStaticFileServer} example sends an {@code HttpChunkedInput} instead. The
 * file system is asked on the event loop, as in that example: fine for a local directory.
 *
 * <p>Stateless and {@code @Sharable}: one instance serves every connection.
 */
@ChannelHandler.Sharable
public final class StaticFiles extends SimpleChannelInboundHandler<FullHttpRequest> {

    private static final String UTF8 = "; charset=utf-8";
    private static final Map<String, String> TYPES = Map.ofEntries(
            Map.entry("html", "text/html" + UTF8),
            Map.entry("htm", "text/html" + UTF8),
            Map.entry("css", "text/css" + UTF8),
            Map.entry("js", "text/javascript" + UTF8),
            Map.entry("mjs", "text/javascript" + UTF8),
            Map.entry("json", "application/json"),
            Map.entry("map", "application/json"),
            Map.entry("txt", "text/plain" + UTF8),
            Map.entry("svg", "image/svg+xml"),
            Map.entry("png", "image/png"),
            Map.entry("jpg", "image/jpeg"),
            Map.entry("jpeg", "image/jpeg"),
            Map.entry("gif", "image/gif"),
            Map.entry("webp", "image/webp"),
            Map.entry("ico", "image/x-icon"),
            Map.entry("woff", "font/woff"),
            Map.entry("woff2", "font/woff2"),
            Map.entry("wasm", "application/wasm"));
    private static final String UNKNOWN_TYPE = "application/octet-stream";

    private final Path root;

    /**
     * @param directory the directory to serve; its real path (symbolic links resolved) is the
     *                  boundary no request gets past
     * @throws IOException when {@code directory} does not exist
     * @throws IllegalArgumentException when it is not a directory
     */
    public StaticFiles(Path directory) throws IOException {
        this.root = directory.toRealPath();
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("directory: " + directory + " (expected: a directory)");
        }
    }

    /** The directory served, as a real path. */
    public Path root() {
        return root;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) throws IOException {
        if (!request.decoderResult().isSuccess()) {
            sendError(ctx, request, HttpResponseStatus.BAD_REQUEST, false);
            return;
        }
        boolean head = HttpMethod.HEAD.equals(request.method());
        if (!head && !HttpMethod.GET.equals(request.method())) {
            FullHttpResponse response = error(ctx, HttpResponseStatus.METHOD_NOT_ALLOWED);
            response.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
            send(ctx, request, response, HttpUtil.isKeepAlive(request));
            return;
        }
        String path;
        try {
            path = new QueryStringDecoder(request.uri()).path();
        } catch (IllegalArgumentException malformedPercentEncoding) {
            sendError(ctx, request, HttpResponseStatus.BAD_REQUEST, false);
            return;
        }
        Path file = resolve(path);
        FileChannel channel;
        try {
            channel = file == null ? null : FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException | SecurityException unreadable) {
            channel = null;
        }
        if (channel == null) {
            sendError(ctx, request, HttpResponseStatus.NOT_FOUND, HttpUtil.isKeepAlive(request));
            return;
        }
        long length = channel.size();
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        HttpHeaders headers = response.headers();
        HttpUtil.setContentLength(response, length);
        headers.set(HttpHeaderNames.CONTENT_TYPE, contentType(file));
        headers.set("x-content-type-options", "nosniff");
        headers.set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        HttpUtil.setKeepAlive(response, keepAlive);
        ctx.write(response);
        if (head) {
            channel.close();
        } else {
            // The region owns the file channel from here: Netty closes it when the region is released.
            ctx.write(new DefaultFileRegion(channel, 0, length));
        }
        ChannelFuture last = ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT);
        if (!keepAlive) {
            last.addListener(ChannelFutureListener.CLOSE);
        }
    }

    /**
     * The regular file inside the directory that {@code path} (decoded, starting with {@code /})
     * names, or {@code null} when there is none.
     */
    Path resolve(String path) {
        if (!path.startsWith("/") || path.indexOf('\0') >= 0 || path.indexOf('\\') >= 0) {
            return null;
        }
        for (String segment : path.split("/")) {
            if (segment.startsWith(".")) {
                return null; // "..", ".", and hidden files
            }
        }
        Path candidate;
        try {
            // Leading slashes stripped: a path that resolved as absolute would leave the root.
            candidate = root.resolve(path.replaceFirst("^/+", "")).normalize();
        } catch (InvalidPathException e) {
            return null;
        }
        if (!candidate.startsWith(root)) {
            return null;
        }
        if (Files.isDirectory(candidate)) {
            candidate = candidate.resolve("index.html");
        }
        Path real;
        try {
            real = candidate.toRealPath();
        } catch (IOException | SecurityException e) {
            return null;
        }
        // The real path again: a symbolic link inside the directory may point anywhere.
        return real.startsWith(root) && Files.isRegularFile(real) ? real : null;
    }

    static String contentType(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot < 0 ? UNKNOWN_TYPE : TYPES.getOrDefault(name.substring(dot + 1).toLowerCase(Locale.ROOT),
                UNKNOWN_TYPE);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    private static FullHttpResponse error(ChannelHandlerContext ctx, HttpResponseStatus status) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                ByteBufUtil.writeUtf8(ctx.alloc(), status + "\n"));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain" + UTF8);
        HttpUtil.setContentLength(response, response.content().readableBytes());
        return response;
    }

    private static void sendError(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
                                  boolean keepAlive) {
        send(ctx, request, error(ctx, status), keepAlive);
    }

    /** Sends {@code response}; takes ownership of it. */
    private static void send(ChannelHandlerContext ctx, FullHttpRequest request, FullHttpResponse response,
                             boolean keepAlive) {
        if (HttpMethod.HEAD.equals(request.method())) {
            // A HEAD answer has the headers of the GET answer and no body (RFC 9110 section 9.3.2).
            response.content().clear();
        }
        HttpUtil.setKeepAlive(response, keepAlive);
        ChannelFuture sent = ctx.writeAndFlush(response);
        if (!keepAlive) {
            sent.addListener(ChannelFutureListener.CLOSE);
        }
    }
}
