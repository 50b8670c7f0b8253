package io.flashllm.flashstore.select;

import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class GateExactSelectorTest {
    /** Choosing in ranges, in order, ends with what choosing all at once gives, also with more ranges than neurons. */
    @Test
    void chunksTogetherEqualTheWholeSelection() {
        int rows = 10, cols = 32;
        try (Arena arena = Arena.ofConfined()) {
            Random rnd = new Random(7);
            MemorySegment data = arena.allocate((long) rows * cols * 4, 64);
            for (int i = 0; i < rows * cols; i++) data.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextGaussian());
            WeightTensor gate = new WeightTensor("gate", GgmlType.F32, new long[]{cols, rows}, data);
            GateExactSelector s = new GateExactSelector(List.of(gate, gate),
                    new FfnActivation(FfnActivation.Kind.GATED_RELU, 0.1f));
            float[] x = new float[cols];
            for (int i = 0; i < cols; i++) x[i] = (float) rnd.nextGaussian();
            Selection whole = new Selection(rows);
            s.select(1, x, whole);
            assertTrue(whole.count() > 0 && whole.count() < rows, "some neurons fire, some do not: " + whole.count());
            for (int chunks : new int[] {1, 3, 10, 16}) {
                Selection part = new Selection(rows);
                for (int c = 0; c < chunks; c++) s.selectChunk(1, x, c, chunks, part);
                assertTrue(part.gateKnown());
                assertArrayEquals(Arrays.copyOf(whole.neurons(), whole.count()), Arrays.copyOf(part.neurons(), part.count()),
                        chunks + " chunks");
                for (int j = 0; j < rows; j++) assertEquals(whole.gatePre()[j], part.gatePre()[j], 1e-5f, "gate of " + j);
            }
        }
    }

    /**
     * A batch's selections, from one matrix product, are each row's own: the gate values within rounding
     * of the row's product, the firing neurons the same wherever a value is not within rounding of the
     * threshold; the rows come in order and the default (row by row) agrees too.
     */
    @Test
    void aBatchSelectsEachRowAsItsOwnProductDoes() {
        int rows = 256, cols = 64, batch = 37;
        float threshold = 0.1f;
        try (Arena arena = Arena.ofConfined()) {
            Random rnd = new Random(5);
            MemorySegment data = arena.allocate((long) rows * cols * 4, 64);
            for (int i = 0; i < rows * cols; i++) data.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextGaussian());
            WeightTensor gate = new WeightTensor("gate", GgmlType.F32, new long[]{cols, rows}, data);
            FfnActivation act = new FfnActivation(FfnActivation.Kind.GATED_RELU, threshold);
            GateExactSelector s = new GateExactSelector(List.of(gate), act);
            NeuronSelector rowByRow = new NeuronSelector() {
                @Override public String name() { return "row-by-row"; }
                @Override public void select(int layer, float[] x, Selection out) { s.select(layer, x, out); }
                @Override public boolean needsResidentGate() { return true; }
            };
            float[] x = new float[batch * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            for (NeuronSelector sel : new NeuronSelector[] {s, rowByRow}) {
                List<Integer> seen = new java.util.ArrayList<>();
                float[][] gateRows = new float[batch][rows];
                sel.selectBatch(0, x, batch, new float[cols], gateRows, new Selection(rows), (b, got) -> {
                    seen.add(b);
                    Selection own = new Selection(rows);
                    s.select(0, Arrays.copyOfRange(x, b * cols, (b + 1) * cols), own);
                    assertTrue(got.gateKnown());
                    for (int j = 0; j < rows; j++) {
                        assertEquals(own.gatePre()[j], got.gatePre()[j], 1e-4f, sel.name() + " row " + b + " gate " + j);
                        boolean ownFires = Arrays.binarySearch(own.neurons(), 0, own.count(), j) >= 0;
                        boolean gotFires = Arrays.binarySearch(got.neurons(), 0, got.count(), j) >= 0;
                        if (Math.abs(own.gatePre()[j] - threshold) > 1e-4f) assertEquals(ownFires, gotFires, sel.name() + " row " + b + " neuron " + j);
                    }
                });
                assertEquals(batch, seen.size());
                for (int b = 0; b < batch; b++) assertEquals(b, seen.get(b));
            }
        }
    }

    /**
     * The guess at layer 1 is layer 1's gate times layer 0's FFN input re-scaled by the two layers'
     * norm weights (a zero weight in layer 0 drops that input), with the neurons it says fire; no
     * guess without norms or for layer 0.
     */
    @Test
    void prefetchHintIsTheNextGateOnTheRescaledInput() {
        int rows = 12, cols = 32;
        try (Arena arena = Arena.ofConfined()) {
            Random rnd = new Random(11);
            List<WeightTensor> gates = new java.util.ArrayList<>();
            for (int l = 0; l < 2; l++) {
                MemorySegment data = arena.allocate((long) rows * cols * 4, 64);
                for (int i = 0; i < rows * cols; i++) data.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextGaussian());
                gates.add(new WeightTensor("gate" + l, GgmlType.F32, new long[]{cols, rows}, data));
            }
            float[] n0 = new float[cols], n1 = new float[cols], x = new float[cols];
            for (int i = 0; i < cols; i++) {
                n0[i] = 0.5f + rnd.nextFloat();
                n1[i] = 0.5f + rnd.nextFloat();
                x[i] = (float) rnd.nextGaussian();
            }
            n0[3] = 0f;
            FfnActivation act = new FfnActivation(FfnActivation.Kind.GATED_RELU, 0.1f);
            GateExactSelector s = new GateExactSelector(gates, act, null, List.of(n0, n1));
            Selection hint = new Selection(rows);
            assertFalse(s.prefetchHint(0, x, hint), "nothing comes before layer 0");
            assertTrue(s.prefetchHint(1, x, hint));
            assertTrue(hint.gateKnown());
            List<Integer> firing = new java.util.ArrayList<>();
            for (int j = 0; j < rows; j++) {
                double want = 0;
                for (int i = 0; i < cols; i++) {
                    float in = i == 3 ? 0f : x[i] * (n1[i] / n0[i]);
                    want += gates.get(1).data().getAtIndex(ValueLayout.JAVA_FLOAT, (long) j * cols + i) * in;
                }
                assertEquals(want, hint.gatePre()[j], 1e-4, "guess of neuron " + j);
                if (act.apply((float) want) != 0f) firing.add(j);
            }
            assertFalse(firing.isEmpty());
            assertEquals(firing, Arrays.stream(Arrays.copyOf(hint.neurons(), hint.count())).boxed().toList());
            assertFalse(new GateExactSelector(gates, act).prefetchHint(1, x, new Selection(rows)), "no norms, no guess");
        }
    }
}
