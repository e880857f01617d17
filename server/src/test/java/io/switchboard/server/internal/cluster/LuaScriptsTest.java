package io.switchboard.server.internal.cluster;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class LuaScriptsTest {

    @Test
    void loadsTheFileAsWrittenWithoutItsFinalLineBreak() {
        // Escapes are Lua's to read: the file's backslash-t stays two characters.
        assertEquals("-- a test script\nreturn 'a\\tb'", LuaScripts.load(LuaScriptsTest.class, "two_lines.lua"));
    }

    @Test
    void missingScriptNamesTheFile() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> LuaScripts.load(LuaScriptsTest.class, "no_such.lua"));
        assertEquals("Lua script io/switchboard/server/internal/cluster/no_such.lua is missing from the class path",
                e.getMessage());
    }
}
