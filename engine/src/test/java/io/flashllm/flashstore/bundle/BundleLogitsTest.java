package io.flashllm.flashstore.bundle;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.model.KvCacheType;
import io.flashllm.engine.model.LanguageModel;
import io.flashllm.engine.model.Transformer;
import io.flashllm.engine.synth.Synth;
import io.flashllm.engine.synth.SynthArch;
import io.flashllm.engine.synth.SynthFormat;
import io.flashllm.engine.synth.SynthSpec;
import io.flashllm.engine.synth.SynthType;
import io.flashllm.engine.synth.SynthVocab;
import io.flashllm.engine.testutil.TinyModels;
import io.flashllm.engine.testutil.TinySpec;
import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Bundle-mode logits against the plain model's, whole transformer, for the dense and gate-exact
 * selectors, the bundle loaded through ModelLoader like any model path: per architecture (Llama
 * with SiLU, ReLU and FATReLU; Qwen3; Gemma 2 and 3; Phi-3 with its fused matrices; OPT) and weight type, from one type throughout to synth's llama.cpp
 * mixes (Q4_K_M, Q5_K_M) whose ffn_down changes type between layers.
 *
 * <p>Tolerance. With down columns stored exactly (F32) the two FFNs differ only in the order
 * float sums are taken (cache order and thread split vs matrix order), a few float32 ulps per sum
 * that the layers carry on: logits must agree within 3e-5 of their largest magnitude (observed:
 * 3e-7 to 1.5e-6, with an F32 KV cache). With the default storage a quantized source's down
 * columns are requantized to Q8_0 (half a Q8_0 step per element, see the format decision):
 * logits must agree within 2e-2 of their largest magnitude (observed 2.2e-3 to 5.4e-3)
 * and pick the same top token.
 */
class BundleLogitsTest {
    static final int[] TOKENS = {1, 17, 250, 3, 99, 42, 42, 7, 300};

    @TempDir
    Path dir;

    /** A source model, written as GGUF to the given file. */
    @FunctionalInterface
    interface Source {
        void write(Path file) throws IOException;
    }

    /** One encoding for every matrix (TinyModels). */
    static Source tiny(TinySpec spec) {
        return f -> new TinyModels(spec).writeGguf(f, Map.of());
    }

    /**
     * A llama.cpp-style mix from synth, two layers: with two layers the Q4_K_M/Q5_K_M rule gives
     * layer 0's ffn_down the base K-quant and layer 1's Q6_K, and rows that are not whole 256-blocks
     * fall back (Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0), so one model mixes up to four types.
     */
    static Source synth(SynthArch arch, int dim, int ffn, SynthType type, Float sparsity) {
        return f -> {
            SynthSpec s = new SynthSpec(arch, dim, 2, 8, arch == SynthArch.OPT ? 8 : 2, ffn, 320, type,
                    SynthFormat.GGUF, 21, sparsity, 64, null);
            Synth.synthesize(s, f, 2, SynthVocab.build(arch, s.vocab()));
        };
    }

    static Arguments of(String label, Source src, String selector, ConvertOptions.DownType down, double tol,
                        String ffnTypes) {
        return Arguments.of(label, src, selector, down, tol, ffnTypes);
    }

    static Stream<Arguments> cases() {
        ConvertOptions.DownType auto = ConvertOptions.DownType.AUTO;
        ConvertOptions.DownType f32 = ConvertOptions.DownType.F32;
        List<Arguments> out = new ArrayList<>(List.of(
                of("relu-llama-f16", tiny(TinySpec.reluLlama(GgmlType.F16, "relu", 0f)), "gate-exact", auto, 3e-5,
                        null),
                of("relu-llama-f16-dense", tiny(TinySpec.reluLlama(GgmlType.F16, "relu", 0f)), "dense", auto, 3e-5,
                        null),
                of("relu-llama-q8-exact-down", tiny(TinySpec.reluLlama(GgmlType.Q8_0, "relu", 0f)), "gate-exact", f32,
                        3e-5, null),
                of("relu-llama-q4-q8down", tiny(TinySpec.reluLlama(GgmlType.Q4_0, "relu", 0f)), "gate-exact", auto,
                        2e-2, null),
                of("fatrelu-llama-bf16", tiny(TinySpec.reluLlama(GgmlType.BF16, "fatrelu", 0.1f)), "gate-exact", auto,
                        3e-5, null),
                of("silu-llama-q8-dense", tiny(TinySpec.llama(GgmlType.Q8_0)), "dense", f32, 3e-5, null),
                of("qwen3-q8-dense", tiny(TinySpec.qwen3(GgmlType.Q8_0)), "dense", f32, 3e-5, null),
                of("gemma3-q8-dense", tiny(TinySpec.gemma3(GgmlType.Q8_0)), "dense", f32, 3e-5, null),
                of("gemma2-q8-dense", tiny(TinySpec.gemma2(GgmlType.Q8_0)), "dense", f32, 3e-5, null),
                of("phi3-fused-q8-dense", tiny(TinySpec.phi3(GgmlType.Q8_0)), "dense", f32, 3e-5, null),
                of("opt-f32-dense", tiny(TinySpec.opt(GgmlType.F32, true, 32)), "dense", auto, 3e-5, null)));
        // The 32-element block types with offsets or fifth bits: each architecture for Q5_0, an exact
        // check (down columns stored as F32) and a requantized one for Q4_1 and Q5_1.
        out.add(of("relu-llama-q5_0-q8down", tiny(TinySpec.reluLlama(GgmlType.Q5_0, "relu", 0f)), "gate-exact", auto,
                2e-2, null));
        out.add(of("relu-llama-q5_0-exact-down-dense", tiny(TinySpec.reluLlama(GgmlType.Q5_0, "relu", 0f)), "dense",
                f32, 3e-5, null));
        out.add(of("fatrelu-llama-q5_0-exact-down", tiny(TinySpec.reluLlama(GgmlType.Q5_0, "fatrelu", 0.1f)),
                "gate-exact", f32, 3e-5, null));
        out.add(of("silu-llama-q5_0-dense", tiny(TinySpec.llama(GgmlType.Q5_0)), "dense", auto, 2e-2, null));
        out.add(of("opt-q5_0-dense", tiny(TinySpec.opt(GgmlType.Q5_0, true, 32)), "dense", auto, 2e-2, null));
        for (GgmlType t : new GgmlType[] {GgmlType.Q4_1, GgmlType.Q5_1}) {
            String n = t.name().toLowerCase(Locale.ROOT);
            out.add(of("relu-llama-" + n + "-exact-down", tiny(TinySpec.reluLlama(t, "relu", 0f)), "gate-exact", f32,
                    3e-5, null));
            out.add(of("opt-" + n + "-dense", tiny(TinySpec.opt(t, true, 64)), "dense", auto, 2e-2, null));
        }
        out.add(of("relu-llama-q5_k-exact-down", tiny(TinySpec.wideReluLlama(GgmlType.Q5_K)), "gate-exact", f32,
                3e-5, null));
        out.add(of("relu-llama-q5_k-dense", tiny(TinySpec.wideReluLlama(GgmlType.Q5_K)), "dense", auto, 2e-2, null));
        // Synth's mixes: ffn_down changes type between layers, and rows of 384 or 128 fall back.
        out.add(of("relu-llama-q5_k_m-q8down", synth(SynthArch.LLAMA_RELU, 256, 384, SynthType.Q5_K_M, null),
                "gate-exact", auto, 2e-2, "gate Q5_K, up Q5_K, down Q5_1/Q8_0"));
        out.add(of("relu-llama-q5_k_m-exact-down-dense", synth(SynthArch.LLAMA_RELU, 256, 384, SynthType.Q5_K_M, null),
                "dense", f32, 3e-5, "gate Q5_K, up Q5_K, down Q5_1/Q8_0"));
        out.add(of("relu-llama-q5_k_m-narrow", synth(SynthArch.LLAMA_RELU, 128, 256, SynthType.Q5_K_M, null),
                "gate-exact", auto, 2e-2, "gate Q5_1, up Q5_1, down Q5_K/Q6_K"));
        // FATReLU jumps from 0 to its threshold, so the small change a requantized down column makes to
        // the next layer's input switches whole neurons on or off (seen: 3e-2 of the largest logit).
        out.add(of("fatrelu-llama-q5_k_m-exact-down", synth(SynthArch.LLAMA_RELU, 256, 512, SynthType.Q5_K_M, 0.8f),
                "gate-exact", f32, 3e-5, "gate Q5_K, up Q5_K, down Q5_K/Q6_K"));
        out.add(of("silu-llama-q5_k_m-dense", synth(SynthArch.LLAMA, 256, 512, SynthType.Q5_K_M, null),
                "dense", auto, 2e-2, "gate Q5_K, up Q5_K, down Q5_K/Q6_K"));
        out.add(of("opt-q5_k_m-dense", synth(SynthArch.OPT, 256, 384, SynthType.Q5_K_M, null),
                "dense", auto, 2e-2, "up Q5_K, down Q5_1/Q8_0"));
        // The smallest mixes (sub-blocks of 16): with two layers Q3_K_M's ffn_down is Q4_K, Q2_K's Q3_K.
        out.add(of("relu-llama-q3_k_m-exact-down", synth(SynthArch.LLAMA_RELU, 256, 512, SynthType.Q3_K_M, null),
                "gate-exact", f32, 3e-5, "gate Q3_K, up Q3_K, down Q4_K"));
        out.add(of("silu-llama-q3_k_m-dense", synth(SynthArch.LLAMA, 256, 512, SynthType.Q3_K_M, null),
                "dense", auto, 2e-2, "gate Q3_K, up Q3_K, down Q4_K"));
        out.add(of("relu-llama-q2_k", synth(SynthArch.LLAMA_RELU, 256, 512, SynthType.Q2_K, null),
                "gate-exact", auto, 2e-2, "gate Q2_K, up Q2_K, down Q3_K"));
        // The non-linear grid types: gathered rows and down columns looked up, not scaled.
        out.add(of("relu-llama-iq4_xs-exact-down", synth(SynthArch.LLAMA_RELU, 256, 512, SynthType.IQ4_XS, null),
                "gate-exact", f32, 3e-5, "gate IQ4_XS, up IQ4_XS, down IQ4_XS"));
        out.add(of("silu-llama-iq4_nl-dense", synth(SynthArch.LLAMA, 256, 512, SynthType.IQ4_NL, null),
                "dense", auto, 2e-2, "gate IQ4_NL, up IQ4_NL, down IQ4_NL"));
        out.add(of("relu-llama-q4_k_m", synth(SynthArch.LLAMA_RELU, 256, 512, SynthType.Q4_K_M, null),
                "gate-exact", auto, 2e-2, "gate Q4_K, up Q4_K, down Q4_K/Q6_K"));
        return out.stream();
    }

    /** The FFN matrices' types as "gate T, up T, down T0/T1" (one name where the layers agree). */
    static String ffnTypes(Path gguf) {
        try (GgufFile g = GgufFile.open(gguf)) {
            List<String> parts = new ArrayList<>();
            for (String m : List.of("gate", "up", "down")) {
                Set<String> types = new LinkedHashSet<>();
                for (int l = 0; l < 2; l++) {
                    WeightTensor t = g.tensor("blk." + l + ".ffn_" + m + ".weight");
                    if (t != null) types.add(t.type().name());
                }
                if (!types.isEmpty()) parts.add(m + " " + String.join("/", types));
            }
            return String.join(", ", parts);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void bundleLogitsEqualPlainLogits(String label, Source src, String selector, ConvertOptions.DownType down,
                                      double relTol, String ffnTypes) throws Exception {
        Path gguf = dir.resolve(label + ".gguf");
        src.write(gguf);
        if (ffnTypes != null) assertEquals(ffnTypes, ffnTypes(gguf), label + ": the source's FFN types");
        // An F32 KV cache: with F16 a float32 ulp of difference in a layer's output can flip the
        // rounding of a cached K or V element (2^-11 of it) and move logits by ~1e-4, so the exact
        // cases would compare the KV cache's rounding luck rather than the FFN.
        LoadOptions opts = LoadOptions.defaults().withThreads(2).withKvCacheType(KvCacheType.F32);
        Path bundle = dir.resolve(label + ".bundle");
        try (LanguageModel plain = ModelLoader.loadLanguageModel(gguf, opts)) {
            Converter.convert(gguf, bundle, ConvertOptions.defaults().withActivation(plain.config().activation())
                    .withDownType(down).withMinReadBytes(4096));
            // The real loading path: ModelLoader recognizes the bundle directory.
            try (LanguageModel viaBundle = ModelLoader.loadLanguageModel(bundle,
                         opts.withBundle(BundleOpenOptions.defaults().withSelector(selector)));
                 Transformer a = plain.newTransformer(32);
                 Transformer b = viaBundle.newTransformer(32)) {
                BundleFeedForward ffn = assertInstanceOf(BundleFeedForward.class, viaBundle.ffn());
                assertEquals(selector, ffn.selector().name());
                double worst = 0;
                for (int p = 0; p < TOKENS.length; p++) {
                    float[] want = a.forward(TOKENS[p], p);
                    float[] got = b.forward(TOKENS[p], p);
                    double max = 0;
                    double diff = 0;
                    int argWant = 0;
                    int argGot = 0;
                    for (int i = 0; i < want.length; i++) {
                        max = Math.max(max, Math.abs(want[i]));
                        diff = Math.max(diff, Math.abs(want[i] - got[i]));
                        if (want[i] > want[argWant]) argWant = i;
                        if (got[i] > got[argGot]) argGot = i;
                    }
                    worst = Math.max(worst, diff / max);
                    assertTrue(diff <= relTol * max + 1e-5,
                            label + " position " + p + ": max |Δlogit| " + diff + " vs max |logit| " + max);
                    assertEquals(argWant, argGot, label + " position " + p + " top token");
                }
                assertTrue(ffn.counters(0).lookups() > 0);
                // The prompt path: all tokens through each layer together (the bundle FFN's forwardBatch).
                try (Transformer pa = plain.newTransformer(32); Transformer pb = viaBundle.newTransformer(32)) {
                    float[] want = pa.forward(TOKENS, 0, TOKENS.length, 0);
                    float[] got = pb.forward(TOKENS, 0, TOKENS.length, 0);
                    double max = 0;
                    double diff = 0;
                    for (int i = 0; i < want.length; i++) {
                        max = Math.max(max, Math.abs(want[i]));
                        diff = Math.max(diff, Math.abs(want[i] - got[i]));
                    }
                    assertTrue(diff <= relTol * max + 1e-5,
                            label + " batched prompt: max |Δlogit| " + diff + " vs " + max);
                }
                System.out.printf("%s: worst max|Δlogit|/max|logit| = %.2e (allowed %.0e)%n", label, worst, relTol);
            }
        }
    }
}
