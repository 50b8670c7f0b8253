package io.flashllm.engine.synth;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.model.FeedForwardFactory;
import io.flashllm.engine.model.LanguageModel;
import io.flashllm.engine.model.OpenedModelFile;
import io.flashllm.engine.model.Transformer;
import io.flashllm.flashstore.ffn.DenseFfnLayer;
import io.flashllm.flashstore.ffn.FeedForward;
import io.flashllm.kernels.reference.ScalarReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
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

    @Test
    void realForwardPassCutsTheTargetFractionOfGateActivations() throws IOException {
        Path f = dir.resolve("relu.gguf");
        SynthSpec s = new SynthSpec(SynthArch.LLAMA_RELU, 128, 4, 4, 2, 512, 500, SynthType.Q8_0, SynthFormat.GGUF,
                23, 0.9f, 64, null);
        float threshold = Synth.synthesize(s, f, 2).fatreluThreshold();
        long[] counts = new long[2]; // {at or below threshold, all}
        FeedForwardFactory counting = (config, weights, parallel) -> {
            FeedForward dense = FeedForwardFactory.DENSE.create(config, weights, parallel);
            List<DenseFfnLayer> layers = weights.ffn();
            return new FeedForward() {
                @Override
                public void forward(int layer, float[] x, float[] out) {
                    float[] g = new float[layers.get(layer).gate().rows()];
                    ScalarReference.matvec(layers.get(layer).gate(), x, g);
                    for (float v : g) if (v <= threshold) counts[0]++;
                    counts[1] += g.length;
                    dense.forward(layer, x, out);
                }

                @Override
                public void close() {
                    dense.close();
                }
            };
        };
        try (LanguageModel m = ModelLoader.assemble(OpenedModelFile.open(f), new LoadOptions(2, 64, null), counting);
             Transformer t = m.newTransformer(64)) {
            assertEquals(threshold, m.config().activation().threshold());
            for (int pos = 0; pos < 24; pos++) t.forward((pos * 37 + 5) % 500, pos);
        }
        double sparsity = counts[0] / (double) counts[1];
        System.out.printf("target 0.9, threshold %.4f, measured sparsity %.4f over %d gate activations%n",
                threshold, sparsity, counts[1]);
        assertEquals(0.9, sparsity, 0.03, "measured over " + counts[1] + " gate activations");
    }
}
