package io.flashllm.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** flashllm's own tokenizers running tokenizer.json files, against the Hugging Face library on the same files. */
class HfBuiltinTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private List<String> texts(String special) {
        List<String> texts = new ArrayList<>(TextSamples.FIXED);
        texts.addAll(TextSamples.random(31, 300));
        texts.addAll(List.of(special + "x", "a" + special + "b", special + " y " + special, " " + special));
        return texts;
    }

    private void assertSameAsLibrary(Tokenizer builtin, List<String> texts) throws Exception {
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"),
                Map.of("truncation", "false", "padding", "false"))) {
            for (String t : texts) {
                for (boolean addSpecial : new boolean[] {true, false}) {
                    int[] expected = Arrays.stream(hf.encode(t, addSpecial, false).getIds()).mapToInt(l -> (int) l).toArray();
                    int[] got = builtin.encode(t, addSpecial);
                    assertArrayEquals(expected, got, () -> "addSpecial=" + addSpecial + " [" + t + "]\n hf:   "
                            + HfOracleTest.pieces(builtin, expected) + "\n ours: " + HfOracleTest.pieces(builtin, got));
                    long[] ids = Arrays.stream(expected).asLongStream().toArray();
                    assertEquals(hf.decode(ids, true), builtin.decode(expected), t);
                }
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"SPM, 300", "SPM, 3000", "GPT2, 300", "GPT2, 3000", "LLAMA3, 2000"})
    void vocabBuilderLayouts(VocabBuilder.Style style, int size) throws Exception {
        BuiltVocab v = VocabBuilder.build(style, size);
        v.writeHfFiles(dir);
        Tokenizer builtin = Tokenizers.fromHfDirBuiltin(dir, null);
        Tokenizer gguf = Tokenizers.fromGguf(v.ggufMetadata());
        assertEquals(gguf.bos(), builtin.bos());
        assertEquals(gguf.eos(), builtin.eos());
        for (int id = 0; id < size; id++) {
            assertArrayEquals(gguf.tokenBytes(id), builtin.tokenBytes(id), "token " + id);
        }
        assertSameAsLibrary(builtin, texts(v.tokens().get(v.eos())));
    }

    @ParameterizedTest
    @ValueSource(strings = {"first", "always"})
    void metaspaceLayouts(String scheme) throws Exception {
        // Llama/Mistral files written by newer transformers: a Metaspace pre-tokenizer instead of the normalizer.
        BuiltVocab v = VocabBuilder.build(VocabBuilder.Style.SPM, 2000);
        ObjectNode root = (ObjectNode) JSON.readTree(v.tokenizerJson());
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "Metaspace").put("replacement", "\u2581")
                .put("prepend_scheme", scheme).put("split", false);
        // The decoder stays Replace + ByteFallback + Fuse + Strip, as in those files.
        Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(root));
        assertSameAsLibrary(Tokenizers.fromHfDirBuiltin(dir, null), texts("</s>"));
    }

    @ParameterizedTest
    @EnumSource(value = VocabBuilder.Style.class, names = {"GPT2", "LLAMA3"})
    void mergesAsArrays(VocabBuilder.Style style) throws Exception {
        // Newer files store merges as ["left", "right"].
        BuiltVocab v = VocabBuilder.build(style, 800);
        ObjectNode root = (ObjectNode) JSON.readTree(v.tokenizerJson());
        var merges = ((ObjectNode) root.path("model")).putArray("merges");
        for (Object m : (List<?>) v.ggufMetadata().get("tokenizer.ggml.merges")) {
            String[] lr = ((String) m).split(" ");
            merges.addArray().add(lr[0]).add(lr[1]);
        }
        Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(root));
        assertSameAsLibrary(Tokenizers.fromHfDirBuiltin(dir, null), texts(v.tokens().get(v.eos())));
    }

    @org.junit.jupiter.api.Test
    void fallsBackToBuiltinWhenTheLibraryRefuses() throws Exception {
        // The library rejects merges of pieces missing from the vocabulary; the built-in code does not need them.
        BuiltVocab v = VocabBuilder.build(VocabBuilder.Style.GPT2, 600);
        ObjectNode root = (ObjectNode) JSON.readTree(v.tokenizerJson());
        ((com.fasterxml.jackson.databind.node.ArrayNode) root.path("model").path("merges")).add("§§ ¶¶");
        Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(root));
        assertThrows(Exception.class, () -> HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"), Map.of()).close());
        Tokenizer gguf = Tokenizers.fromGguf(v.ggufMetadata());
        try (Tokenizer t = Tokenizers.fromHfDir(dir, null)) {
            for (String text : TextSamples.random(4, 100)) {
                assertArrayEquals(gguf.encode(text, true), t.encode(text, true), text);
            }
        }
    }

    @org.junit.jupiter.api.Test
    void parseSpecialOffIsHonoured() {
        BuiltVocab v = VocabBuilder.build(VocabBuilder.Style.GPT2, 500);
        v.writeHfFiles(dir);
        Tokenizer builtin = Tokenizers.fromHfDirBuiltin(dir, null);
        int end = builtin.tokenId("<|im_end|>");
        assertArrayEquals(new int[] {end}, builtin.encode("<|im_end|>", false, true));
        assertTrue(Arrays.stream(builtin.encode("<|im_end|>", false, false)).noneMatch(id -> id == end));
        assertTrue(builtin.isEog(end));
    }

    @org.junit.jupiter.api.Test
    void unknownLayoutsAreRefusedByName() throws Exception {
        BuiltVocab v = VocabBuilder.build(VocabBuilder.Style.SPM, 400);
        ObjectNode root = (ObjectNode) JSON.readTree(v.tokenizerJson());
        root.putObject("normalizer").put("type", "NFKC");
        Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(root));
        assertTrue(assertThrows(TokenizerException.class, () -> Tokenizers.fromHfDirBuiltin(dir, null)).getMessage()
                .contains("does not handle normalizer NFKC"));
        root = (ObjectNode) JSON.readTree(VocabBuilder.build(VocabBuilder.Style.GPT2, 400).tokenizerJson());
        ((ObjectNode) root.path("pre_tokenizer")).put("add_prefix_space", true);
        Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(root));
        assertTrue(assertThrows(TokenizerException.class, () -> Tokenizers.fromHfDirBuiltin(dir, null)).getMessage()
                .contains("add_prefix_space"));
        ((ObjectNode) root.path("model")).put("type", "WordPiece");
        Files.writeString(dir.resolve("tokenizer.json"), JSON.writeValueAsString(root));
        assertTrue(assertThrows(TokenizerException.class, () -> Tokenizers.fromHfDirBuiltin(dir, null)).getMessage()
                .contains("model type WordPiece"));
    }
}
