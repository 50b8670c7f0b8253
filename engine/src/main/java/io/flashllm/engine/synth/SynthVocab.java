package io.flashllm.engine.synth;

import io.flashllm.engine.tokenizer.BuiltVocab;
import io.flashllm.engine.tokenizer.VocabBuilder;
import io.flashllm.flashstore.writer.GgufValue;

import java.util.Map;

/**
 * The tokenizer a synthesized model ships: the {@code tokenizer.*} GGUF entries, and the equivalent
 * {@code tokenizer.json} / {@code tokenizer_config.json} for the Hugging Face format, with the
 * special token ids the model config repeats. Both encode text identically.
 */
public record SynthVocab(Map<String, Object> ggufMetadata, String tokenizerJson, String tokenizerConfigJson,
                         int bos, int eos, int pad) {

    /**
     * A usable vocabulary: SentencePiece style for Llama and Gemma, GPT-2 byte-level BPE for Qwen and OPT, gpt-oss's
     * (GPT-4o's word splitting, its harmony chat markers and template) for gpt-oss.
     */
    public static SynthVocab build(SynthArch arch, int size) {
        boolean spm = arch.llamaFamily() && arch != SynthArch.QWEN3 && arch != SynthArch.GPT_OSS;
        BuiltVocab v = VocabBuilder.build(arch == SynthArch.GPT_OSS ? VocabBuilder.Style.HARMONY
                : spm ? VocabBuilder.Style.SPM : VocabBuilder.Style.GPT2, size);
        return new SynthVocab(v.ggufMetadata(), v.tokenizerJson(), v.tokenizerConfigJson(), v.bos(), v.eos(), -1);
    }

    /** Token ids are u32 in llama.cpp whatever Java type carries them; other entries keep their inferred type. */
    static GgufValue ggufValue(String key, Object value) {
        if (key.endsWith("_token_id") && value instanceof Number n) return GgufValue.u32(n.longValue());
        return GgufValue.infer(value);
    }
}
