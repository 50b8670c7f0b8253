package io.flashllm.engine.synth;

import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.flashstore.safetensors.SafetensorsFile;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.kernels.reference.ScalarReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class SynthWeightsTest {
    @TempDir
    Path dir;

    private static SynthSpec spec(SynthArch arch, SynthType type, SynthFormat format, long seed) {
        return new SynthSpec(arch, 64, 2, 4, arch == SynthArch.OPT ? 4 : 2, 96, 320, type, format, seed,
                null, 64, null);
    }

    @Test
    void sameSeedGivesTheSameBytesAndAnotherSeedDoesNot() throws IOException {
        SynthSpec s = spec(SynthArch.LLAMA, SynthType.Q8_0, SynthFormat.GGUF, 7);
        Path a = dir.resolve("a.gguf"), b = dir.resolve("b.gguf"), c = dir.resolve("c.gguf");
        Synth.synthesize(s, a, 2, TestVocab.spm(320));
        Synth.synthesize(s, b, 1, TestVocab.spm(320)); // thread count must not matter
        Synth.synthesize(spec(SynthArch.LLAMA, SynthType.Q8_0, SynthFormat.GGUF, 8), c, 2, TestVocab.spm(320));
        assertArrayEquals(Files.readAllBytes(a), Files.readAllBytes(b));
        assertFalse(Arrays.equals(Files.readAllBytes(a), Files.readAllBytes(c)));
    }

    @Test
    void ggufHoldsHfWeightsWithQAndKRowsPermutedForInterleavedRope() throws IOException {
        Path gguf = dir.resolve("m.gguf"), hf = dir.resolve("hf");
        Synth.synthesize(spec(SynthArch.LLAMA, SynthType.F32, SynthFormat.GGUF, 3), gguf, 2, TestVocab.spm(320));
        Synth.synthesize(spec(SynthArch.LLAMA, SynthType.F32, SynthFormat.HF, 3), hf, 2, TestVocab.spm(320));
        try (GgufFile g = GgufFile.open(gguf);
             SafetensorsFile st = SafetensorsFile.open(hf.resolve("model.safetensors"))) {
            int headDim = 16;
            for (SynthTensor t : SynthPlan.tensors(spec(SynthArch.LLAMA, SynthType.F32, SynthFormat.GGUF, 3))) {
                WeightTensor gt = g.tensor(t.ggufName());
                WeightTensor ht = st.tensor(t.hfName());
                assertNotNull(gt, t.ggufName());
                assertNotNull(ht, t.hfName());
                assertArrayEquals(gt.shape(), ht.shape(), t.hfName());
                for (int r = 0; r < gt.rows(); r++) {
                    int hfRow = r;
                    if (t.permuteHeads() > 0) {
                        int i = r % headDim;
                        hfRow = r / headDim * headDim + (i % 2 == 0 ? i / 2 : headDim / 2 + i / 2);
                    }
                    assertArrayEquals(ScalarReference.dequantizeRow(ht, hfRow), ScalarReference.dequantizeRow(gt, r),
                            t.ggufName() + " row " + r);
                }
            }
            assertEquals("llama", g.getString("general.architecture"));
            assertEquals(64, g.getInt("llama.embedding_length", 0));
            assertEquals(2, g.getInt("llama.attention.head_count_kv", 0));
            assertEquals(16, g.getInt("llama.rope.dimension_count", 0));
        }
    }

    @Test
    void matricesGetTheirFileTypeAndNormsStayF32() throws IOException {
        Path gguf = dir.resolve("k.gguf");
        SynthSpec s = new SynthSpec(SynthArch.LLAMA, 256, 8, 4, 4, 512, 320, SynthType.Q4_K_M, SynthFormat.GGUF,
                1, null, 64, null);
        Synth.synthesize(s, gguf, 2, TestVocab.spm(320));
        try (GgufFile g = GgufFile.open(gguf)) {
            assertEquals(GgmlType.Q4_K, g.tensor("blk.0.attn_q.weight").type());
            assertEquals(GgmlType.Q6_K, g.tensor("output.weight").type());
            assertEquals(GgmlType.Q6_K, g.tensor("blk.0.attn_v.weight").type());  // first eighth
            assertEquals(GgmlType.Q4_K, g.tensor("blk.1.attn_v.weight").type());
            assertEquals(GgmlType.Q6_K, g.tensor("blk.3.ffn_down.weight").type()); // (3 - 1) % 3 == 2
            assertEquals(GgmlType.F32, g.tensor("blk.0.ffn_norm.weight").type());
            assertEquals(15, g.getInt("general.file_type", -1));
        }
    }

    @Test
    void q5KMixesLikeQ4KMAndQ5KSOnlyRaisesTheOutput() throws IOException {
        for (SynthType type : new SynthType[] {SynthType.Q5_K_M, SynthType.Q5_K_S}) {
            Path gguf = dir.resolve(type + ".gguf");
            SynthSpec s = new SynthSpec(SynthArch.LLAMA, 256, 8, 4, 4, 512, 320, type, SynthFormat.GGUF,
                    1, null, 64, null);
            Synth.synthesize(s, gguf, 2, TestVocab.spm(320));
            GgmlType moreBits = type == SynthType.Q5_K_M ? GgmlType.Q6_K : GgmlType.Q5_K;
            try (GgufFile g = GgufFile.open(gguf)) {
                assertEquals(GgmlType.Q5_K, g.tensor("blk.0.attn_q.weight").type(), type.name());
                assertEquals(GgmlType.Q6_K, g.tensor("output.weight").type(), type.name());
                assertEquals(moreBits, g.tensor("blk.0.attn_v.weight").type(), type.name());
                assertEquals(GgmlType.Q5_K, g.tensor("blk.1.attn_v.weight").type(), type.name());
                assertEquals(moreBits, g.tensor("blk.3.ffn_down.weight").type(), type.name());
                assertEquals(GgmlType.Q5_K, g.tensor("blk.2.ffn_down.weight").type(), type.name());
                assertEquals(GgmlType.F32, g.tensor("blk.0.ffn_norm.weight").type(), type.name());
                assertEquals(type == SynthType.Q5_K_M ? 17 : 16, g.getInt("general.file_type", -1));
            }
        }
    }

    @Test
    void typesFollowLlamaCppsMixesAndFallBackOnShortRows() {
        // 32 layers: the first and last four and every third from layer 6 get more bits in the _M mixes.
        for (SynthType t : new SynthType[] {SynthType.Q4_K_M, SynthType.Q5_K_M}) {
            assertEquals(GgmlType.Q6_K, t.matrixType("output", 0, 32, 4096));
            assertEquals(GgmlType.Q6_K, t.matrixType("attn_v", 3, 32, 4096));
            assertEquals(t.base, t.matrixType("attn_v", 4, 32, 4096));
            assertEquals(GgmlType.Q6_K, t.matrixType("ffn_down", 6, 32, 11008));
            assertEquals(GgmlType.Q6_K, t.matrixType("ffn_down", 28, 32, 11008));
            assertEquals(t.base, t.matrixType("attn_q", 0, 32, 4096));
        }
        for (SynthType t : new SynthType[] {SynthType.Q4_0, SynthType.Q4_1, SynthType.Q5_0, SynthType.Q5_1,
                SynthType.Q5_K_S}) {
            assertEquals(GgmlType.Q6_K, t.matrixType("output", 0, 32, 4096), t.name());
            assertEquals(t.base, t.matrixType("attn_v", 0, 32, 4096), t.name());
            assertEquals(t.base, t.matrixType("ffn_down", 0, 32, 11008), t.name());
            assertEquals(t.base, t.matrixType("token_embd", 0, 32, 4096), t.name());
        }
        assertEquals(GgmlType.Q8_0, SynthType.Q8_0.matrixType("output", 0, 32, 4096));
        assertEquals(GgmlType.F16, SynthType.F16.matrixType("output", 0, 32, 4096));
        // Rows of 4000 are whole 32-blocks but not 256-blocks; rows of 100 are neither.
        assertEquals(GgmlType.Q5_1, SynthType.Q5_K_S.matrixType("attn_q", 0, 32, 4000));
        assertEquals(GgmlType.Q5_0, SynthType.Q4_K_M.matrixType("attn_q", 0, 32, 4000));
        assertEquals(GgmlType.Q8_0, SynthType.Q5_K_M.matrixType("output", 0, 32, 4000));
        assertEquals(GgmlType.Q5_1, SynthType.Q5_1.matrixType("attn_q", 0, 32, 4000));
        assertEquals(GgmlType.F16, SynthType.Q5_0.matrixType("attn_q", 0, 32, 100));
        assertEquals(3, SynthType.Q4_1.fileType);
        assertEquals(8, SynthType.Q5_0.fileType);
        assertEquals(9, SynthType.Q5_1.fileType);
        assertEquals(SynthType.Q5_K_M, SynthType.parse(" q5_k_m "));
        // MXFP4 (llama.cpp's MXFP4_MOE): the experts MXFP4, every other matrix Q8_0.
        assertEquals(38, SynthType.MXFP4.fileType);
        assertEquals(SynthType.MXFP4, SynthType.parse("mxfp4"));
        assertEquals(GgmlType.Q8_0, SynthType.MXFP4.matrixType("output", 0, 32, 2880));
        assertEquals(GgmlType.MXFP4, SynthType.MXFP4.matrixType("ffn_down_exps", 0, 32, 2880));
        assertEquals(GgmlType.MXFP4, SynthType.MXFP4.matrixType("ffn_gate_exps", 0, 32, 2880));
        assertEquals(GgmlType.Q8_0, SynthType.MXFP4.matrixType("ffn_down", 0, 32, 2880));
        assertEquals(GgmlType.Q8_0, SynthType.MXFP4.matrixType("token_embd", 0, 32, 2880));
        assertEquals(GgmlType.F16, SynthType.MXFP4.matrixType("attn_q", 0, 32, 100));
        // The 3- and 2-bit mixes (32 layers): Q3_K_M's attn_v Q5_K in layers 0-1, its ffn_down Q5_K in
        // layer 0-1 (the first sixteenth); Q3_K_L gives those and attn_output Q5_K; Q2_K gives them Q3_K.
        assertEquals(GgmlType.Q5_K, SynthType.Q3_K_M.matrixType("attn_v", 1, 32, 4096));
        assertEquals(GgmlType.Q4_K, SynthType.Q3_K_M.matrixType("attn_v", 2, 32, 4096));
        assertEquals(GgmlType.Q5_K, SynthType.Q3_K_M.matrixType("ffn_down", 1, 32, 11008));
        assertEquals(GgmlType.Q4_K, SynthType.Q3_K_M.matrixType("ffn_down", 2, 32, 11008));
        assertEquals(GgmlType.Q4_K, SynthType.Q3_K_M.matrixType("attn_output", 9, 32, 4096));
        assertEquals(GgmlType.Q3_K, SynthType.Q3_K_M.matrixType("ffn_gate", 0, 32, 4096));
        assertEquals(GgmlType.Q6_K, SynthType.Q3_K_M.matrixType("output", 0, 32, 4096));
        for (String role : new String[] {"attn_v", "ffn_down", "attn_output"}) {
            assertEquals(GgmlType.Q5_K, SynthType.Q3_K_L.matrixType(role, 20, 32, 4096), role);
            assertEquals(GgmlType.Q3_K, SynthType.Q3_K_S.matrixType(role, 0, 32, 4096), role);
        }
        assertEquals(GgmlType.Q3_K, SynthType.Q2_K.matrixType("attn_v", 20, 32, 4096));
        assertEquals(GgmlType.Q3_K, SynthType.Q2_K.matrixType("ffn_down", 0, 32, 11008));
        assertEquals(GgmlType.Q2_K, SynthType.Q2_K.matrixType("attn_output", 0, 32, 4096));
        assertEquals(GgmlType.Q2_K, SynthType.Q2_K.matrixType("ffn_up", 0, 32, 4096));
        assertEquals(GgmlType.IQ4_NL, SynthType.Q3_K_S.matrixType("attn_q", 0, 32, 4000));
        assertEquals(GgmlType.IQ4_NL, SynthType.Q2_K.matrixType("ffn_up", 0, 32, 4000));
        // IQ4 (llama.cpp's file types 25 and 30): attn_v Q5_K, ffn_down Q5_K in layers 0-3 (the first
        // eighth), the output Q6_K, short rows IQ4_NL.
        for (SynthType t : new SynthType[] {SynthType.IQ4_NL, SynthType.IQ4_XS}) {
            assertEquals(GgmlType.Q5_K, t.matrixType("attn_v", 7, 32, 4096), t.name());
            assertEquals(GgmlType.Q6_K, t.matrixType("output", 0, 32, 4096), t.name());
            assertEquals(GgmlType.Q5_K, t.matrixType("ffn_down", 3, 32, 11008), t.name());
            assertEquals(t.base, t.matrixType("ffn_down", 4, 32, 11008), t.name());
            assertEquals(t.base, t.matrixType("ffn_up", 0, 32, 11008), t.name());
            assertEquals(t.base, t.matrixType("token_embd", 0, 32, 4096), t.name());
            assertEquals(GgmlType.IQ4_NL, t.matrixType("attn_q", 0, 32, 4000), t.name());
            assertEquals(GgmlType.Q8_0, t.matrixType("output", 0, 32, 4000), t.name());
        }
        assertEquals(30, SynthType.IQ4_XS.fileType);
        assertEquals(25, SynthType.IQ4_NL.fileType);
        assertEquals(SynthType.IQ4_XS, SynthType.parse("iq4_xs"));
        assertEquals(12, SynthType.Q3_K_M.fileType);
        assertEquals(SynthType.Q2_K, SynthType.parse("q2_k"));
        // Q4_K_M gives a mixture's down experts more bits where it gives a dense down projection more.
        assertEquals(GgmlType.Q6_K, SynthType.Q4_K_M.matrixType("ffn_down_exps", 0, 32, 2816));
    }

    @Test
    void everyTypeStoresItsMatricesCloseToTheGeneratedWeights() throws IOException {
        for (SynthType type : SynthType.values()) {
            // MXFP4 stores only a mixture's experts so: a mixture of four for it.
            int experts = type == SynthType.MXFP4 ? 4 : 0;
            SynthSpec s = new SynthSpec(SynthArch.LLAMA, 256, 2, 4, 2, 512, 320, type, SynthFormat.GGUF,
                    4, null, 64, null, 0, experts, experts / 2);
            Path gguf = dir.resolve("all-" + type + ".gguf");
            Synth.synthesize(s, gguf, 2, TestVocab.spm(320));
            try (GgufFile g = GgufFile.open(gguf)) {
                assertEquals(type.fileType, g.getInt("general.file_type", -1), type.name());
                for (SynthTensor t : SynthPlan.tensors(s)) {
                    WeightTensor w = g.tensor(t.ggufName());
                    String what = type + " " + t.ggufName();
                    assertEquals(t.ggufType(), w.type(), what);
                    for (long r : new long[] {0, t.rows() - 1}) {
                        float[] want = new float[t.cols()];
                        WeightGen.fill(t, WeightGen.tensorSeed(4, t.hfName()), t.hfRowOfGgufRow(r), want);
                        float[] got = ScalarReference.dequantizeRow(w, Math.toIntExact(r));
                        double e = relRms(want, got);
                        assertTrue(e <= relRmsBound(w.type()), what + " row " + r + ": rel rms " + e);
                    }
                }
            }
        }
    }

    /** Rounding error of one row of random weights, with about a factor two of margin. */
    private static double relRmsBound(GgmlType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1e-3;
            case BF16 -> 5e-3;
            case Q8_0 -> 0.01;
            case Q6_K -> 0.03;
            case Q5_0, Q5_1, Q5_K -> 0.07;
            case Q4_0, Q4_1, Q4_K -> 0.15;
            case MXFP4 -> 0.2;
            case IQ4_NL, IQ4_XS -> 0.15;
            case Q3_K -> 0.3;
            case Q2_K -> 0.6;
        };
    }

    private static double relRms(float[] want, float[] got) {
        double num = 0, den = 0;
        for (int i = 0; i < want.length; i++) {
            num += (got[i] - want[i]) * (double) (got[i] - want[i]);
            den += want[i] * (double) want[i];
        }
        return Math.sqrt(num / den);
    }

    @Test
    void optHasBiasesLearnedPositionsAndATiedOutput() throws IOException {
        Path gguf = dir.resolve("opt.gguf");
        Synth.synthesize(spec(SynthArch.OPT, SynthType.F16, SynthFormat.GGUF, 5), gguf, 2, TestVocab.spm(320));
        try (GgufFile g = GgufFile.open(gguf)) {
            assertEquals("opt", g.getString("general.architecture"));
            assertEquals(66, g.tensor("position_embd.weight").rows()); // 64 positions + HF's offset of 2
            assertNotNull(g.tensor("blk.1.ffn_up.bias"));
            assertEquals(96, g.tensor("blk.1.ffn_up.bias").cols());
            assertNull(g.tensor("output.weight"));
            assertNull(g.tensor("blk.0.ffn_gate.weight"));
            assertEquals(GgmlType.F16, g.tensor("blk.0.attn_q.weight").type());
        }
    }

    @Test
    void weightsHaveTheScaleTheyAreMeantToHave() {
        SynthSpec s = spec(SynthArch.LLAMA, SynthType.F32, SynthFormat.GGUF, 9);
        List<SynthTensor> plan = SynthPlan.tensors(s);
        SynthTensor up = plan.stream().filter(t -> t.role().equals("ffn_up")).findFirst().orElseThrow();
        float[] row = new float[up.cols()];
        double ss = 0, sum = 0;
        int n = 0;
        for (int r = 0; r < up.rows(); r++) {
            WeightGen.fill(up, WeightGen.tensorSeed(9, up.hfName()), r, row);
            for (float v : row) { ss += v * (double) v; sum += v; n++; }
        }
        double std = Math.sqrt(ss / n);
        assertEquals(1 / Math.sqrt(64), std, 0.1 / Math.sqrt(64));
        assertEquals(0, sum / n, 0.01);
        SynthTensor norm = plan.stream().filter(t -> t.role().equals("norm")).findFirst().orElseThrow();
        float[] nr = new float[norm.cols()];
        WeightGen.fill(norm, WeightGen.tensorSeed(9, norm.hfName()), 0, nr);
        for (float v : nr) {
            assertEquals(1f, v, 0.1f);
            assertEquals(v, Float.intBitsToFloat(Float.floatToIntBits(v) & 0xFFFF0000), "bf16-exact");
        }
    }

    @Test
    void fatreluThresholdHitsTheTargetSparsity() {
        SynthSpec s = new SynthSpec(SynthArch.LLAMA_RELU, 128, 2, 4, 4, 512, 320, SynthType.F32, SynthFormat.GGUF,
                11, 0.9f, 64, null);
        List<SynthTensor> plan = SynthPlan.tensors(s);
        float t = FatreluCalibration.threshold(s, plan, 0.9);
        // Check on fresh inputs: RMS-normalized random states through layer 1's gate, all rows.
        SynthTensor gate = plan.stream().filter(x -> x.role().equals("ffn_gate") && x.layer() == 1).findFirst().orElseThrow();
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(123);
        float[] row = new float[128];
        float[] h = new float[128];
        int below = 0, total = 0;
        for (int k = 0; k < 20; k++) {
            double ss = 0;
            for (int i = 0; i < 128; i++) { h[i] = (float) rnd.nextGaussian(); ss += h[i] * h[i]; }
            float inv = (float) (1 / Math.sqrt(ss / 128));
            for (int r = 0; r < 512; r++) {
                WeightGen.fill(gate, WeightGen.tensorSeed(11, gate.hfName()), r, row);
                double dot = 0;
                for (int i = 0; i < 128; i++) dot += row[i] * h[i] * inv;
                if (dot <= t) below++;
                total++;
            }
        }
        assertEquals(0.9, below / (double) total, 0.03);
        assertTrue(t > 0.8 && t < 1.8, "threshold " + t); // ~1.28 sigma of a unit-variance pre-activation
    }

    @Test
    void badSpecsAreRejectedWithAReason() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SynthSpec(SynthArch.LLAMA,
                100, 2, 3, 3, 96, 320, SynthType.F32, SynthFormat.GGUF, 1, null, 64, null));
        assertTrue(e.getMessage().contains("multiple of heads"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new SynthSpec(SynthArch.LLAMA,
                64, 2, 4, 4, 96, 320, SynthType.Q8_0, SynthFormat.HF, 1, null, 64, null));
        assertTrue(e.getMessage().contains("Hugging Face"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new SynthSpec(SynthArch.LLAMA,
                64, 2, 4, 4, 96, 320, SynthType.F32, SynthFormat.GGUF, 1, 0.9f, 64, null));
        assertTrue(e.getMessage().contains("llama-relu"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> SynthArch.parse("gpt5"));
        e = assertThrows(IllegalArgumentException.class, () -> SynthType.parse("Q3_K"));
        assertTrue(e.getMessage().contains("Q5_K_M"), e.getMessage());
    }
}
