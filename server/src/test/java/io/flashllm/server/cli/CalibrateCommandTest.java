package io.flashllm.server.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** synth → convert → calibrate → generate and perplexity with the predicted selector, end to end through the CLI. */
class CalibrateCommandTest {
    @TempDir
    Path dir;

    private Path bundle(String name) {
        Path gguf = dir.resolve(name + ".gguf"), bundle = dir.resolve(name + ".bundle");
        CliRun s = CliRun.of("synth", "--arch", "llama-relu", "--sparsity", "0.9", "--dim", "64", "--layers", "2",
                "--heads", "4", "--ffn", "256", "--vocab", "400", "--type", "F32", "--out", gguf.toString(), "--threads", "1");
        assertEquals(0, s.exit(), s.err());
        CliRun c = CliRun.of("convert", "--model", gguf.toString(), "--out", bundle.toString());
        assertEquals(0, c.exit(), c.err());
        return bundle;
    }

    private static double number(Pattern p, String s) {
        Matcher m = p.matcher(s);
        assertTrue(m.find(), s);
        return Double.parseDouble(m.group(1));
    }

    @Test
    void calibratedBundleRunsPredicted() throws IOException {
        Path bundle = bundle("p");
        CliRun cal = CliRun.of("calibrate", "--model", bundle.toString(), "--tokens", "256", "--rank", "8", "--epochs", "2",
                "--ctx", "64", "--threads", "1");
        assertEquals(0, cal.exit(), cal.err());
        assertTrue(cal.out().contains("layer") && cal.out().contains("mean"), cal.out());
        assertTrue(cal.out().contains("--selector predicted"), cal.out());
        assertTrue(cal.out().contains("FFN bytes read per token / dense FFN bytes"), cal.out());
        assertTrue(cal.out().lines().anyMatch(l -> l.startsWith("predicted ") && l.trim().split(" +").length == 10), cal.out());
        assertTrue(cal.out().lines().anyMatch(l -> l.startsWith("exact ")), cal.out());

        CliRun gen = CliRun.of("generate", "--model", bundle.toString(), "--selector", "predicted", "--predictor-sample-rate", "1",
                "--prompt", "hello", "--max-tokens", "6", "--temperature", "0", "--ctx", "64", "--threads", "1");
        assertEquals(0, gen.exit(), gen.err());
        double recall = number(Pattern.compile("predictor recall ([0-9.]+)"), gen.err());
        assertTrue(recall > 0.5 && recall <= 1, gen.err());

        Path text = dir.resolve("text.txt");
        Files.writeString(text, "the cat sat on the mat and the dog ran after the cat around the house ".repeat(4));
        CliRun dense = CliRun.of("perplexity", "--model", bundle.toString(), "--text", text.toString(), "--ctx", "64",
                "--agreement", "8", "--threads", "1");
        assertEquals(0, dense.exit(), dense.err());
        Pattern ppl = Pattern.compile("perplexity ([0-9.]+) over (\\d+) tokens");
        double d = number(ppl, dense.out());
        assertTrue(Double.isFinite(d) && d > 1, dense.out());
        // The exact selector against the exact model, both fresh: the same computation, token for token.
        assertTrue(dense.out().contains("greedy agreement with the exact model 100.00% (8 of 8 tokens)"), dense.out());

        CliRun pred = CliRun.of("perplexity", "--model", bundle.toString(), "--text", text.toString(), "--ctx", "64",
                "--ffn-mode", "predicted", "--agreement", "16", "--threads", "1");
        assertEquals(0, pred.exit(), pred.err());
        double p = number(ppl, pred.out());
        assertTrue(Double.isFinite(p) && p > 1, pred.out());
        double agree = number(Pattern.compile("greedy agreement with the exact model ([0-9.]+)%"), pred.out());
        assertTrue(agree >= 0 && agree <= 100, pred.out());
    }

    @Test
    void predictedWithoutCalibrationIsAOneLineError() {
        Path bundle = bundle("n");
        CliRun gen = CliRun.of("generate", "--model", bundle.toString(), "--ffn-mode", "predicted", "--prompt", "hi",
                "--max-tokens", "2", "--threads", "1");
        assertEquals(1, gen.exit(), gen.err());
        assertTrue(gen.oneLineError(), gen.err());
        assertTrue(gen.err().contains("flashllm calibrate"), gen.err());
    }

    @Test
    void calibrateRefusesBadArguments() {
        Path bundle = bundle("b");
        for (String[] args : new String[][]{
                {"calibrate", "--model", bundle.toString(), "--predictor-type", "q4"},
                {"calibrate", "--model", bundle.toString(), "--rank-per-layer", "8,8,8"},
                {"calibrate", "--model", dir.resolve("none").toString()},
                {"calibrate", "--model", dir.resolve("b.gguf").toString()},
                {"calibrate", "--model", bundle.toString(), "--target-recall", "1.5"}}) {
            CliRun r = CliRun.of(args);
            assertEquals(2, r.exit(), r.err());
            assertTrue(r.oneLineError(), r.err());
        }
    }
}
