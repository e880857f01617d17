package io.switchboard.server.internal.cluster;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * Loads the node's Redis Lua scripts, each a {@code .lua} resource in its user's package (STYLE.md:
 * code in another language lives in its own files). Called from static initializers, so a missing
 * script fails the class's loading, naming the file.
 */
public final class LuaScripts {

    private LuaScripts() {
    }

    /**
     * Returns the text of the resource {@code name} in {@code owner}'s package, UTF-8, without the
     * line break that ends the file (the scripts were sent without one when they were Java strings).
     *
     * @throws IllegalStateException if there is no such resource
     */
    public static String load(Class<?> owner, String name) {
        String path = owner.getPackageName().replace('.', '/') + '/' + name;
        try (InputStream in = owner.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("Lua script " + path + " is missing from the class path");
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
        } catch (IOException e) {
            throw new UncheckedIOException("reading Lua script " + path, e);
        }
    }
}
