package io.flashllm.engine.generate;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StopStringsTest {
    @Test
    void withoutStopsEverythingPassesAtOnce() {
        StopStrings s = new StopStrings(List.of());
        assertEquals("abc", s.push("abc"));
        assertEquals("", s.flush());
        assertFalse(s.stopped());
    }

    @Test
    void possibleStartOfAStopIsHeldUntilDecided() {
        StopStrings s = new StopStrings(List.of("</end>"));
        assertEquals("Hello ", s.push("Hello </"));
        assertEquals("", s.push("en"));
        assertEquals("</ent", s.push("t"));      // not the stop string after all
        assertEquals("ry", s.push("ry"));
        assertFalse(s.stopped());
    }

    @Test
    void stopAcrossPiecesCutsBeforeIt() {
        StopStrings s = new StopStrings(List.of("STOP"));
        assertEquals("one ", s.push("one ST"));
        assertEquals("", s.push("O"));
        assertEquals("", s.push("Ptwo"));
        assertTrue(s.stopped());
        assertEquals("", s.push("more"));
        assertEquals("", s.flush());
    }

    @Test
    void earliestOfSeveralStopsWins() {
        StopStrings s = new StopStrings(List.of("cd", "b"));
        assertEquals("a", s.push("abcd"));
        assertTrue(s.stopped());
    }

    @Test
    void heldTextComesOutOnFlush() {
        StopStrings s = new StopStrings(List.of("\n\n", ""));
        assertEquals("line", s.push("line\n"));
        assertEquals("\n", s.flush());
    }

    @Test
    void longestPossiblePrefixIsHeld() {
        StopStrings s = new StopStrings(List.of("aab"));
        assertEquals("", s.push("a"));
        assertEquals("", s.push("a"));
        assertEquals("a", s.push("a"));          // "aaa": the last two may still begin "aab"
        assertEquals("", s.push("b"));
        assertTrue(s.stopped());
    }
}
