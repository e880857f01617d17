/**
 * The disposable dialect (PROTOCOL.md section 2, seed 001): wire-compatible with
 * disposable-chat-server. Clients send {@code {"text": "..."}}; the server sends
 * {@code {"type": T, "data": {...}}} frames: {@code welcome}, {@code info}, {@code chat}, {@code error}.
 */
package io.switchboard.protocol.disposable;
