package io.flashllm.tornado;

import org.junit.jupiter.api.Test;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.KernelContext;
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

    private void run(int window, int ctx, int hd) throws TornadoExecutionPlanException {
        int heads = 4, kvHeads = 2, group = heads / kvHeads, kvDim = kvHeads * hd, layer = 1;
        int layerBase = layer * ctx * kvDim;
        float scale = (float) (1 / Math.sqrt(hd));
        Random rnd = new Random(window);
        int qDim = heads * hd;
        FloatArray qkv = new FloatArray(qDim + 2 * kvDim);
        FloatArray keys = new FloatArray(2 * ctx * kvDim), values = new FloatArray(2 * ctx * kvDim);
        FloatArray scores = new FloatArray(heads * ctx), out = new FloatArray(heads * hd);
        IntArray pos = new IntArray(1);
        keys.init(0f);
        values.init(0f);
        String name = "attention" + window + "_" + ctx;
        TaskGraph g = new TaskGraph(name)
                .transferToDevice(DataTransferMode.EVERY_EXECUTION, qkv, pos)
                .transferToDevice(DataTransferMode.FIRST_EXECUTION, keys, values, scores)
                .task("attend", AttentionKernels::attend, new KernelContext(), qkv, keys, values, scores, out, pos,
                        layerBase, group, hd, qDim, kvDim, ctx, window, scale)
                .transferToHost(DataTransferMode.EVERY_EXECUTION, out);
        ImmutableTaskGraph snapshot = g.snapshot();
        double[][] hostK = new double[ctx][kvDim], hostV = new double[ctx][kvDim];
        WorkGroups groups = new WorkGroups(name);
        groups.launch("attend", heads);
        try (TornadoExecutionPlan plan = groups.plan(snapshot)) {
            for (int p = 0; p < ctx; p++) {
                for (int i = 0; i < qDim; i++) qkv.set(i, rnd.nextFloat() * 2 - 1);
                for (int i = 0; i < kvDim; i++) {
                    qkv.set(qDim + i, rnd.nextFloat() * 2 - 1);
                    qkv.set(qDim + kvDim + i, rnd.nextFloat() * 2 - 1);
                    hostK[p][i] = qkv.get(qDim + i);
                    hostV[p][i] = qkv.get(qDim + kvDim + i);
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
                        for (int d = 0; d < hd; d++) s[t] += qkv.get(h * hd + d) * hostK[t][kv + d];
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
        run(0, 12, 8);
    }

    @Test
    void slidingWindowSeesTheLastPositionsOnly() throws TornadoExecutionPlanException {
        run(3, 12, 8);
    }

    /** More positions and head dimensions than a work group has items: each item takes several. */
    @Test
    void aLongContextAndWideHeadsSpreadOverTheGroup() throws TornadoExecutionPlanException {
        run(0, 300, 136);
        run(200, 300, 8);
    }
}
