package io.flashllm.flashstore.gguf;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class FusedTensorsTest {
    /** An F32 matrix of {@code rows} x {@code cols} whose element (r, c) is r * 1000 + c. */
    static WeightTensor matrix(String name, int rows, int cols) {
        float[] v = new float[rows * cols];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) v[r * cols + c] = r * 1000 + c;
        return new WeightTensor(name, GgmlType.F32, new long[] {cols, rows}, MemorySegment.ofArray(v));
    }

    static float at(WeightTensor t, int r, int c) {
        return t.row(r).getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, c);
    }

    @Test
    void splitsPhi3sFusedMatricesByTheirShapes() {
        Map<String, WeightTensor> file = new HashMap<>();
        file.put("blk.0.attn_qkv.weight", matrix("blk.0.attn_qkv.weight", 8 + 2 * 4, 8)); // q 8 rows, k and v 4
        file.put("blk.0.attn_output.weight", matrix("blk.0.attn_output.weight", 8, 8));
        file.put("blk.0.ffn_up.weight", matrix("blk.0.ffn_up.weight", 2 * 6, 8));          // gate 6 rows, up 6
        file.put("blk.0.ffn_down.weight", matrix("blk.0.ffn_down.weight", 8, 6));
        var tensors = FusedTensors.split(file::get);
        WeightTensor q = tensors.apply("blk.0.attn_q.weight"), k = tensors.apply("blk.0.attn_k.weight");
        WeightTensor v = tensors.apply("blk.0.attn_v.weight");
        assertEquals(8, q.rows());
        assertEquals(4, k.rows());
        assertEquals(4, v.rows());
        assertEquals(0 * 1000 + 3, at(q, 0, 3));
        assertEquals(8 * 1000 + 5, at(k, 0, 5), "k starts after q's rows");
        assertEquals(15 * 1000 + 7, at(v, 3, 7), "v's last row is the fused one's last");
        WeightTensor gate = tensors.apply("blk.0.ffn_gate.weight"), up = tensors.apply("blk.0.ffn_up.weight");
        assertEquals(6, gate.rows());
        assertEquals(6, up.rows());
        assertEquals(5 * 1000 + 1, at(gate, 5, 1), "the gate is the first half");
        assertEquals(6 * 1000 + 1, at(up, 0, 1), "up the second");
        assertSame(file.get("blk.0.ffn_down.weight"), tensors.apply("blk.0.ffn_down.weight"));
        assertNull(tensors.apply("blk.1.attn_q.weight"));

        // Separate matrices pass through as they are.
        Map<String, WeightTensor> plain = new HashMap<>();
        plain.put("blk.0.ffn_gate.weight", matrix("blk.0.ffn_gate.weight", 6, 8));
        plain.put("blk.0.ffn_up.weight", matrix("blk.0.ffn_up.weight", 6, 8));
        plain.put("blk.0.ffn_down.weight", matrix("blk.0.ffn_down.weight", 8, 6));
        var same = FusedTensors.split(plain::get);
        assertSame(plain.get("blk.0.ffn_up.weight"), same.apply("blk.0.ffn_up.weight"));
        assertSame(plain.get("blk.0.ffn_gate.weight"), same.apply("blk.0.ffn_gate.weight"));
    }
}
