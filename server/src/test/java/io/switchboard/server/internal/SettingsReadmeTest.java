package io.switchboard.server.internal;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** README's configuration table names every setting the node reads. */
class SettingsReadmeTest {

    @Test
    void readmeListsEverySetting() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        for (Settings.Setting s : Settings.ALL) {
            assertTrue(readme.contains("\n| `" + s.env() + "` |"), s.env() + " is missing from README's configuration table");
        }
    }
}
