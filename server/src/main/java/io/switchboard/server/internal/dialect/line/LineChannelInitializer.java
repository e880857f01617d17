package io.switchboard.server.internal.dialect.line;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.LineBasedFrameDecoder;
import io.netty.handler.flow.FlowControlHandler;
import io.switchboard.protocol.line.LineMessages;
import io.switchboard.server.PipelineNames;
import io.switchboard.server.internal.session.SessionContext;
import io.switchboard.server.internal.transport.Edge;

/**
 * Builds the pipeline of a line client: telnet negotiation dropped, lines of at most
 * {@link LineMessages#MAX_LINE_BYTES} split off ({@code \n} or {@code \r\n}, line ends stripped),
 * then the {@link LineSession}.
 */
public final class LineChannelInitializer extends ChannelInitializer<Channel> {

    private final Edge node;
    private final SessionContext sessions;
    private final LineChat chat;

    public LineChannelInitializer(Edge node, SessionContext sessions, LineChat chat) {
        this.node = node;
        this.sessions = sessions;
        this.chat = chat;
    }

    @Override
    protected void initChannel(Channel ch) {
        node.track(ch);
        ChannelPipeline p = ch.pipeline();
        p.addLast(PipelineNames.BACKPRESSURE, node.newBackpressure());
        p.addLast(PipelineNames.TELNET, new TelnetFilter());
        // Fail fast: a long line is answered at once and dropped up to its end; the connection lives on.
        p.addLast(PipelineNames.LINES, new LineBasedFrameDecoder(LineMessages.MAX_LINE_BYTES, true, true));
        p.addLast(PipelineNames.FLOW_CONTROL, new FlowControlHandler());
        p.addLast(PipelineNames.SESSION, new LineSession(sessions, chat));
        p.addLast(PipelineNames.TAIL, node.exceptionLogger());
    }
}
