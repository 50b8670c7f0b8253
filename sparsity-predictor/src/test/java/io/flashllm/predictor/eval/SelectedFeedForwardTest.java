package io.flashllm.predictor.eval;

import io.flashllm.flashstore.ffn.DenseFeedForward;
import io.flashllm.flashstore.ffn.DenseFfnLayer;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.flashstore.select.GateExactSelector;
import io.flashllm.flashstore.select.NeuronSelector;
import io.flashllm.flashstore.select.Selection;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.Parallel;
import io.flashllm.kernels.WeightTensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SelectedFeedForwardTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final int DIM = 24;
    static final int N = 40;

    static WeightTensor tensor(Arena a, String name, float[] v, long... shape) {
        MemorySegment s = a.allocate(4L * v.length);
        for (int i = 0; i < v.length; i++) s.set(F32, 4L * i, v[i]);
        return new WeightTensor(name, GgmlType.F32, shape, s);
    }

    static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian() * 0.5f;
        return v;
    }

    @Test
    void exactSelectionReproducesTheDenseFfnAndAPartialOneDropsExactlyTheMissedNeurons() {
        Random r = new Random(41);
        try (Arena a = Arena.ofConfined(); Parallel p = Parallel.create(2)) {
            float[] g = gaussian(r, N * DIM);
            float[] u = gaussian(r, N * DIM);
            float[] d = gaussian(r, DIM * N);
            WeightTensor gate = tensor(a, "gate", g, DIM, N);
            DenseFfnLayer layer = new DenseFfnLayer(gate, tensor(a, "up", u, DIM, N), null, tensor(a, "down", d, N, DIM), null);
            FfnActivation act = new FfnActivation(FfnActivation.Kind.GATED_RELU, 0);
            DenseFeedForward dense = new DenseFeedForward(act, List.of(layer), p);
            SelectedFeedForward exact = new SelectedFeedForward(act, List.of(layer), new GateExactSelector(List.of(gate), act), p);
            NeuronSelector evenOnly = new NeuronSelector() {
                @Override
                public String name() {
                    return "even";
                }

                @Override
                public void select(int l, float[] x, Selection out) {
                    for (int j = 0; j < N; j += 2) out.add(j);
                }

                @Override
                public boolean needsResidentGate() {
                    return false;
                }
            };
            SelectedFeedForward even = new SelectedFeedForward(act, List.of(layer), evenOnly, p);
            float[] x = gaussian(r, DIM);
            float[] want = new float[DIM];
            float[] got = new float[DIM];
            dense.forward(0, x, want);
            exact.forward(0, x, got);
            for (int i = 0; i < DIM; i++) assertEquals(want[i], got[i], 1e-4f);
            even.forward(0, x, got);
            for (int i = 0; i < DIM; i++) {
                double ref = 0;
                for (int j = 0; j < N; j += 2) {
                    double gs = 0;
                    double us = 0;
                    for (int c = 0; c < DIM; c++) {
                        gs += g[j * DIM + c] * x[c];
                        us += u[j * DIM + c] * x[c];
                    }
                    ref += Math.max(0, gs) * us * d[i * N + j];
                }
                assertEquals(ref, got[i], 1e-4);
            }
        }
    }
}
