package io.flashllm.engine.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Small hand-made GGUF vocabularies whose tokenizations can be worked out on paper. */
final class TinyVocabs {
    private TinyVocabs() {}

    /**
     * SentencePiece: {@code <unk> <s> </s> <0xC3> <0xA9> ▁ h e l o ▁h el ll ▁he llo ▁hello <|user|>(user-defined)
     * <|ctl|>(control)}, then the other 254 byte tokens, with scores making earlier pieces win.
     */
    static Map<String, Object> spm() {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>", "<0xC3>", "<0xA9>",
                "\u2581", "h", "e", "l", "o", "\u2581h", "el", "ll", "\u2581he", "llo", "\u2581hello", "<|user|>", "<|ctl|>"));
        List<Float> scores = new ArrayList<>();
        List<Integer> types = new ArrayList<>();
        for (int i = 0; i < tokens.size(); i++) {
            scores.add(i < 5 ? 0f : -(float) i);
            types.add(i == 0 ? TokenType.UNKNOWN : i < 3 ? TokenType.CONTROL : i < 5 ? TokenType.BYTE : TokenType.NORMAL);
        }
        types.set(16, TokenType.USER_DEFINED);
        types.set(17, TokenType.CONTROL);
        // The other byte tokens follow, so every character can be spelled.
        for (int b = 0; b < 256; b++) {
            if (b != 0xC3 && b != 0xA9) {
                tokens.add(String.format("<0x%02X>", b));
                scores.add(0f);
                types.add(TokenType.BYTE);
            }
        }
        Map<String, Object> md = new HashMap<>();
        md.put("tokenizer.ggml.model", "llama");
        md.put("tokenizer.ggml.tokens", tokens);
        md.put("tokenizer.ggml.scores", scores);
        md.put("tokenizer.ggml.token_type", types);
        md.put("tokenizer.ggml.bos_token_id", 1L);
        md.put("tokenizer.ggml.eos_token_id", 2L);
        md.put("tokenizer.ggml.unknown_token_id", 0L);
        return md;
    }
}
