package io.flashllm.server.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** generate over the model kinds synth writes, and the prompt variants (chat, standard input). */
class GenerateFormatsTest {
    @TempDir
    Path dir;
    private static final ObjectMapper JSON = new ObjectMapper();

    private Path synth(String name, String... extra) {
        Path out = dir.resolve(name);
        boolean ownDim = java.util.Arrays.asList(extra).contains("--dim");
        String[] base = {"synth", "--layers", "2", "--heads", "4", "--vocab", "500",
                "--out", out.toString(), "--threads", "2", "--json", "--dim", ownDim ? null : "64"};
        if (ownDim) base = java.util.Arrays.copyOf(base, base.length - 2);
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        CliRun r = CliRun.of(args);
        assertEquals(0, r.exit(), r.err());
        return out;
    }

    private static JsonNode greedyJson(Path model, String... extra) throws IOException {
        String[] base = {"generate", "--model", model.toString(), "--prompt", "The old man and the sea",
                "--max-tokens", "4", "--temperature", "0", "--json", "--threads", "2"};
        String[] args = new String[base.length + extra.length];
        System.arraycopy(base, 0, args, 0, base.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        CliRun r = CliRun.of(args);
        assertEquals(0, r.exit(), r.err());
        return JSON.readTree(r.out());
    }

    @Test
    void hfDirectoryAndGgufFileOfOneSeedGenerateTheSameTokens() throws IOException {
        Path gguf = synth("m.gguf", "--type", "F32");
        Path hf = synth("m-hf", "--type", "F32", "--format", "hf");
        JsonNode a = greedyJson(gguf), b = greedyJson(hf);
        assertEquals(a.get("prompt_tokens"), b.get("prompt_tokens"));
        assertEquals(a.get("tokens"), b.get("tokens"));
        assertEquals(a.get("text"), b.get("text"));
    }

    @Test
    void everyWeightTypeLoadsAndGenerates() throws IOException {
        for (String type : new String[] {"F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K_M", "Q5_K_S", "Q5_K_M"}) {
            Path m = synth("t-" + type + ".gguf", "--type", type, "--dim", "256", "--ffn", "256");
            JsonNode j = greedyJson(m);
            assertTrue(j.get("tokens").size() >= 1, type + ": " + j);
        }
        // gpt-oss's encoding (llama.cpp's MXFP4_MOE): the expert matrices MXFP4, the others Q8_0, as in its files.
        Path moe = synth("moe-mxfp4.gguf", "--type", "MXFP4", "--dim", "256", "--ffn", "256", "--experts", "4");
        assertTrue(greedyJson(moe).get("tokens").size() >= 1);
        Path gptOss = synth("gpt-oss-mxfp4.gguf", "--arch", "gpt-oss", "--type", "MXFP4", "--dim", "256", "--ffn", "256",
                "--head-dim", "32", "--experts", "4");
        assertTrue(greedyJson(gptOss).get("tokens").size() >= 1);
        Path opt = synth("opt-hf", "--arch", "opt", "--type", "BF16", "--format", "hf");
        assertTrue(greedyJson(opt).get("tokens").size() >= 1);
    }

    @Test
    void sparseReluLlamaReportsItsThreshold() throws IOException {
        Path out = dir.resolve("relu.gguf");
        CliRun r = CliRun.of("synth", "--arch", "llama-relu", "--dim", "64", "--layers", "2", "--heads", "4",
                "--vocab", "500", "--sparsity", "0.9", "--out", out.toString(), "--threads", "2", "--json");
        assertEquals(0, r.exit(), r.err());
        double t = JSON.readTree(r.out()).get("fatrelu_threshold").asDouble();
        assertTrue(t > 0.5 && t < 2.5, "threshold " + t);
        assertTrue(r.err().contains("FATReLU threshold"), r.err());
        assertTrue(greedyJson(out).get("tokens").size() >= 1);
    }

    @Test
    void chatPromptUsesTheTemplateAndStartsWithOneBos() throws IOException {
        Path m = synth("chat.gguf");
        JsonNode plain = greedyJson(m);
        JsonNode chat = greedyJson(m, "--chat", "--system", "Be brief.");
        JsonNode p = chat.get("prompt_tokens");
        assertEquals(plain.get("prompt_tokens").get(0), p.get(0), "BOS first");
        assertNotEquals(p.get(0), p.get(1), "BOS only once");
        assertTrue(p.size() > plain.get("prompt_tokens").size() + 3, "template markers added: " + p);
    }

    /**
     * gpt-oss as synth writes it (harmony's markers and template): a chat prompt states the reasoning effort asked
     * for, medium by default, low with --no-think; --reasoning-effort needs --chat and one of gpt-oss's levels.
     */
    @Test
    void gptOssChatStatesTheReasoningEffort() throws IOException {
        Path m = synth("gpt-oss-chat.gguf", "--arch", "gpt-oss", "--experts", "4", "--head-dim", "16");
        java.util.Map<String, String> prompts = new java.util.HashMap<>();
        for (String[] flags : new String[][] {{}, {"--reasoning-effort", "high"}, {"--reasoning-effort", "low"},
                {"--no-think"}, {"--reasoning-effort", "medium"}}) {
            String[] args = new String[flags.length + 1];
            args[0] = "--chat";
            System.arraycopy(flags, 0, args, 1, flags.length);
            prompts.put(String.join(" ", flags), greedyJson(m, args).get("prompt_tokens").toString());
        }
        assertEquals(prompts.get(""), prompts.get("--reasoning-effort medium"), "medium is the default");
        assertEquals(prompts.get("--no-think"), prompts.get("--reasoning-effort low"), "thinking off is the low effort");
        assertNotEquals(prompts.get(""), prompts.get("--reasoning-effort high"));
        assertNotEquals(prompts.get(""), prompts.get("--reasoning-effort low"));
        for (String[] bad : new String[][] {{"--reasoning-effort", "high"}, {"--chat", "--reasoning-effort", "max"}}) {
            String[] args = new String[bad.length + 6];
            System.arraycopy(new String[] {"generate", "--model", m.toString(), "--prompt", "Hi", "--json"}, 0, args, 0, 6);
            System.arraycopy(bad, 0, args, 6, bad.length);
            CliRun r = CliRun.of(args);
            assertEquals(Main.EXIT_USAGE, r.exit(), String.join(" ", bad) + ": " + r.err());
            assertTrue(r.err().contains("--reasoning-effort"), r.err());
        }
    }

    @Test
    void promptFromStandardInput() throws IOException {
        Path m = synth("stdin.gguf");
        InputStream old = System.in;
        System.setIn(new ByteArrayInputStream("The old man and the sea".getBytes(StandardCharsets.UTF_8)));
        try {
            CliRun r = CliRun.of("generate", "--model", m.toString(), "--prompt", "-", "--max-tokens", "4",
                    "--temperature", "0", "--json", "--threads", "2");
            assertEquals(0, r.exit(), r.err());
            assertEquals(greedyJson(m).get("tokens"), JSON.readTree(r.out()).get("tokens"));
        } finally {
            System.setIn(old);
        }
    }

    @Test
    void promptLongerThanTheContextIsAUsageError() {
        Path m = synth("ctx.gguf");
        CliRun r = CliRun.of("generate", "--model", m.toString(), "--prompt", "a b c d e f g h i j k l",
                "--ctx", "4", "--threads", "2");
        assertEquals(Main.EXIT_USAGE, r.exit(), r.err());
        assertTrue(r.err().contains("--ctx"), r.err());
        assertTrue(Files.exists(m));
    }

    /** Without the TornadoVM build and runtime, --backend tornado stops and says how to get them (no CPU run). */
    @Test
    void backendTornadoWithoutTheRuntimeSaysHowToGetIt() {
        Path gguf = synth("t.gguf", "--type", "F16");
        CliRun r = CliRun.of("generate", "--model", gguf.toString(), "--prompt", "hi", "--max-tokens", "2",
                "--threads", "1", "--backend", "tornado");
        assertNotEquals(0, r.exit());
        assertTrue(r.err().contains("backend 'tornado' is not available"), r.err());
        assertTrue(r.err().contains("GPU (TornadoVM)"), r.err());
        assertEquals("", r.out(), "nothing was generated");
    }
}
