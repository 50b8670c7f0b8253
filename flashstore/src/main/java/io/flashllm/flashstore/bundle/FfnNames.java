package io.flashllm.flashstore.bundle;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Names of one layer's FFN tensors in a source model. gate is null for ungated FFNs (OPT); the
 * biases are null when absent. Known spellings: GGUF ({@code blk.N.ffn_*}), Hugging Face Llama
 * family ({@code model.layers.N.mlp.*_proj}) and OPT ({@code model.decoder.layers.N.fc1/fc2}).
 */
public record FfnNames(String gate, String up, String down, String upBias, String downBias) {

    private record Pattern(String gate, String up, String down, String upBias, String downBias) {
        FfnNames at(int layer, Predicate<String> exists) {
            String u = up.formatted(layer);
            String d = down.formatted(layer);
            if (!exists.test(u) || !exists.test(d)) return null;
            String g = gate == null ? null : gate.formatted(layer);
            String ub = upBias.formatted(layer);
            String db = downBias.formatted(layer);
            return new FfnNames(g != null && exists.test(g) ? g : null, u, d, exists.test(ub) ? ub : null,
                    exists.test(db) ? db : null);
        }
    }

    private static final List<Pattern> PATTERNS = List.of(
            new Pattern("blk.%d.ffn_gate.weight", "blk.%d.ffn_up.weight", "blk.%d.ffn_down.weight",
                    "blk.%d.ffn_up.bias", "blk.%d.ffn_down.bias"),
            new Pattern("model.layers.%d.mlp.gate_proj.weight", "model.layers.%d.mlp.up_proj.weight",
                    "model.layers.%d.mlp.down_proj.weight", "model.layers.%d.mlp.up_proj.bias",
                    "model.layers.%d.mlp.down_proj.bias"),
            new Pattern(null, "model.decoder.layers.%d.fc1.weight", "model.decoder.layers.%d.fc2.weight",
                    "model.decoder.layers.%d.fc1.bias", "model.decoder.layers.%d.fc2.bias"));

    /** The RMSNorm gain applied to each layer's FFN input, GGUF and Hugging Face Llama-family spellings. */
    private static final List<String> FFN_NORMS = List.of("blk.%d.ffn_norm.weight",
            "model.layers.%d.post_attention_layernorm.weight");

    /** The name of layer {@code layer}'s FFN-input norm weights in the first spelling that exists, or null. */
    public static String ffnNorm(int layer, Predicate<String> exists) {
        for (String p : FFN_NORMS) {
            String n = p.formatted(layer);
            if (exists.test(n)) return n;
        }
        return null;
    }

    /** Every layer's names, layer 0 up, for the first spelling the model uses; empty if none. */
    public static List<FfnNames> detect(Predicate<String> exists) {
        for (Pattern p : PATTERNS) {
            List<FfnNames> layers = new ArrayList<>();
            FfnNames n;
            while ((n = p.at(layers.size(), exists)) != null) layers.add(n);
            if (!layers.isEmpty()) return layers;
        }
        return List.of();
    }
}
