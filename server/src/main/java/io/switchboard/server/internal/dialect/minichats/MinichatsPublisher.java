package io.switchboard.server.internal.dialect.minichats;

import io.netty.buffer.ByteBuf;
import io.switchboard.protocol.JsonStrings;
import io.switchboard.protocol.minichats.ApiPublish;
import io.switchboard.protocol.minichats.ErrorCode;
import io.switchboard.protocol.minichats.MinichatsDecoder;
import io.switchboard.protocol.minichats.MinichatsEncoder;
import io.switchboard.protocol.minichats.MinichatsException;
import io.switchboard.server.internal.broker.Broker;
import io.switchboard.server.internal.broker.ChannelEntry;
import io.switchboard.server.internal.broker.ChannelEvent;
import io.switchboard.server.internal.session.SessionContext;

/**
 * Publishes from outside a connection, as a minichats client would: the HTTP API and the embedding
 * API's {@code Switchboard.publish}. Thread-safe.
 */
public final class MinichatsPublisher {

    private final SessionContext context;
    private final MinichatsDecoder decoder;

    public MinichatsPublisher(SessionContext context, MinichatsDecoder decoder) {
        this.context = context;
        this.decoder = decoder;
    }

    /** Decodes an HTTP API publish body; does not take ownership of {@code body}. */
    public ApiPublish decodeApiPublish(ByteBuf body) throws MinichatsException {
        return decoder.decodeApiPublish(body, context.config().maxClientNameBytes());
    }

    /** Counts an error answered to an HTTP API request in {@code errors_total{code}}, as a session counts its own. */
    void counted(ErrorCode code) {
        context.metrics().error(code);
    }

    /**
     * Publishes {@code content} (raw JSON, not released) to {@code channelName} as {@code sender},
     * from any thread. Returns the number of subscribers it was handed to.
     *
     * @throws MinichatsException {@code message_too_large} when the delivery would exceed the limit
     */
    public int publish(String channelName, String sender, ByteBuf content) throws MinichatsException {
        Broker broker = context.broker();
        int maxMessageBytes = context.config().maxMessageBytes();
        byte[] quotedSender = JsonStrings.quote(sender);
        ChannelEntry entry = broker.channel(channelName);
        byte[] quotedChannel = entry != null ? entry.quotedName() : JsonStrings.quote(channelName);
        int size = MinichatsEncoder.deliveryPayloadLength(quotedSender, quotedChannel, content.readableBytes());
        if (size > maxMessageBytes) {
            throw new MinichatsException(ErrorCode.MESSAGE_TOO_LARGE, "The delivery would be " + size
                    + " bytes, over the limit of " + maxMessageBytes + " bytes", null);
        }
        ChannelEvent event = ChannelEvent.message(MinichatsDialect.DIALECT, sender, sender, quotedSender,
                System.currentTimeMillis(), content, null);
        if (entry == null) {
            // No subscriber here; with history on the channel's stream keeps it all the same.
            broker.publishEverywhere(null, channelName, event);
            return broker.cluster().remoteSubscribers(channelName);
        }
        int reached = broker.totalSubscribers(entry);
        broker.publish(null, entry, event);
        broker.forward(channelName, event);
        return reached;
    }
}
