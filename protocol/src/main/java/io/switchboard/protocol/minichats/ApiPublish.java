package io.switchboard.protocol.minichats;

import io.netty.buffer.ByteBuf;

/**
 * A publish received over HTTP: {@code {"channel_name": C, "content": X, "sender": S}}.
 *
 * @param channelName the validated channel name
 * @param sender      the validated sender name, or {@code null} when the body had none
 * @param content     the raw JSON of {@code content}, a slice of the body: valid while the caller
 *                    holds the body, never released through this record
 */
public record ApiPublish(String channelName, String sender, ByteBuf content) {
}
