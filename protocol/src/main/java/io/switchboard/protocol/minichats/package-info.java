/**
 * The minichats dialect (PROTOCOL.md section 1, {@code /api/connect}): the request model, its
 * streaming decoder and the encoders of every server message.
 */
package io.switchboard.protocol.minichats;
