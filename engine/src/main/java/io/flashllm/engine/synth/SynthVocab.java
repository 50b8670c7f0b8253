package io.flashllm.engine.synth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashllm.flashstore.writer.GgufValue;

import java.util.List;
import java.util.Map;

/**
 * The tokenizer a synthesized model ships: the {@code tokenizer.ggml.*} entries for GGUF and the
 * equivalent {@code tokenizer.json} for the Hugging Face format, plus the special token ids.
 */
public record SynthVocab(Map<String, Object> ggufMetadata, String tokenizerJson, int bos, int eos, int pad,
                         boolean addBos, String tokenizerClass) {

    /** Ids are u32 in llama.cpp; other entries take the type their Java value implies. */
    static GgufValue ggufValue(String key, Object value) {
        if (key.endsWith("_token_id") && value instanceof Number n) return GgufValue.u32(n.longValue());
        return GgufValue.infer(value);
    }

    String tokenText(int id) {
        if (id < 0) return null;
        Object tokens = ggufMetadata.get("tokenizer.ggml.tokens");
        return tokens instanceof List<?> l && id < l.size() ? String.valueOf(l.get(id)) : null;
    }

    /** tokenizer_config.json: what transformers needs to add BOS and to name the special tokens. */
    ObjectNode tokenizerConfig(ObjectMapper json) {
        ObjectNode c = json.createObjectNode();
        c.put("tokenizer_class", tokenizerClass);
        c.put("add_bos_token", addBos);
        c.put("add_eos_token", false);
        if (tokenText(bos) != null) c.put("bos_token", tokenText(bos));
        if (tokenText(eos) != null) c.put("eos_token", tokenText(eos));
        if (tokenText(pad) != null) c.put("pad_token", tokenText(pad));
        c.put("clean_up_tokenization_spaces", false);
        return c;
    }
}
