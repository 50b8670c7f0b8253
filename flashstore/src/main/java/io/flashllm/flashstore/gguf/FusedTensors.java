package io.flashllm.flashstore.gguf;

import io.flashllm.kernels.WeightTensor;

import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The separate q, k, v and gate, up matrices of a file that stores them fused (Phi-3's
 * {@code blk.N.attn_qkv}: the q rows, then k's, then v's; its {@code blk.N.ffn_up} of twice the FFN width:
 * the gate rows, then up's), as row ranges of the fused tensor in place: nothing is copied, so the
 * engine, the converter and the bundles see the usual names. The split comes from the shapes: q is as wide
 * as {@code attn_output} takes, k and v share the rest; a fused up has twice the rows {@code ffn_down} takes.
 */
public final class FusedTensors {
    private static final Pattern LAYER = Pattern.compile("blk\\.(\\d+)\\.(attn_q|attn_k|attn_v|ffn_gate|ffn_up)\\.weight");

    private FusedTensors() {}

    /** {@code tensors} with the split names resolved from fused tensors where the file has no tensor of that name. */
    public static Function<String, WeightTensor> split(Function<String, WeightTensor> tensors) {
        return name -> {
            WeightTensor t = tensors.apply(name);
            Matcher m = LAYER.matcher(name);
            if (!m.matches()) return t;
            String blk = "blk." + m.group(1) + ".";
            String part = m.group(2);
            if (part.startsWith("attn_")) {
                if (t != null) return t;
                WeightTensor qkv = tensors.apply(blk + "attn_qkv.weight");
                WeightTensor out = tensors.apply(blk + "attn_output.weight");
                if (qkv == null || out == null) return null;
                int q = out.cols();
                int kv = (qkv.rows() - q) / 2;
                if (kv <= 0 || q + 2 * kv != qkv.rows()) return null;
                return switch (part) {
                    case "attn_q" -> rows(qkv, name, 0, q);
                    case "attn_k" -> rows(qkv, name, q, kv);
                    default -> rows(qkv, name, q + kv, kv);
                };
            }
            // A gate of its own means up is not fused.
            if (tensors.apply(blk + "ffn_gate.weight") != null) return t;
            WeightTensor up = tensors.apply(blk + "ffn_up.weight");
            WeightTensor down = tensors.apply(blk + "ffn_down.weight");
            if (up == null || down == null || up.rows() != 2 * down.cols()) return t;
            int n = down.cols();
            return part.equals("ffn_gate") ? rows(up, name, 0, n) : rows(up, name, n, n);
        };
    }

    /** Rows {@code first..first+count} of {@code t} as a tensor named {@code name}, in place. */
    public static WeightTensor rows(WeightTensor t, String name, int first, int count) {
        long rb = t.rowBytes();
        return new WeightTensor(name, t.type(), new long[] {t.cols(), count}, t.data().asSlice(first * rb, count * rb));
    }
}
