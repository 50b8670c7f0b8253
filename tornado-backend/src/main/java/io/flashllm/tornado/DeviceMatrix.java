package io.flashllm.tornado;

import io.flashllm.kernels.Dequant;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.Int8Array;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A weight matrix in the device's encoding: F16 and Q8_0 stay in their file encoding (dequantized
 * by the kernels as they read), F32 as floats; any other type (the k-quants, BF16) is expanded to
 * floats once at load, which costs memory but keeps one matvec per encoding. Uploaded once: the
 * arrays go to the device on the graph's first execution and stay there.
 */
public sealed interface DeviceMatrix permits DeviceMatrix.F32, DeviceMatrix.F16, DeviceMatrix.Q8 {
    int rows();

    int cols();

    /** The device arrays holding the weights. */
    Object[] arrays();

    /** Declares the weights as first-execution inputs of {@code graph} (they stay resident afterwards). */
    default void upload(TaskGraph graph) {
        graph.transferToDevice(DataTransferMode.FIRST_EXECUTION, arrays());
    }

    /** Adds the task {@code out = this . x} to {@code graph}; {@code halfs} is the graph's {@link Halfs#table()}. */
    void matvec(TaskGraph graph, String id, FloatArray halfs, FloatArray x, FloatArray out);

    /** Bytes the weights take on the device. */
    long deviceBytes();

    record F32(FloatArray w, int rows, int cols) implements DeviceMatrix {
        @Override
        public Object[] arrays() {
            return new Object[] {w};
        }

        @Override
        public void matvec(TaskGraph graph, String id, FloatArray halfs, FloatArray x, FloatArray out) {
            graph.task(id, MatVecKernels::f32, w, x, out, rows, cols);
        }

        @Override
        public long deviceBytes() {
            return 4L * rows * cols;
        }
    }

    record F16(ShortArray w, int rows, int cols) implements DeviceMatrix {
        @Override
        public Object[] arrays() {
            return new Object[] {w};
        }

        @Override
        public void matvec(TaskGraph graph, String id, FloatArray halfs, FloatArray x, FloatArray out) {
            graph.task(id, MatVecKernels::f16, w, halfs, x, out, rows, cols);
        }

        @Override
        public long deviceBytes() {
            return 2L * rows * cols;
        }
    }

    record Q8(Int8Array quants, ShortArray scales, int rows, int cols) implements DeviceMatrix {
        @Override
        public Object[] arrays() {
            return new Object[] {quants, scales};
        }

        @Override
        public void matvec(TaskGraph graph, String id, FloatArray halfs, FloatArray x, FloatArray out) {
            graph.task(id, MatVecKernels::q8, quants, scales, halfs, x, out, rows, cols);
        }

        @Override
        public long deviceBytes() {
            return (long) rows * cols + 2L * rows * cols / MatVecKernels.Q8_BLOCK;
        }
    }

    /** The device copy of {@code t} (host side; it reaches the device with the graph's first execution). */
    static DeviceMatrix of(WeightTensor t) {
        int rows = t.rows();
        int cols = t.cols();
        long elements = (long) rows * cols;
        if (elements > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor " + t.name() + " has " + elements
                    + " elements; device arrays are int-indexed");
        }
        MemorySegment data = t.data();
        return switch (t.type()) {
            case F16 -> new F16(ShortArray.fromSegment(data.asSlice(0, 2 * elements)), rows, cols);
            case F32 -> new F32(FloatArray.fromSegment(data.asSlice(0, 4 * elements)), rows, cols);
            case Q8_0 -> q8(t, rows, cols);
            default -> expanded(t, rows, cols);
        };
    }

    /** Q8_0 blocks (a little-endian half scale, then 32 bytes) split into one array of quants and one of scales. */
    private static Q8 q8(WeightTensor t, int rows, int cols) {
        int blocks = rows * (cols / MatVecKernels.Q8_BLOCK);
        MemorySegment src = t.data();
        Int8Array quants = new Int8Array(blocks * MatVecKernels.Q8_BLOCK);
        ShortArray scales = new ShortArray(blocks);
        MemorySegment q = quants.getSegment();
        MemorySegment s = scales.getSegment();
        long blockBytes = GgmlType.Q8_0.bytesFor(MatVecKernels.Q8_BLOCK);
        for (long b = 0; b < blocks; b++) {
            long at = b * blockBytes;
            s.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * b, src.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(
                    java.nio.ByteOrder.LITTLE_ENDIAN), at));
            MemorySegment.copy(src, at + 2, q, b * MatVecKernels.Q8_BLOCK, MatVecKernels.Q8_BLOCK);
        }
        return new Q8(quants, scales, rows, cols);
    }

    /** Any other encoding: dequantized row by row by the CPU kernels into floats. */
    private static F32 expanded(WeightTensor t, int rows, int cols) {
        FloatArray w = new FloatArray(rows * cols);
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            Dequant.row(t, r, row, 0);
            MemorySegment.copy(row, 0, w.getSegment(), ValueLayout.JAVA_FLOAT, 4L * r * cols, cols);
        }
        return new F32(w, rows, cols);
    }

    /** A vector tensor (norm weight, bias) as floats; zeros when {@code t} is null. */
    static FloatArray vector(WeightTensor t, int n) {
        FloatArray v = new FloatArray(n);
        if (t == null) {
            v.init(0f);
            return v;
        }
        if (t.elements() != n) {
            throw new IllegalArgumentException("tensor " + t.name() + " has " + t.elements()
                    + " elements, expected " + n);
        }
        float[] row = Dequant.all(t);
        MemorySegment.copy(row, 0, v.getSegment(), ValueLayout.JAVA_FLOAT, 0, n);
        return v;
    }
}
