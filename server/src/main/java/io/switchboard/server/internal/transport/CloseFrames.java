package io.switchboard.server.internal.transport;

import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;

/**
 * The close handshake as every WebSocket session answers it (RFC 6455 sections 5.5.1 and 7.4):
 * a client's close with a valid status, or none, is echoed; one with a status no endpoint may send
 * is answered with 1002; a protocol violation Netty's decoder found is answered with its code.
 *
 * <p>Netty's decoder checks a close frame's status too, but its check lets 3000-65535 through, and
 * with {@code closeOnProtocolViolation} it answers a bad close frame with a bare TCP close, not a
 * close frame (it has seen the client's close). So Switchboard turns that option off
 * ({@link HandshakeRouter#webSocketConfig}) and sends these frames itself.
 */
public final class CloseFrames {

    private CloseFrames() {
    }

    /**
     * Whether a peer may send {@code code}: 1000-1003 and 1007-1014 (RFC 6455 section 7.4.1 and
     * IANA's registry) or 3000-4999 (section 7.4.2). 1004 is reserved; 1005, 1006 and 1015 must never
     * be sent; 1016-2999 are reserved for future revisions; 5000 and over are not close codes.
     */
    static boolean isValid(int code) {
        return code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999;
    }

    /**
     * Returns the frame that answers the client's {@code received} close: {@code received} itself
     * (status and reason echoed, or empty when it was empty) when its status is valid or absent,
     * else a new 1002. Takes ownership of {@code received}; the caller must write or release the
     * returned frame.
     */
    public static CloseWebSocketFrame answer(CloseWebSocketFrame received) {
        int code = received.statusCode();
        if (code == -1 || isValid(code)) {
            return received;
        }
        received.release();
        return new CloseWebSocketFrame(WebSocketCloseStatus.PROTOCOL_ERROR, "Invalid close code " + code);
    }

    /**
     * Returns the close frame that answers a protocol violation: its RFC 6455 code (1002, 1007 or
     * 1009) and Netty's reason. The caller must write or release it.
     */
    public static CloseWebSocketFrame answer(CorruptedWebSocketFrameException violation) {
        WebSocketCloseStatus status = violation.closeStatus();
        String reason = violation.getMessage();
        return new CloseWebSocketFrame(status, reason != null ? reason : status.reasonText());
    }
}
