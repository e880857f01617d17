package io.switchboard.server.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;

/**
 * Builds the pipeline of an accepted connection, as {@link PipelineNames} draws it, and tracks the
 * connection so a stop can say goodbye to it.
 */
public final class SwitchboardChannelInitializer extends ChannelInitializer<Channel> {

    /** The largest handshake or page request body accepted; larger gets 413. */
    private static final int MAX_HTTP_CONTENT_BYTES = 8192;

    private final HandshakeRouter router;
    private final ChannelGroup connections;

    public SwitchboardChannelInitializer(HandshakeRouter router, ChannelGroup connections) {
        this.router = router;
        this.connections = connections;
    }

    @Override
    protected void initChannel(Channel ch) {
        connections.add(ch);
        ChannelPipeline p = ch.pipeline();
        p.addLast(PipelineNames.HTTP_CODEC, new HttpServerCodec());
        p.addLast(PipelineNames.HTTP_AGGREGATOR, new HttpObjectAggregator(MAX_HTTP_CONTENT_BYTES));
        p.addLast(PipelineNames.ROUTER, router);
        p.addLast(PipelineNames.TAIL, ExceptionLogger.INSTANCE);
    }
}
