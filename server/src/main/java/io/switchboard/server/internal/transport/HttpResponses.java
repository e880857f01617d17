package io.switchboard.server.internal.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.switchboard.protocol.minichats.ErrorCode;
import io.switchboard.protocol.minichats.MinichatsEncoder;

/** Plain HTTP answers: the index page, health, refusals of handshakes. */
public final class HttpResponses {

    private HttpResponses() {
    }

    /** Returns a UTF-8 text response. The caller sends it with {@link #send}. */
    public static FullHttpResponse text(ChannelHandlerContext ctx, HttpResponseStatus status, String body) {
        return response(status, ByteBufUtil.writeUtf8(ctx.alloc(), body), "text/plain; charset=utf-8");
    }

    /** Returns a UTF-8 HTML page. The caller sends it with {@link #send}. */
    public static FullHttpResponse html(ChannelHandlerContext ctx, HttpResponseStatus status, String body) {
        return response(status, ByteBufUtil.writeUtf8(ctx.alloc(), body), "text/html; charset=utf-8");
    }

    /** Returns a minichats-style JSON error, {@code {"status":"error","info":{"detail":..,"code":..}}}. */
    public static FullHttpResponse jsonError(ChannelHandlerContext ctx, HttpResponseStatus status, ErrorCode code,
                                      String detail) {
        return json(status, MinichatsEncoder.error(ctx.alloc(), null, code, detail));
    }

    /** Returns a JSON response. Takes ownership of {@code body}. */
    public static FullHttpResponse json(HttpResponseStatus status, ByteBuf body) {
        return response(status, body, "application/json");
    }

    /**
     * Sends {@code response} to {@code request}'s connection, which is kept only after a
     * successful keep-alive request. Takes ownership of {@code response}.
     */
    public static ChannelFuture send(ChannelHandlerContext ctx, HttpRequest request, FullHttpResponse response) {
        return send(ctx, HttpUtil.isKeepAlive(request), response);
    }

    /**
     * {@link #send(ChannelHandlerContext, HttpRequest, FullHttpResponse)} for an answer given after the
     * request was released: {@code keepAlive} is what {@link HttpUtil#isKeepAlive} said of it. Takes
     * ownership of {@code response}.
     */
    public static ChannelFuture send(ChannelHandlerContext ctx, boolean requestKeepAlive, FullHttpResponse response) {
        boolean keepAlive = response.status().codeClass() == HttpStatusClass.SUCCESS && requestKeepAlive;
        if (!keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
            return ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
        return ctx.writeAndFlush(response);
    }

    /** Takes ownership of {@code content}. */
    private static FullHttpResponse response(HttpResponseStatus status, ByteBuf content, String contentType) {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, contentType)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
        return response;
    }
}
