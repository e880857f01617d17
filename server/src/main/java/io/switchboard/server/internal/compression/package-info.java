/**
 * permessage-deflate (RFC 7692, issue 19): the offer a client makes and the node's answer, the
 * inbound inflation bounded by {@code MAX_MESSAGE_BYTES}, and the deflater a delivery is compressed
 * with once per publish ({@link io.switchboard.server.internal.compression.FrameCompressor}), so
 * that the fan-out writes the same compressed bytes to every subscriber that negotiated it.
 * Internal: anything here may change at any time, without notice.
 */
package io.switchboard.server.internal.compression;
