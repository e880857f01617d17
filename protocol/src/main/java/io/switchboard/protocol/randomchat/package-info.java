/**
 * The randomchat dialect (PROTOCOL.md section 5, seed 002): registered users, chats with an owner
 * and members, and messages kept for members who are offline. Every frame is
 * {@code {"type": T, ...}}; the seed's objects ({@link io.switchboard.protocol.randomchat.User},
 * {@link io.switchboard.protocol.randomchat.BriefMessage}, {@link io.switchboard.protocol.randomchat.Chat},
 * {@link io.switchboard.protocol.randomchat.ChatState}) keep its field names exactly.
 */
package io.switchboard.protocol.randomchat;
