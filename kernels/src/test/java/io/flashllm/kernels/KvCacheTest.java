package io.flashllm.kernels;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class KvCacheTest {

    @Test
    void attendMatchesNaiveGroupedQueryAttention() {
        Random rnd = new Random(9);
        for (int headDim : new int[]{20, 64}) {
            int heads = 4, kvHeads = 2, layers = 2, maxLen = 40;
            try (KvCache cache = new KvCache(layers, maxLen, heads, kvHeads, headDim);
                 Parallel pool = Parallel.create(2)) {
                int kvDim = kvHeads * headDim;
                float[][][] k = new float[layers][maxLen][], v = new float[layers][maxLen][];
                for (int layer = 0; layer < layers; layer++) {
                    for (int pos = 0; pos < maxLen; pos++) {
                        k[layer][pos] = TestTensors.gaussian(kvDim, rnd);
                        v[layer][pos] = TestTensors.gaussian(kvDim, rnd);
                        cache.put(layer, pos, k[layer][pos], 0, v[layer][pos], 0);
                    }
                }
                float scale = (float) (1 / Math.sqrt(headDim));
                for (int layer = 0; layer < layers; layer++) {
                    for (int pos : new int[]{0, 1, 17, maxLen - 1}) {
                        float[] q = TestTensors.gaussian(2 + heads * headDim, rnd);
                        float[] out = new float[heads * headDim + 1];
                        cache.attend(pos % 2 == 0 ? pool : null, layer, pos, q, 2, scale, out, 1);
                        for (int h = 0; h < heads; h++) {
                            int kvh = h / (heads / kvHeads);
                            double[] s = new double[pos + 1];
                            double max = Double.NEGATIVE_INFINITY, sum = 0;
                            for (int t = 0; t <= pos; t++) {
                                double d = 0;
                                for (int i = 0; i < headDim; i++) d += q[2 + h * headDim + i] * k[layer][t][kvh * headDim + i];
                                s[t] = d * scale;
                                max = Math.max(max, s[t]);
                            }
                            for (int t = 0; t <= pos; t++) sum += s[t] = Math.exp(s[t] - max);
                            for (int i = 0; i < headDim; i++) {
                                double e = 0;
                                for (int t = 0; t <= pos; t++) e += s[t] / sum * v[layer][t][kvh * headDim + i];
                                assertEquals(e, out[1 + h * headDim + i], 1e-4, "head " + h + " dim " + i + " pos " + pos);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void rejectsBadShapesAndPositions() {
        assertThrows(IllegalArgumentException.class, () -> new KvCache(1, 8, 3, 2, 16));
        try (KvCache cache = new KvCache(1, 8, 2, 1, 16)) {
            assertThrows(IndexOutOfBoundsException.class, () -> cache.put(0, 8, new float[16], 0, new float[16], 0));
            assertThrows(IndexOutOfBoundsException.class, () -> cache.put(1, 0, new float[16], 0, new float[16], 0));
            assertThrows(IndexOutOfBoundsException.class,
                    () -> cache.attend(null, 0, 0, new float[31], 0, 1f, new float[32], 0));
            assertEquals(2L * 8 * 16 * 4, cache.byteSize());
        }
    }
}
