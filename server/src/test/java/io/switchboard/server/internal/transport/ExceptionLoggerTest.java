package io.switchboard.server.internal.transport;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** What the tail handler logs never holds a credential (issue 19). */
class ExceptionLoggerTest {

    @Test
    void leavesAnExceptionWithoutCredentialsAsItIs() {
        IllegalStateException e = new IllegalStateException("tokens are counted here");
        assertSame(e, ExceptionLogger.redact(e));
    }

    @Test
    void takesQueryTokensAndBearerCredentialsOutOfTheWholeChain() {
        IllegalArgumentException inner = new IllegalArgumentException(
                "invalid hex byte 'zz' at index 52 of '?client_name=a&token=eyJhbGciOi.eyJzdWIi.c2ln&x=%zz'");
        RuntimeException outer = new RuntimeException("Authorization: Bearer eyJhbGciOi.eyJzdWIi.c2ln failed", inner);
        Throwable redacted = ExceptionLogger.redact(outer);
        assertEquals("java.lang.RuntimeException: Authorization: Bearer <redacted> failed", redacted.toString());
        assertEquals("java.lang.IllegalArgumentException: invalid hex byte 'zz' at index 52 of "
                + "'?client_name=a&token=<redacted>&x=%zz'", redacted.getCause().toString());
        assertArrayEquals(outer.getStackTrace(), redacted.getStackTrace());
    }
}
