package io.flashllm.predictor.calibrate;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProgressBarTest {

    @Test
    void aLogGetsOnePlainLinePerTenth() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8);
             ProgressBar bar = new ProgressBar(ps, "recording", 1000, "tok", false)) {
            for (int i = 0; i < 1000; i++) {
                bar.advance(1);
                if (i % 100 == 0) bar.status("layer " + i / 100);
            }
        }
        String text = buf.toString(StandardCharsets.UTF_8);
        assertFalse(text.contains("\r") || text.contains("\033"), "no terminal control codes in a log");
        String[] lines = text.split("\n");
        assertEquals(11, lines.length, text); // the start, then 10%, 20%, ... 100%
        assertTrue(lines[0].contains("  0% 1/1000 tok"), lines[0]);
        assertTrue(lines[10].contains("100% 1000/1000 tok"), lines[10]);
    }

    @Test
    void aTerminalIsRedrawnInPlace() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (PrintStream ps = new PrintStream(buf, true, StandardCharsets.UTF_8);
             ProgressBar bar = new ProgressBar(ps, "training", 10, "steps", true)) {
            bar.advance(10);
        }
        String text = buf.toString(StandardCharsets.UTF_8);
        assertTrue(text.startsWith("\rtraining ["), text);
        assertTrue(text.endsWith("\n"), text);
        assertEquals(1, text.chars().filter(c -> c == '\n').count());
    }
}
