package io.switchboard.server.internal;

import io.switchboard.server.SwitchboardConfig;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * README's configuration table lists every setting the node reads, each with the builder's default
 * (issue 23: it used to check the names only).
 */
class SettingsReadmeTest {

    /** A row of the table: {@code | `NAME` | default | meaning |}; the default cell holds no {@code |}. */
    private static final Pattern ROW = Pattern.compile("(?m)^\\| `([A-Z0-9_]+)` \\| ([^|]*?) \\| .*\\|$");

    /** A default in code, optionally followed by what it means: {@code `0`: no limit}. */
    private static final Pattern CODE = Pattern.compile("`([^`]*)`(?:: .+)?");

    /** A null or empty default, optionally followed by what it means: {@code none: a single node}. */
    private static final Pattern NONE = Pattern.compile("none(?:: .+)?");

    @Test
    void readmeListsEverySettingAndNothingElse() throws Exception {
        Map<String, String> readme = readmeDefaults();
        List<String> names = Settings.ALL.stream().map(Settings.Setting::env).toList();
        for (String name : names) {
            assertTrue(readme.containsKey(name), name + " is missing from README's configuration table");
        }
        for (String name : readme.keySet()) {
            assertTrue(names.contains(name), name + " is in README's configuration table but the node does not read it");
        }
        assertEquals(names, new ArrayList<>(readme.keySet()), "README lists the settings in --help's order");
    }

    @Test
    void readmeGivesTheBuildersDefaultForEverySetting() throws Exception {
        Map<String, String> readme = readmeDefaults();
        SwitchboardConfig defaults = Settings.defaults();
        List<String> wrong = new ArrayList<>();
        for (Settings.Setting s : Settings.ALL) {
            String cell = readme.get(s.env());
            if (cell == null) {
                continue; // readmeListsEverySettingAndNothingElse names it
            }
            String expected = Settings.format(s.get().apply(defaults));
            if (!matches(s, cell, expected)) {
                wrong.add(s.env() + ": README says " + cell + ", the builder's default is " + expected
                        + (s.defaultNote() == null ? "" : " (" + s.defaultNote() + ")"));
            }
        }
        if (!wrong.isEmpty()) {
            fail("README's default disagrees with the builder for " + String.join("; ", wrong));
        }
    }

    /** The defaults README gives in words are the ones the builder computes on the machine it runs on. */
    @Test
    void machineDependentDefaultsAreWhatReadmeSays() {
        SwitchboardConfig defaults = Settings.defaults();
        assertEquals(Runtime.getRuntime().availableProcessors(), defaults.ioThreads(), "IO_THREADS: number of CPUs");
        assertEquals(SwitchboardConfig.BUILD_VERSION, defaults.version(), "APP_VERSION: the build's version");
    }

    /**
     * Whether README's {@code cell} gives {@code expected}: in code ({@code `10s`}), as {@code none}
     * for a null or empty default, or, for a default that depends on the machine (a note but a
     * value), exactly the words of its note.
     */
    private static boolean matches(Settings.Setting s, String cell, String expected) {
        if (expected.equals("none")) {
            return NONE.matcher(cell).matches();
        }
        Matcher code = CODE.matcher(cell);
        if (code.matches()) {
            return code.group(1).equals(expected);
        }
        return s.defaultNote() != null && cell.equals(s.defaultNote());
    }

    private static Map<String, String> readmeDefaults() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        int from = readme.indexOf("\n## Configuration\n");
        assertTrue(from >= 0, "README has a ## Configuration section");
        int to = readme.indexOf("\n## ", from + 1);
        Matcher row = ROW.matcher(to < 0 ? readme.substring(from) : readme.substring(from, to));
        Map<String, String> defaults = new LinkedHashMap<>();
        while (row.find()) {
            String previous = defaults.put(row.group(1), row.group(2).strip());
            assertEquals(null, previous, row.group(1) + " appears twice in README's configuration table");
        }
        return defaults;
    }
}
