package io.flashllm.engine.synth;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.model.FeedForwardFactory;
import io.flashllm.engine.model.LanguageModel;
import io.flashllm.engine.model.ModelConfig;
import io.flashllm.engine.model.ModelWeights;
import io.flashllm.engine.model.OpenedModelFile;
import io.flashllm.engine.model.Transformer;
import io.flashllm.flashstore.ffn.DenseFfnLayer;
import io.flashllm.flashstore.ffn.FeedForward;
import io.flashllm.kernels.Parallel;
import io.flashllm.kernels.reference.ScalarReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The FATReLU threshold synth picks from sampled hidden states must give the target sparsity in a
 * real forward pass: every FFN input of every layer, for a run of tokens, is checked against all
 * gate rows of the written (quantized) model.
 */
class SynthSparsityTest {
    @TempDir
    Path dir;

    /** The dense FFN, counting gate pre-activations at or below the threshold on the way. */
    private static final class CountingFfn implements FeedForwardFactory {
        final float threshold;
        long below;
        long total;

        CountingFfn(float threshold) {
            this.threshold = threshold;
        }

        @Override
        public boolean readsFfnWeights() {
            return true;
        }

        @Override
        public FeedForward create(ModelConfig config, ModelWeights weights, Parallel parallel) {
            FeedForward dense = FeedForwardFactory.DENSE.create(config, weights, parallel);
            List<DenseFfnLayer> layers = weights.ffn();
            return new FeedForward() {
                @Override
                public void forward(int layer, float[] x, float[] out) {
                    float[] g = new float[layers.get(layer).gate().rows()];
                    ScalarReference.matvec(layers.get(layer).gate(), x, g);
                    for (float v : g) if (v <= threshold) below++;
                    total += g.length;
                    dense.forward(layer, x, out);
                }

                @Override
                public void close() {
                    dense.close();
                }
            };
        }
    }

    @Test
    void realForwardPassCutsTheTargetFractionOfGateActivations() throws IOException {
        Path f = dir.resolve("relu.gguf");
        SynthSpec s = new SynthSpec(SynthArch.LLAMA_RELU, 128, 4, 4, 2, 512, 500, SynthType.Q8_0, SynthFormat.GGUF,
                23, 0.9f, 64, null);
        float threshold = Synth.synthesize(s, f, 2).fatreluThreshold();
        CountingFfn counting = new CountingFfn(threshold);
        try (LanguageModel m = ModelLoader.assemble(OpenedModelFile.open(f), new LoadOptions(2, 64, null), counting);
             Transformer t = m.newTransformer(64)) {
            assertEquals(threshold, m.config().activation().threshold());
            for (int pos = 0; pos < 24; pos++) t.forward((pos * 37 + 5) % 500, pos);
        }
        double sparsity = counting.below / (double) counting.total;
        System.out.printf("target 0.9, threshold %.4f, measured sparsity %.4f over %d gate activations%n",
                threshold, sparsity, counting.total);
        assertEquals(0.9, sparsity, 0.03, "measured over " + counting.total + " gate activations");
    }

    /** Below ReLU's own sparsity the threshold would be negative: refused, no file that would not load. */
    @Test
    void aSparsityReluAlreadyGivesIsRefused() {
        Path f = dir.resolve("low.gguf");
        SynthSpec s = new SynthSpec(SynthArch.LLAMA_RELU, 64, 2, 4, 2, 128, 320, SynthType.Q8_0, SynthFormat.GGUF,
                23, 0.3f, 64, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Synth.synthesize(s, f, 2, TestVocab.spm(320)));
        assertTrue(e.getMessage().contains("sparsity 0.3 is at or below"), e.getMessage());
        assertFalse(Files.exists(f));
    }
}
