package io.switchboard.server.internal.transport;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.flow.FlowControlHandler;
import io.switchboard.server.PipelineNames;

import java.util.function.Consumer;

/**
 * Builds the pipeline of an accepted connection, as {@link PipelineNames} draws it, and tracks the
 * connection so a stop can say goodbye to it.
 */
public final class SwitchboardChannelInitializer extends ChannelInitializer<Channel> {

    private final Edge node;
    private final HandshakeRouter router;
    private final Consumer<ChannelPipeline> customizer;
    private final Tls tls;

    public SwitchboardChannelInitializer(Edge node, HandshakeRouter router, Consumer<ChannelPipeline> customizer,
                                         Tls tls) {
        this.node = node;
        this.router = router;
        this.customizer = customizer;
        this.tls = tls;
    }

    @Override
    protected void initChannel(Channel ch) {
        node.track(ch);
        HttpDeadline.start(ch, node.config().handshakeTimeout().toNanos(), node.metrics());
        ChannelPipeline p = ch.pipeline();
        p.addLast(PipelineNames.BACKPRESSURE, node.newBackpressure());
        p.addLast(PipelineNames.HTTP_CODEC, new HttpServerCodec());
        // Holds what was decoded while reading is off (Backpressure); after the upgrade, WebSocket frames.
        p.addLast(PipelineNames.FLOW_CONTROL, new FlowControlHandler());
        // The HTTP API's publish bodies are messages: the same limit; a larger body gets 413.
        p.addLast(PipelineNames.HTTP_AGGREGATOR, new HttpObjectAggregator(node.config().maxMessageBytes()));
        p.addLast(PipelineNames.ROUTER, router);
        p.addLast(PipelineNames.TAIL, node.exceptionLogger());
        // First, nearer the socket than Backpressure: what is written from Backpressure's context is encrypted too.
        tls.install(p);
        customizer.accept(p);
    }
}
