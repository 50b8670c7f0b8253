package io.flashllm.tornado;

import org.junit.jupiter.api.Test;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Grouped-query attention over the device-resident KV cache, step by step: each execution stores
 * one position and attends over all so far, against a double-precision reference that keeps its
 * own copy of the keys and values. Only q, k, v and the position go in; the cache never comes back.
 */
class AttentionKernelsTest {
    static final float TOLERANCE = 1e-5f;

    private void run(int window) throws TornadoExecutionPlanException {
        int heads = 4, kvHeads = 2, group = heads / kvHeads, hd = 8, kvDim = kvHeads * hd, ctx = 12, layer = 1;
        int layerBase = layer * ctx * kvDim;
        float scale = (float) (1 / Math.sqrt(hd));
        Random rnd = new Random(window);
        FloatArray q = new FloatArray(heads * hd), k = new FloatArray(kvDim), v = new FloatArray(kvDim);
        FloatArray keys = new FloatArray(2 * ctx * kvDim), values = new FloatArray(2 * ctx * kvDim);
        FloatArray scores = new FloatArray(heads * ctx), out = new FloatArray(heads * hd);
        IntArray pos = new IntArray(1);
        keys.init(0f);
        values.init(0f);
        TaskGraph g = new TaskGraph("attention" + window)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, q, k, v, pos)
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, keys, values, scores)
                .task("store", AttentionKernels::store, k, v, keys, values, pos, layerBase, kvDim)
                .task("attend", AttentionKernels::attend, q, keys, values, scores, out, pos, layerBase, heads, group,
                        hd, kvDim, ctx, window, scale)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, out);
        ImmutableTaskGraph snapshot = g.snapshot();
        double[][] hostK = new double[ctx][kvDim], hostV = new double[ctx][kvDim];
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(snapshot)) {
            for (int p = 0; p < ctx; p++) {
                for (int i = 0; i < heads * hd; i++) q.set(i, rnd.nextFloat() * 2 - 1);
                for (int i = 0; i < kvDim; i++) {
                    k.set(i, rnd.nextFloat() * 2 - 1);
                    v.set(i, rnd.nextFloat() * 2 - 1);
                    hostK[p][i] = k.get(i);
                    hostV[p][i] = v.get(i);
                }
                pos.set(0, p);
                plan.execute();
                float[] expected = new float[heads * hd];
                for (int h = 0; h < heads; h++) {
                    int kv = (h / group) * hd;
                    int first = window > 0 ? Math.max(0, p - window + 1) : 0;
                    double[] s = new double[p + 1];
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int t = first; t <= p; t++) {
                        for (int d = 0; d < hd; d++) s[t] += q.get(h * hd + d) * hostK[t][kv + d];
                        s[t] *= scale;
                        max = Math.max(max, s[t]);
                    }
                    for (int t = first; t <= p; t++) sum += s[t] = Math.exp(s[t] - max);
                    for (int d = 0; d < hd; d++) {
                        double o = 0;
                        for (int t = first; t <= p; t++) o += s[t] / sum * hostV[t][kv + d];
                        expected[h * hd + d] = (float) o;
                    }
                }
                float err = RandomTensors.relativeError(out, expected);
                assertTrue(err <= TOLERANCE, "position " + p + " window " + window + ": relative error " + err);
            }
        }
    }

    @Test
    void attendsOverEveryCachedPosition() throws TornadoExecutionPlanException {
        run(0);
    }

    @Test
    void slidingWindowSeesTheLastPositionsOnly() throws TornadoExecutionPlanException {
        run(3);
    }
}
