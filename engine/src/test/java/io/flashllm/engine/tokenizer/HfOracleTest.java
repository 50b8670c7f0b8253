package io.flashllm.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.flashllm.engine.api.ChatMessage;
import io.flashllm.engine.chat.ChatTemplates;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The GGUF tokenizer on {@link VocabBuilder} metadata against the Hugging Face library on the equivalent
 * tokenizer.json: same ids for every sample text, with and without special tokens.
 */
class HfOracleTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({"SPM, 300", "SPM, 1200", "SPM, 6000", "GPT2, 300", "GPT2, 1500", "GPT2, 6000", "LLAMA3, 1000", "LLAMA3, 5000"})
    void ggufTokenizerMatchesHuggingFace(VocabBuilder.Style style, int size) throws Exception {
        BuiltVocab v = VocabBuilder.build(style, size);
        assertEquals(size, v.size());
        v.writeHfFiles(dir);
        Tokenizer ours = Tokenizers.fromGguf(v.ggufMetadata());
        List<String> texts = new ArrayList<>(TextSamples.FIXED);
        texts.addAll(TextSamples.random(size, 400));
        texts.add(VocabBuilder.corpus());
        String special = v.tokens().get(v.eos());
        texts.add("before" + special + "after " + special);
        // A rendered chat prompt: its markers must come out as single special tokens on both sides.
        texts.add(ChatTemplates.forModel(v.ggufMetadata()).render(List.of(
                new ChatMessage("system", "Be brief."), new ChatMessage("user", "What is the capital of France?"),
                new ChatMessage("assistant", "Paris."), new ChatMessage("user", "And of Italy?"))));
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"),
                Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false"))) {
            for (String t : texts) {
                for (boolean addSpecial : new boolean[] {true, false}) {
                    int[] expected = Arrays.stream(hf.encode(t, addSpecial, false).getIds()).mapToInt(l -> (int) l).toArray();
                    int[] got = ours.encode(t, addSpecial);
                    assertArrayEquals(expected, got, () -> style + " " + size + " addSpecial=" + addSpecial
                            + " text=[" + t + "]\n hf:   " + pieces(ours, expected) + "\n ours: " + pieces(ours, got));
                }
            }
        }
    }

    @org.junit.jupiter.api.Test
    void qwen2WordSplittingMatchesHuggingFace() throws Exception {
        // The Llama 3 layout with Qwen2's pattern (single digits) and merges always applied.
        BuiltVocab v = VocabBuilder.build(VocabBuilder.Style.LLAMA3, 3000);
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(v.tokenizerJson());
        ((com.fasterxml.jackson.databind.node.ObjectNode) root.path("pre_tokenizer").path("pretokenizers").get(0)
                .path("pattern")).put("Regex", PreTokenizer.QWEN2.regex());
        ((com.fasterxml.jackson.databind.node.ObjectNode) root.path("model")).put("ignore_merges", false);
        java.nio.file.Files.writeString(dir.resolve("tokenizer.json"), json.writeValueAsString(root));
        Map<String, Object> md = new java.util.HashMap<>(v.ggufMetadata());
        md.put("tokenizer.ggml.pre", "qwen2");
        Tokenizer ours = Tokenizers.fromGguf(md);
        List<String> texts = new ArrayList<>(TextSamples.FIXED);
        texts.addAll(TextSamples.random(99, 400));
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"),
                Map.of("truncation", "false", "padding", "false"))) {
            for (String t : texts) {
                int[] expected = Arrays.stream(hf.encode(t, false, false).getIds()).mapToInt(l -> (int) l).toArray();
                int[] got = ours.encode(t, false);
                assertArrayEquals(expected, got, () -> "[" + t + "]\n hf:   " + pieces(ours, expected)
                        + "\n ours: " + pieces(ours, got));
            }
        }
    }

    /**
     * Mistral's Tekken, GPT-4o's and SmolLM's word splitting (the last a Digits pre-tokenizer before GPT-2's
     * ByteLevel regex) against the Rust library's: same ids for every sample, through the GGUF name and
     * through flashllm's reading of the tokenizer.json.
     */
    @ParameterizedTest
    @CsvSource({"tekken", "gpt-4o", "smollm"})
    void otherWordSplittingMatchesHuggingFace(String pre) throws Exception {
        // SmolLM's vocabulary is GPT-2's kind, whose merges join a space and digits (" 42"): cutting digits apart shows.
        BuiltVocab v = VocabBuilder.build(pre.equals("smollm") ? VocabBuilder.Style.GPT2 : VocabBuilder.Style.LLAMA3, 3000);
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(v.tokenizerJson());
        ((com.fasterxml.jackson.databind.node.ObjectNode) root.path("model")).put("ignore_merges", false);
        if (pre.equals("smollm")) {
            var seq = root.putObject("pre_tokenizer").put("type", "Sequence");
            var ps = seq.putArray("pretokenizers");
            ps.addObject().put("type", "Digits").put("individual_digits", true);
            ps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true)
                    .put("use_regex", true);
        } else {
            ((com.fasterxml.jackson.databind.node.ObjectNode) root.path("pre_tokenizer").path("pretokenizers").get(0)
                    .path("pattern")).put("Regex", PreTokenizer.forGgufPre(pre).regex());
        }
        java.nio.file.Files.writeString(dir.resolve("tokenizer.json"), json.writeValueAsString(root));
        Map<String, Object> md = new java.util.HashMap<>(v.ggufMetadata());
        md.put("tokenizer.ggml.pre", pre);
        Tokenizer ours = Tokenizers.fromGguf(md);
        Tokenizer oursFromJson = Tokenizers.fromHfDir(dir, json.readTree("{}"));
        List<String> texts = new ArrayList<>(TextSamples.FIXED);
        texts.addAll(TextSamples.random(7, 400));
        texts.add("HelloWorld ABCdef camelCaseWords x!/\nI'M Bob'S 12345 foo/bar");
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"),
                Map.of("truncation", "false", "padding", "false"))) {
            for (String t : texts) {
                int[] expected = Arrays.stream(hf.encode(t, false, false).getIds()).mapToInt(l -> (int) l).toArray();
                for (Tokenizer tok : List.of(ours, oursFromJson)) {
                    int[] got = tok.encode(t, false);
                    assertArrayEquals(expected, got, () -> pre + " [" + t + "]\n hf:   " + pieces(ours, expected)
                            + "\n ours: " + pieces(ours, got));
                }
            }
        }
    }

    static String pieces(Tokenizer t, int[] ids) {
        StringBuilder sb = new StringBuilder();
        for (int id : ids) {
            sb.append(id).append(':').append(t.tokenText(id)).append(' ');
        }
        return sb.toString();
    }
}
