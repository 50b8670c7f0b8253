package io.flashllm.tornado;

import io.flashllm.flashstore.cache.LayerCounters;
import io.flashllm.flashstore.cache.NeuronCache;
import io.flashllm.flashstore.cache.RowShape;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.kernels.reference.ScalarReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.lang.foreign.Arena;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The sparse FFN over a device copy of a neuron cache, token after token while the window admits
 * and evicts neurons: results match a scalar reference over the cache's rows, and only rows whose
 * neuron changed cross the bus: admitted neurons, and rows the cache refilled by moving its last
 * row into an evicted slot; a token that reuses cached neurons sends only such moved rows.
 */
class DeviceNeuronCacheTest {
    static final int NEURONS = 96, DIM = 64, CAPACITY = 40;
    static final float TOLERANCE = 1e-4f;

    @ParameterizedTest
    @EnumSource(value = GgmlType.class, names = {"F16", "Q8_0"})
    void matchesTheReferenceAndSendsOnlyNewRows(GgmlType type) {
        Random rnd = new Random(type.ordinal());
        // Source matrices: row j of gate and up, and column j of down stored as row j.
        WeightTensor gate = RandomTensors.matrix(type, NEURONS, DIM, rnd);
        WeightTensor up = RandomTensors.matrix(type, NEURONS, DIM, rnd);
        WeightTensor down = RandomTensors.matrix(type, NEURONS, DIM, rnd);
        List<WeightTensor> source = List.of(gate, up, down);
        List<RowShape> shapes = List.of(new RowShape("gate", type, DIM), new RowShape("up", type, DIM),
                new RowShape("down", type, DIM));
        FfnActivation act = new FfnActivation(FfnActivation.Kind.GATED_RELU, 0f);
        try (Arena arena = Arena.ofConfined()) {
            NeuronCache cache = new NeuronCache(NEURONS, CAPACITY, shapes, 2, arena, new LayerCounters());
            try (DeviceNeuronCache device = new DeviceNeuronCache(cache, 0, 1, 2, act, 8)) {
                int[] previous = null;
                int[] held = new int[CAPACITY];  // neuron each device row holds, by the spec above
                java.util.Arrays.fill(held, -1);
                for (int token = 0; token < 8; token++) {
                    // Every third token reuses the previous token's neurons: nothing new to send.
                    int[] wanted = token % 3 == 2 ? previous : pick(rnd, 12 + token);
                    cache.beginToken();
                    int admitted = 0;
                    for (int j : wanted) {
                        if (cache.touch(j)) continue;
                        cache.makeRoom(1);
                        int row = cache.reserve(j);
                        assertTrue(row >= 0, "the test keeps within capacity");
                        for (int p = 0; p < 3; p++) cache.rows().load(p, row, source.get(p).row(j), 0);
                        admitted++;
                    }
                    float[] x = RandomTensors.vector(DIM, rnd);
                    float[] out = new float[DIM];
                    int changed = 0;
                    for (int r = 0; r < cache.used(); r++) {
                        if (held[r] != cache.idAt(r)) changed++;
                        held[r] = cache.idAt(r);
                    }
                    int sent = device.forward(cache, x, out);
                    assertEquals(changed, sent, "token " + token + ": rows whose neuron changed");
                    assertTrue(sent >= admitted, "every admitted neuron is sent");
                    if (token % 3 == 2) assertEquals(0, admitted, "token " + token + " reuses cached neurons");
                    if (token == 0) assertEquals(wanted.length, sent, "the first token sends what it admitted");

                    float err = RandomTensors.relativeError(floats(out), reference(cache, act, x));
                    assertTrue(err <= TOLERANCE, type + " token " + token + ": relative error " + err);
                    previous = wanted;
                }
                assertTrue(device.rowsSent() < 8L * CAPACITY, "rows sent " + device.rowsSent());
            }
        }
    }

    private static int[] pick(Random rnd, int n) {
        return rnd.ints(0, NEURONS).distinct().limit(n).sorted().toArray();
    }

    /** sum over cached rows r of act(gate_r·x) (up_r·x) down_r, in double from the cache's own rows. */
    private static float[] reference(NeuronCache cache, FfnActivation act, float[] x) {
        double[] acc = new double[DIM];
        for (int r = 0; r < cache.used(); r++) {
            float g = ScalarReference.dot(cache.rows().part(0), r, x, 0);
            float u = ScalarReference.dot(cache.rows().part(1), r, x, 0);
            double a = act.apply(g) * (double) u;
            float[] d = ScalarReference.dequantizeRow(cache.rows().part(2), r);
            for (int i = 0; i < DIM; i++) acc[i] += a * d[i];
        }
        float[] out = new float[DIM];
        for (int i = 0; i < DIM; i++) out[i] = (float) acc[i];
        return out;
    }

    private static uk.ac.manchester.tornado.api.types.arrays.FloatArray floats(float[] v) {
        return uk.ac.manchester.tornado.api.types.arrays.FloatArray.fromArray(v);
    }
}
