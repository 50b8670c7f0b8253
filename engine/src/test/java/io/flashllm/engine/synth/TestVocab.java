package io.flashllm.engine.synth;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A small, valid SPM-style vocabulary for tests that only look at weights. */
final class TestVocab {
    private TestVocab() {}

    static SynthVocab spm(int size) {
        List<String> tokens = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        tokens.add("<unk>"); types.add(2);
        tokens.add("<s>"); types.add(3);
        tokens.add("</s>"); types.add(3);
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            types.add(6);
        }
        for (int i = 0; tokens.size() < size; i++) {
            tokens.add("\u2581t" + i);
            types.add(1);
        }
        for (int i = 0; i < tokens.size(); i++) scores.add(-(float) i);
        Map<String, Object> md = new LinkedHashMap<>();
        md.put("tokenizer.ggml.model", "llama");
        md.put("tokenizer.ggml.tokens", tokens);
        md.put("tokenizer.ggml.scores", scores);
        md.put("tokenizer.ggml.token_type", types);
        md.put("tokenizer.ggml.bos_token_id", 1);
        md.put("tokenizer.ggml.eos_token_id", 2);
        md.put("tokenizer.ggml.unknown_token_id", 0);
        return new SynthVocab(md, "{}", "{}", 1, 2, -1);
    }
}
