package io.flashllm.flashstore.ffn;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.Parallel;
import io.flashllm.kernels.WeightTensor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The router and the weighted sum against a plain computation: softmax over the router's scores, the top-k
 * experts, each expert's SwiGLU, summed with the probabilities as they are (unnormalized, as Qwen3-MoE without
 * {@code norm_topk_prob} runs) or scaled to sum to one; a batch grouped by expert equals row by row.
 */
class MoeFeedForwardTest {
    static final int DIM = 16;
    static final int FFN = 8;
    static final int EXPERTS = 5;
    final Arena arena = Arena.ofShared(); // the experts may run on the pool's threads
    final Parallel parallel = Parallel.create(2);
    final Random random = new Random(7);

    @AfterEach
    void close() {
        parallel.close();
        arena.close();
    }

    WeightTensor matrix(String name, int rows, int cols, float[] values) {
        MemorySegment seg = arena.allocate((long) values.length * 4, 64);
        MemorySegment.copy(values, 0, seg, ValueLayout.JAVA_FLOAT, 0, values.length);
        return new WeightTensor(name, GgmlType.F32, new long[] {cols, rows}, seg);
    }

    float[] random(int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (random.nextFloat() * 2 - 1) * scale;
        return v;
    }

    record Model(MoeFeedForward ffn, float[][] router, float[][][] gate, float[][][] up, float[][][] down) {}

    Model model(ExpertRouting routing) {
        float[][] router = new float[EXPERTS][];
        float[][][] gate = new float[EXPERTS][FFN][], up = new float[EXPERTS][FFN][], down = new float[EXPERTS][DIM][];
        List<DenseFfnLayer> experts = new ArrayList<>();
        float[] r = random(EXPERTS * DIM, 1f);
        for (int e = 0; e < EXPERTS; e++) {
            router[e] = java.util.Arrays.copyOfRange(r, e * DIM, (e + 1) * DIM);
            float[] g = random(FFN * DIM, 0.5f), u = random(FFN * DIM, 0.5f), d = random(DIM * FFN, 0.5f);
            for (int i = 0; i < FFN; i++) {
                gate[e][i] = java.util.Arrays.copyOfRange(g, i * DIM, (i + 1) * DIM);
                up[e][i] = java.util.Arrays.copyOfRange(u, i * DIM, (i + 1) * DIM);
            }
            for (int i = 0; i < DIM; i++) down[e][i] = java.util.Arrays.copyOfRange(d, i * FFN, (i + 1) * FFN);
            experts.add(new DenseFfnLayer(matrix("g" + e, FFN, DIM, g), matrix("u" + e, FFN, DIM, u), null,
                    matrix("d" + e, DIM, FFN, d), null));
        }
        DenseFeedForward dense = new DenseFeedForward(new FfnActivation(FfnActivation.Kind.GATED_SILU, 0f), experts, parallel);
        return new Model(new MoeFeedForward(routing, List.of(matrix("router", EXPERTS, DIM, r)), dense, parallel),
                router, gate, up, down);
    }

    /** The plain mixture: every step in double, written from the definition. */
    static double[] expected(Model m, ExpertRouting routing, float[] x) {
        double[] p = new double[EXPERTS];
        double max = Double.NEGATIVE_INFINITY;
        for (int e = 0; e < EXPERTS; e++) max = Math.max(max, p[e] = dot(m.router()[e], x));
        double sum = 0;
        for (int e = 0; e < EXPERTS; e++) sum += p[e] = Math.exp(p[e] - max);
        boolean[] taken = new boolean[EXPERTS];
        int[] top = new int[routing.used()];
        double chosenSum = 0;
        for (int k = 0; k < top.length; k++) {
            int best = -1;
            for (int e = 0; e < EXPERTS; e++) if (!taken[e] && (best < 0 || p[e] > p[best])) best = e;
            taken[best] = true;
            top[k] = best;
            chosenSum += p[best] / sum;
        }
        double[] out = new double[DIM];
        for (int e : top) {
            double w = p[e] / sum / (routing.normalize() ? chosenSum : 1);
            double[] h = new double[FFN];
            for (int i = 0; i < FFN; i++) {
                double g = dot(m.gate()[e][i], x);
                h[i] = g / (1 + Math.exp(-g)) * dot(m.up()[e][i], x);
            }
            for (int o = 0; o < DIM; o++) {
                double d = 0;
                for (int i = 0; i < FFN; i++) d += m.down()[e][o][i] * h[i];
                out[o] += w * d;
            }
        }
        return out;
    }

    static double dot(float[] a, float[] x) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * x[i];
        return s;
    }

    @Test
    void weightedSumOfTheTopExpertsNormalizedOrNot() {
        for (ExpertRouting routing : new ExpertRouting[] {new ExpertRouting(EXPERTS, 2, false),
                new ExpertRouting(EXPERTS, 3, true), new ExpertRouting(EXPERTS, 1, false)}) {
            Model m = model(routing);
            for (int t = 0; t < 6; t++) {
                float[] x = random(DIM, 1f);
                float[] out = new float[DIM];
                m.ffn().forward(0, x, out);
                double[] want = expected(m, routing, x);
                for (int o = 0; o < DIM; o++) assertEquals(want[o], out[o], 1e-4, routing + " output " + o);
            }
        }
    }

    @Test
    void aBatchGroupedByExpertEqualsRowByRow() {
        Model m = model(new ExpertRouting(EXPERTS, 2, true));
        int batch = 7;
        float[] xs = random(batch * DIM, 1f);
        float[] out = new float[batch * DIM];
        m.ffn().forwardBatch(0, xs, batch, out);
        for (int b = 0; b < batch; b++) {
            float[] one = new float[DIM];
            m.ffn().forward(0, java.util.Arrays.copyOfRange(xs, b * DIM, (b + 1) * DIM), one);
            assertArrayEquals(one, java.util.Arrays.copyOfRange(out, b * DIM, (b + 1) * DIM), 1e-5f, "row " + b);
        }
    }

    /**
     * A batch's experts spread over two threads give the sums one thread gives running them one after another: each
     * expert's products are the same arithmetic on either thread, and the weighted outputs are added in the same
     * order. Not compared bit for bit: a kernel the JIT has not compiled yet reduces its vector lanes in another
     * order than the compiled one, and the two runs meet the JIT at different moments.
     */
    @Test
    void expertsRunAtOnceSumAsOneAfterAnother() {
        ExpertRouting routing = new ExpertRouting(EXPERTS, 2, true);
        Model m = model(routing);
        List<DenseFfnLayer> layers = new ArrayList<>();
        for (int e = 0; e < EXPERTS; e++) {
            layers.add(new DenseFfnLayer(matrix("g", FFN, DIM, flat(m.gate()[e])), matrix("u", FFN, DIM, flat(m.up()[e])), null,
                    matrix("d", DIM, FFN, flat(m.down()[e])), null));
        }
        try (Parallel one = Parallel.create(1)) {
            MoeFeedForward serial = new MoeFeedForward(routing, List.of(matrix("router", EXPERTS, DIM, flat(m.router()))),
                    new DenseFeedForward(new FfnActivation(FfnActivation.Kind.GATED_SILU, 0f), layers, one), one);
            for (int batch : new int[] {2, 7, 64}) {
                float[] xs = random(batch * DIM, 1f);
                float[] atOnce = new float[batch * DIM];
                float[] inTurn = new float[batch * DIM];
                m.ffn().forwardBatch(0, xs, batch, atOnce);
                serial.forwardBatch(0, xs, batch, inTurn);
                assertArrayEquals(inTurn, atOnce, 1e-6f, "batch " + batch);
            }
        }
    }

    static float[] flat(float[][] rows) {
        float[] v = new float[rows.length * rows[0].length];
        for (int i = 0; i < rows.length; i++) System.arraycopy(rows[i], 0, v, i * rows[0].length, rows[0].length);
        return v;
    }

    @Test
    void tiesGoToTheLowerExpert() {
        MoeFeedForward ffn = model(new ExpertRouting(EXPERTS, 2, false)).ffn();
        float[] scores = {0.5f, 2f, 0.5f, 2f, 1f};
        int[] chosen = new int[2];
        float[] w = new float[2];
        ffn.route(scores, 0, chosen, w, 0);
        assertArrayEquals(new int[] {1, 3}, chosen);
        assertEquals(w[0], w[1]);
    }

    @Test
    void absurdRoutingIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ExpertRouting(4, 5, true));
        assertThrows(IllegalArgumentException.class, () -> new ExpertRouting(4, 0, true));
        assertThrows(IllegalArgumentException.class, () -> new ExpertRouting(-1, 0, false));
        assertThrows(IllegalArgumentException.class, () -> new ExpertRouting(0, 2, false));
    }
}
