package io.flashllm.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flashllm.kernels.cpu.Simd;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class MainTest {
    @TempDir
    static Path dir;
    static Path model;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void synthesizeTinyModel() {
        model = dir.resolve("tiny.gguf");
        CliRun r = CliRun.of("synth", "--arch", "llama", "--dim", "64", "--layers", "2", "--heads", "4",
                "--kv-heads", "2", "--ffn", "128", "--vocab", "500", "--type", "Q8_0", "--out", model.toString(),
                "--seed", "3", "--threads", "2", "--json");
        assertEquals(0, r.exit(), r.err());
        assertTrue(Files.exists(model));
    }

    @Test
    void versionAndHelp() {
        CliRun v = CliRun.of("--version");
        assertEquals(0, v.exit());
        assertTrue(v.out().startsWith("flashllm "), v.out());
        CliRun h = CliRun.of("--help");
        assertEquals(0, h.exit());
        // serve is found by name when the HTTP server is in the build, as it is here
        for (String c : new String[] {"generate", "bench", "synth", "demo", "serve"}) assertTrue(h.out().contains(c), h.out());
        CliRun gh = CliRun.of("generate", "--help");
        assertEquals(0, gh.exit());
        assertTrue(gh.out().contains("--max-tokens"), gh.out());
    }

    @Test
    void everyHelpTextFormats() {
        // picocli formats descriptions: a bare '%' (as in "53% of") makes it warn on stderr and print the raw text.
        java.io.PrintStream saved = System.err;
        java.io.ByteArrayOutputStream warnings = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(warnings, true, java.nio.charset.StandardCharsets.UTF_8));
        try {
            for (String c : new String[] {"generate", "embed", "bench", "perplexity", "calibrate", "demo", "synth", "convert",
                    "verify", "serve"}) {
                CliRun h = CliRun.of(c, "--help");
                assertEquals(0, h.exit(), c + ": " + h.err());
                assertTrue(h.out().contains("Usage:"), c + ": " + h.out());
            }
        } finally {
            System.setErr(saved);
        }
        assertEquals("", warnings.toString(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void embedPrintsUnitVectorsAndTheirSimilarities() throws IOException {
        String m = model.toString();
        CliRun j = CliRun.of("embed", "-m", m, "-p", "a cat sat", "-p", "a dog ran", "--json", "--threads", "2");
        assertEquals(0, j.exit(), j.err());
        JsonNode root = JSON.readTree(j.out());
        assertEquals("last", root.get("pooling").asText());
        assertEquals(2, root.get("data").size());
        float[][] v = new float[2][64];
        for (int i = 0; i < 2; i++) {
            JsonNode e = root.get("data").get(i).get("embedding");
            assertEquals(64, e.size());
            double norm = 0;
            for (int k = 0; k < 64; k++) {
                v[i][k] = e.get(k).floatValue();
                norm += v[i][k] * v[i][k];
            }
            assertEquals(1.0, norm, 1e-5, "unit length");
        }
        // The same engine run directly, normalized here.
        try (var loaded = io.flashllm.engine.ModelLoader.load(model, io.flashllm.engine.LoadOptions.defaults().withThreads(2));
             var session = loaded.openSession(64)) {
            float[] raw = session.embed(loaded.tokenize("a dog ran", true), io.flashllm.engine.api.Pooling.LAST, null);
            double n = 0;
            for (float x : raw) n += x * x;
            for (int k = 0; k < 64; k++) assertEquals(raw[k] / Math.sqrt(n), v[1][k], 1e-5);
        }

        CliRun t = CliRun.of("embed", "-m", m, "-p", "a cat sat", "-p", "a dog ran", "--threads", "2");
        assertEquals(0, t.exit(), t.err());
        String[] lines = t.out().strip().split("\n");
        assertEquals(5, lines.length, t.out());
        assertEquals(64, lines[0].split(" ").length);
        // Separate runs in one JVM agree up to the JIT's reordered sums, not bit for bit.
        assertEquals(v[0][0], Float.parseFloat(lines[0].split(" ")[0]), 1e-4f);
        assertEquals("cosine similarity:", lines[2]);
        double cos = 0;
        for (int k = 0; k < 64; k++) cos += v[0][k] * v[1][k];
        String[] row0 = lines[3].strip().split("\\s+"), row1 = lines[4].strip().split("\\s+");
        assertEquals("1.000", row0[0]);
        assertEquals("1.000", row1[1]);
        assertEquals(row0[1], row1[0], "symmetric");
        assertEquals(cos, Double.parseDouble(row0[1]), 2e-3);
        assertTrue(t.err().contains("2 texts"), t.err());

        Path texts = dir.resolve("texts.txt");
        Files.writeString(texts, "a cat sat\n\na dog ran\n");
        CliRun f = CliRun.of("embed", "-m", m, "-f", texts.toString(), "--threads", "2", "--pooling", "mean", "--no-normalize");
        assertEquals(0, f.exit(), f.err());
        assertEquals(5, f.out().strip().split("\n").length, "blank lines are skipped");
        java.io.InputStream saved = System.in;
        try {
            System.setIn(new java.io.ByteArrayInputStream("a cat sat\na dog ran\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            CliRun stdin = CliRun.of("embed", "-m", m, "-f", "-", "--threads", "2", "--pooling", "mean", "--no-normalize");
            assertEquals(0, stdin.exit(), stdin.err());
            // The same texts from standard input (the same values up to the JIT's reordered sums: not bit for bit).
            String[] a = f.out().strip().split("\\s+"), b = stdin.out().strip().split("\\s+");
            assertEquals(a.length, b.length);
            for (int i = 0; i < a.length; i++) {
                if (a[i].equals("cosine") || a[i].equals("similarity:")) {
                    assertEquals(a[i], b[i]);
                } else {
                    assertEquals(Double.parseDouble(a[i]), Double.parseDouble(b[i]), 1e-3 * (1 + Math.abs(Double.parseDouble(a[i]))));
                }
            }
        } finally {
            System.setIn(saved);
        }
        assertTrue(f.err().contains("mean pooling"), f.err());

        for (String[] bad : new String[][] {
                {"embed", "-m", m},
                {"embed", "-m", m, "-p", "x", "--pooling", "max"},
                {"embed", "-m", m, "-p", ""},
                {"embed", "-m", m, "-f", dir.resolve("none.txt").toString()},
                {"embed", "-p", "x"},
                {"embed", "-m", m, "-p", "word ".repeat(100), "-c", "16"}}) {
            CliRun r = CliRun.of(bad);
            assertEquals(Main.EXIT_USAGE, r.exit(), String.join(" ", bad) + ": " + r.err());
            assertTrue(r.oneLineError(), r.err());
        }
        assertTrue(CliRun.of("embed", "-m", m, "-p", "x", "--pooling", "max").err().contains("pooling 'max' is not one of mean, cls, last"));
    }

    @Test
    void noSubcommandPrintsUsageAndFails() {
        CliRun r = CliRun.of();
        assertEquals(Main.EXIT_USAGE, r.exit());
        assertTrue(r.err().contains("Usage"), r.err());
    }

    @Test
    void missingModelFileIsOneLineError() {
        CliRun r = CliRun.of("generate", "--model", dir.resolve("nope.gguf").toString(), "--prompt", "hi");
        assertNotEquals(0, r.exit());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("nope.gguf"), r.err());
    }

    @Test
    void badArgumentsAreOneLineErrors() {
        for (String[] args : new String[][] {
                {"generate", "--max-tokens", "many"},
                {"generate", "--frobnicate"},
                {"synth", "--arch", "gpt5", "--out", dir.resolve("x.gguf").toString()},
                {"synth", "--dim", "100", "--heads", "3", "--out", dir.resolve("x.gguf").toString()},
                {"synth", "--type", "Q8_0", "--format", "hf", "--out", dir.resolve("x").toString()},
                {"synth"},
                {"generate", "--model", model.toString(), "--prompt", "hi", "--top-p", "2"},
                {"bench", "--model", model.toString(), "--gen-tokens", "0"},
                {"generate", "--model", model.toString(), "--prompt", "hi", "--memory-budget", "lots"},
                {"generate", "--model", model.toString(), "--prompt", "hi", "--kv-type", "Q8"},
                {"generate", "--model", model.toString(), "--prompt", "hi", "--activation", "gelu"},
                {"generate", "--model", model.toString(), "--prompt", "hi", "--logprobs", "3"},
                {"generate", "--model", model.toString(), "--prompt", "hi", "--grammar", "root ::= nothing"},
                {"generate", "--model", model.toString(), "--prompt", "hi", "--json-schema", "{\"type\":"},
                {"generate", "--model", model.toString(), "--prompt", "hi", "--json-schema", "{\"pattern\":\"x\"}"},
                {"generate", "--model", model.toString(), "--prompt", "hi", "--grammar", "root ::= [a]", "-j", "{}"},
                {"generate", "--model", model.toString(), "--prompt", "hi", "--grammar-file", dir.resolve("no.gbnf").toString()},
                {"generate", "--model", model.toString(), "--prompt", "hi", "--logit-bias", "15043"}}) {
            CliRun r = CliRun.of(args);
            assertEquals(Main.EXIT_USAGE, r.exit(), String.join(" ", args) + ": " + r.err());
            assertTrue(r.oneLineError(), String.join(" ", args) + ": " + r.err());
        }
    }

    @Test
    @Timeout(60)
    void benchRefusesAPromptBeyondTheModelsContextBeforeBuildingIt() {
        // a million-token prompt used to be built first (re-tokenizing a growing text), which took hours
        CliRun r = CliRun.of("bench", "--model", model.toString(), "--prompt-tokens", "1000000", "--gen-tokens", "4",
                "--no-warmup");
        assertEquals(Main.EXIT_USAGE, r.exit(), r.err());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("1000000") && r.err().contains("context"), r.err());
    }

    @Test
    void aQ8_0KvCacheNeedsHeadsOfWholeBlocks() {
        // The tiny model's heads have 16 values; a Q8_0 cache stores blocks of 32: one line that says what to do.
        CliRun r = CliRun.of("generate", "--model", model.toString(), "--prompt", "hi", "--max-tokens", "2", "--kv-type", "q8_0");
        assertEquals(Main.EXIT_FAILURE, r.exit(), r.err());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("heads have 16") && r.err().contains("--kv-type f16"), r.err());
    }

    @Test
    void benchBuildsALongPromptOfExactlyTheTokensAsked() {
        CliRun r = CliRun.of("bench", "--model", model.toString(), "--prompt-tokens", "300", "--gen-tokens", "2",
                "--no-warmup", "--json");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.out().contains("\"prompt_tokens\":300"), r.out());
    }

    @Test
    void corruptModelIsOneLineErrorAndVerboseAddsTheTrace() throws IOException {
        Path bad = dir.resolve("bad.gguf");
        Files.write(bad, new byte[] {'G', 'G', 'U', 'F', 3, 0, 0, 0, 1});
        CliRun r = CliRun.of("generate", "--model", bad.toString(), "--prompt", "hi");
        assertEquals(Main.EXIT_FAILURE, r.exit());
        assertTrue(r.oneLineError(), r.err());
        assertTrue(r.err().contains("bad.gguf"), r.err());
        CliRun v = CliRun.of("generate", "--model", bad.toString(), "--prompt", "hi", "--verbose");
        assertEquals(Main.EXIT_FAILURE, v.exit());
        assertTrue(v.err().contains("\tat "), v.err());
    }

    @Test
    void generateStreamsTextAndReportsSpeed() {
        CliRun r = CliRun.of("generate", "--model", model.toString(), "--prompt", "Once upon a time",
                "--max-tokens", "6", "--seed", "1", "--threads", "2");
        assertEquals(0, r.exit(), r.err());
        assertTrue(r.err().contains("tok/s"), r.err());
    }

    @Test
    void grammarsAndSchemasShapeTheOutput() throws IOException {
        String schema = "{\"type\":\"object\",\"properties\":{\"n\":{\"enum\":[1,2,3]},\"s\":{\"enum\":[\"x\",\"y\"]}},"
                + "\"required\":[\"n\",\"s\"]}";
        CliRun r = CliRun.of("generate", "--model", model.toString(), "--prompt", "Hello", "--max-tokens", "60",
                "--seed", "5", "--json-schema", schema, "--json", "--threads", "2");
        assertEquals(0, r.exit(), r.err());
        JsonNode doc = JSON.readTree(JSON.readTree(r.out()).get("text").asText());
        assertTrue(doc.get("n").asInt() >= 1 && doc.get("n").asInt() <= 3, doc.toString());
        assertTrue(doc.get("s").asText().matches("[xy]"), doc.toString());

        Path gbnf = dir.resolve("answer.gbnf");
        Files.writeString(gbnf, "# yes or no, then a number\nroot ::= (\"yes\" | \"no\") \" \" [0-9]{1,3}\n");
        CliRun g = CliRun.of("generate", "--model", model.toString(), "--prompt", "Hello", "--max-tokens", "20",
                "--temperature", "0", "--grammar-file", gbnf.toString(), "--threads", "2");
        assertEquals(0, g.exit(), g.err());
        assertTrue(g.out().strip().matches("(yes|no) [0-9]{1,3}"), g.out());

        CliRun forced = CliRun.of("generate", "--model", model.toString(), "--prompt", "Hello", "--max-tokens", "3",
                "--temperature", "0", "--logit-bias", "300+100", "--json", "--threads", "2");
        assertEquals(0, forced.exit(), forced.err());
        assertEquals("[300,300,300]", JSON.readTree(forced.out()).get("tokens").toString());
    }

    @Test
    void jsonOutputHasPromptTokensTokensTextAndTopLogprobs() throws IOException {
        CliRun r = CliRun.of("generate", "--model", model.toString(), "--prompt", "Hello world",
                "--max-tokens", "5", "--temperature", "0", "--json", "--logprobs", "3", "--threads", "2");
        assertEquals(0, r.exit(), r.err());
        JsonNode j = JSON.readTree(r.out());
        JsonNode prompt = j.get("prompt_tokens");
        assertTrue(prompt.isArray() && prompt.size() >= 2);
        assertEquals(1, prompt.get(0).asInt(), "SPM vocabularies start with BOS <s> = 1");
        JsonNode tokens = j.get("tokens");
        assertTrue(tokens.size() >= 1 && tokens.size() <= 5, j.toString());
        assertTrue(j.get("text").isTextual());
        JsonNode top = j.get("top_logprobs");
        assertEquals(tokens.size(), top.size());
        for (int i = 0; i < top.size(); i++) {
            JsonNode t = top.get(i);
            assertEquals(3, t.size());
            // greedy: the chosen token is the most likely one, and the list is sorted
            assertEquals(tokens.get(i).asInt(), t.get(0).get(0).asInt());
            assertTrue(t.get(0).get(1).asDouble() >= t.get(1).get(1).asDouble());
            assertTrue(t.get(1).get(1).asDouble() >= t.get(2).get(1).asDouble());
            assertTrue(t.get(0).get(1).asDouble() <= 0);
        }
    }

    @Test
    void loadOptionsReachTheModel() throws IOException {
        // Plain ReLU cuts about half of the gate activations, SiLU none: different logits, same prompt.
        String[] base = {"generate", "--model", model.toString(), "--prompt", "Hello", "--max-tokens", "1",
                "--temperature", "0", "--json", "--logprobs", "1", "--threads", "2", "--kv-type", "f32"};
        JsonNode silu = JSON.readTree(CliRun.of(base).out());
        String[] relu = java.util.Arrays.copyOf(base, base.length + 2);
        relu[base.length] = "--activation";
        relu[base.length + 1] = "relu";
        JsonNode r = JSON.readTree(CliRun.of(relu).out());
        assertNotEquals(silu.get("top_logprobs").get(0).get(0).get(1).asDouble(),
                r.get("top_logprobs").get(0).get(0).get(1).asDouble());
        assertEquals(1024L * 1024 * 600, ByteSize.parse("600M", "--x"));
        assertEquals((long) (1.5 * (1L << 30)), ByteSize.parse("1.5GiB", "--x"));
        assertEquals(4096, ByteSize.parse("4096", "--x"));
    }

    @Test
    void aSeedMakesSamplingReproducible() throws IOException {
        String[] args = {"generate", "--model", model.toString(), "--prompt", "Once upon a time", "--max-tokens", "8",
                "--temperature", "1.0", "--top-k", "0", "--top-p", "1", "--min-p", "0", "--seed", "99", "--json",
                "--threads", "2"};
        JsonNode a = JSON.readTree(CliRun.of(args).out()), b = JSON.readTree(CliRun.of(args).out());
        assertEquals(a.get("tokens"), b.get("tokens"));
        args[args.length - 4] = "100";
        JsonNode c = JSON.readTree(CliRun.of(args).out());
        assertNotEquals(a.get("tokens"), c.get("tokens"), "another seed, another sample (8 tokens from 500)");
    }

    @Test
    void benchJsonHasTheFigures() throws IOException {
        CliRun r = CliRun.of("bench", "--model", model.toString(), "--prompt-tokens", "8", "--gen-tokens", "4",
                "--threads", "2", "--json", "--repetitions", "2");
        assertEquals(0, r.exit(), r.err());
        JsonNode j = JSON.readTree(r.out());
        assertTrue(j.get("prompt_tok_s").asDouble() > 0, j.toString());
        assertTrue(j.get("decode_tok_s").asDouble() > 0, j.toString());
        assertTrue(j.get("peak_heap_bytes").asLong() > 0, j.toString());
        assertEquals(8, j.get("prompt_tokens").asInt());
        assertEquals(2, j.get("repetitions").asInt());
        assertTrue(j.get("decode_tok_s_stddev").asDouble() >= 0, j.toString());
        // figures from machines with different vectors (AVX-512, AVX2, NEON) differ by 2-4x: say which ran
        assertEquals(Simd.F.vectorBitSize(), j.get("vector_bits").asInt(), j.toString());
        CliRun text = CliRun.of("bench", "--model", model.toString(), "--prompt-tokens", "4", "--gen-tokens", "2",
                "--threads", "2");
        assertEquals(0, text.exit(), text.err());
        assertTrue(text.out().contains("decode") && text.out().contains("tok/s"), text.out());
        assertTrue(text.out().contains("simd         " + Simd.describe()), text.out());
    }

    @Test
    void benchParallelDecodesSeveralSequencesTogether() throws IOException {
        CliRun r = CliRun.of("bench", "--model", model.toString(), "--prompt-tokens", "4", "--gen-tokens", "6",
                "--threads", "2", "--parallel", "5", "--json");
        assertEquals(0, r.exit(), r.err());
        JsonNode j = JSON.readTree(r.out());
        assertEquals(5, j.get("parallel").asInt(), j.toString());
        assertEquals("f16", j.get("kv_type").asText(), j.toString());
        assertEquals(4 + 6 + 1, j.get("ctx").asInt(), j.toString()); // the prompt, the tokens asked and one spare
        // Each sequence's tokens after its first: at most 5 x 5, and some unless every one stopped at once.
        int tokens = j.get("gen_tokens").asInt();
        assertTrue(tokens > 0 && tokens <= 25, j.toString());
        assertTrue(j.get("decode_tok_s").asDouble() > 0 && j.get("prompt_tok_s").asDouble() > 0, j.toString());
        CliRun text = CliRun.of("bench", "--model", model.toString(), "--prompt-tokens", "4", "--gen-tokens", "3",
                "--threads", "2", "--parallel", "2");
        assertEquals(0, text.exit(), text.err());
        assertTrue(text.out().contains("2 sequences at once"), text.out());
        assertTrue(text.out().contains("kv cache     f16, 8 positions for each of 2 sequences"), text.out());
        // With a memory budget, the bundle's split holds a KV cache per sequence.
        Path bundle = dir.resolve("bench-parallel.bundle");
        assertEquals(0, CliRun.of("convert", "--model", model.toString(), "--out", bundle.toString()).exit());
        java.util.List<String> logged = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Logger loader = java.util.logging.Logger.getLogger(io.flashllm.engine.ModelLoader.class.getName());
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord record) {
                logged.add(record.getMessage());
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        loader.addHandler(capture);
        try {
            CliRun budgeted = CliRun.of("bench", "--model", bundle.toString(), "--prompt-tokens", "4", "--gen-tokens", "3",
                    "--threads", "2", "--parallel", "3", "--memory-budget", "1G", "--no-warmup");
            assertEquals(0, budgeted.exit(), budgeted.err());
        } finally {
            loader.removeHandler(capture);
        }
        assertTrue(logged.stream().anyMatch(m -> m.contains("a KV cache for each of 3 sequences open at once")), logged.toString());
        for (String bad : new String[] {"0", "65"}) {
            CliRun refused = CliRun.of("bench", "--model", model.toString(), "--gen-tokens", "2", "--parallel", bad);
            assertEquals(Main.EXIT_USAGE, refused.exit(), refused.err());
            assertTrue(refused.err().contains("--parallel must be between 1 and 64"), refused.err());
        }
    }

    @Test
    void synthIsDeterministicThroughTheCli() throws IOException {
        Path a = dir.resolve("a.gguf"), b = dir.resolve("b.gguf");
        for (Path p : new Path[] {a, b}) {
            CliRun r = CliRun.of("synth", "--arch", "opt", "--dim", "64", "--layers", "1", "--heads", "4",
                    "--vocab", "400", "--type", "F16", "--out", p.toString(), "--threads", "2");
            assertEquals(0, r.exit(), r.err());
        }
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
    }

    @Test
    void demoSynthesizesItsModelOnceAndSaysItIsRandom() {
        String old = System.getProperty("flashllm.home");
        System.setProperty("flashllm.home", dir.resolve("home").toString());
        try {
            CliRun r = CliRun.of("demo", "--max-tokens", "3", "--threads", "2");
            assertEquals(0, r.exit(), r.err());
            assertTrue(r.err().contains("meaningless"), r.err());
            assertTrue(r.err().contains("--model"), r.err());
            assertTrue(Files.exists(dir.resolve("home").resolve("demo").resolve(DemoModel.FILE_NAME)));
            CliRun again = CliRun.of("generate", "--max-tokens", "2", "--threads", "2");
            assertEquals(0, again.exit(), again.err());
            assertFalse(again.err().contains("synthesizing"), again.err());
        } finally {
            if (old == null) System.clearProperty("flashllm.home");
            else System.setProperty("flashllm.home", old);
        }
    }
}
