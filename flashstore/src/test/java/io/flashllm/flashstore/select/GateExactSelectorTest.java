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
}
