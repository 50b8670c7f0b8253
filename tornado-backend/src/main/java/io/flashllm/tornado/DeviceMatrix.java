package io.flashllm.tornado;

import io.flashllm.kernels.Dequant;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.Int8Array;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.lang.foreign.ValueLayout;

/**
 * A weight matrix in the device's encoding: F16 and Q8_0 stay in their file encoding (dequantized
 * by the kernels as they read), F32 as floats; any other type (the k-quants, BF16) is expanded to
 * floats once at load, which costs memory but keeps one kernel per encoding. Uploaded once: the
 * arrays go to the device on the graph's first execution and stay there.
 *
 * <p>One matrix can hold the rows of several tensors, so one task computes them all: q, k and v
 * stacked (one product for the three), gate and up interleaved row by row (one group reads a
 * neuron's two rows and applies the activation).
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

    /** Bytes the weights take on the device. */
    long deviceBytes();

    /**
     * Adds the task {@code out = this . n(x) + bias} ({@code out +=} that when {@code accumulate}),
     * one work group per row, its shape to {@code groups}; {@code halfs} is the graph's
     * {@link Halfs#table()}. {@code n} is RMSNorm with weights {@code norm.weights} when
     * {@code norm.rms}, else the identity ({@code norm.weights} ones).
     */
    default void linear(TaskGraph graph, WorkGroups groups, String id, FloatArray halfs, FloatArray x, InputNorm norm,
                        FloatArray bias, FloatArray out, boolean accumulate) {
        linearTask(graph, id, groups.context(), halfs, x, norm, bias, out, accumulate ? 1 : 0);
        groups.launch(id, rows());
    }

    /**
     * Adds the task {@code out[r] = act(row 2r . n(x)) * (row 2r+1 . n(x) + upBias[r])} for a matrix
     * of interleaved gate and up rows ({@link #interleaved}); {@code n} as in {@link #linear},
     * {@code kind} and {@code threshold} as {@link VectorKernels#activation}.
     */
    default void gated(TaskGraph graph, WorkGroups groups, String id, FloatArray halfs, FloatArray x, InputNorm norm,
                       FloatArray upBias, FloatArray out, int kind, float threshold) {
        gatedTask(graph, id, groups.context(), halfs, x, norm, upBias, out, kind, threshold);
        groups.launch(id, rows() / 2);
    }

    void linearTask(TaskGraph graph, String id, KernelContext k, FloatArray halfs, FloatArray x, InputNorm norm,
                    FloatArray bias, FloatArray out, int accumulate);

    void gatedTask(TaskGraph graph, String id, KernelContext k, FloatArray halfs, FloatArray x, InputNorm norm,
                   FloatArray upBias, FloatArray out, int kind, float threshold);

    /**
     * What a product does to its input first: RMSNorm with these weights and epsilon ({@code rms}),
     * or nothing ({@code weights} all ones).
     */
    record InputNorm(FloatArray weights, float eps, boolean rms) {
        int flag() {
            return rms ? 1 : 0;
        }
    }

    record F32(FloatArray w, int rows, int cols) implements DeviceMatrix {
        @Override
        public Object[] arrays() {
            return new Object[] {w};
        }

        @Override
        public void linearTask(TaskGraph graph, String id, KernelContext k, FloatArray halfs, FloatArray x,
                               InputNorm n, FloatArray bias, FloatArray out, int accumulate) {
            graph.task(id, MatVecKernels::f32, k, w, x, n.weights(), n.eps(), n.flag(), bias, out, cols, accumulate);
        }

        @Override
        public void gatedTask(TaskGraph graph, String id, KernelContext k, FloatArray halfs, FloatArray x,
                              InputNorm n, FloatArray upBias, FloatArray out, int kind, float threshold) {
            graph.task(id, MatVecKernels::f32Gated, k, w, x, n.weights(), n.eps(), n.flag(), upBias, out, cols, kind,
                    threshold);
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
        public void linearTask(TaskGraph graph, String id, KernelContext k, FloatArray halfs, FloatArray x,
                               InputNorm n, FloatArray bias, FloatArray out, int accumulate) {
            graph.task(id, MatVecKernels::f16, k, w, halfs, x, n.weights(), n.eps(), n.flag(), bias, out, cols,
                    accumulate);
        }

        @Override
        public void gatedTask(TaskGraph graph, String id, KernelContext k, FloatArray halfs, FloatArray x,
                              InputNorm n, FloatArray upBias, FloatArray out, int kind, float threshold) {
            graph.task(id, MatVecKernels::f16Gated, k, w, halfs, x, n.weights(), n.eps(), n.flag(), upBias, out, cols,
                    kind, threshold);
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
        public void linearTask(TaskGraph graph, String id, KernelContext k, FloatArray halfs, FloatArray x,
                               InputNorm n, FloatArray bias, FloatArray out, int accumulate) {
            graph.task(id, MatVecKernels::q8, k, quants, scales, halfs, x, n.weights(), n.eps(), n.flag(), bias, out,
                    cols, accumulate);
        }

        @Override
        public void gatedTask(TaskGraph graph, String id, KernelContext k, FloatArray halfs, FloatArray x,
                              InputNorm n, FloatArray upBias, FloatArray out, int kind, float threshold) {
            graph.task(id, MatVecKernels::q8Gated, k, quants, scales, halfs, x, n.weights(), n.eps(), n.flag(), upBias,
                    out, cols, kind, threshold);
        }

        @Override
        public long deviceBytes() {
            return (long) rows * cols + 2L * rows * cols / MatVecKernels.Q8_BLOCK;
        }
    }

    /** The device copy of {@code t} (host side; it reaches the device with the graph's first execution). */
    static DeviceMatrix of(WeightTensor t) {
        return stacked(t);
    }

    /** The rows of {@code parts} one tensor after the other (q, k and v: one product for the three). */
    static DeviceMatrix stacked(WeightTensor... parts) {
        int rows = 0;
        for (WeightTensor p : parts) rows += p.rows();
        WeightTensor[] from = new WeightTensor[rows];
        int[] row = new int[rows];
        int r = 0;
        for (WeightTensor p : parts) {
            for (int i = 0; i < p.rows(); i++, r++) {
                from[r] = p;
                row[r] = i;
            }
        }
        return copy(from, row);
    }

    /** Rows {@code a[0], b[0], a[1], b[1], ...}: a neuron's gate and up rows side by side. */
    static DeviceMatrix interleaved(WeightTensor a, WeightTensor b) {
        if (a.rows() != b.rows()) {
            throw new IllegalArgumentException(a.name() + " has " + a.rows() + " rows, " + b.name() + " " + b.rows());
        }
        WeightTensor[] from = new WeightTensor[2 * a.rows()];
        int[] row = new int[from.length];
        for (int i = 0; i < a.rows(); i++) {
            from[2 * i] = a;
            from[2 * i + 1] = b;
            row[2 * i] = i;
            row[2 * i + 1] = i;
        }
        return copy(from, row);
    }

    /**
     * Row {@code i} of the result is row {@code row[i]} of {@code from[i]}: in the tensors' shared
     * encoding when that is F16, Q8_0 or F32, else dequantized to floats.
     */
    private static DeviceMatrix copy(WeightTensor[] from, int[] row) {
        int rows = from.length;
        int cols = from[0].cols();
        GgmlType type = from[0].type();
        for (WeightTensor t : from) {
            if (t.cols() != cols) {
                throw new IllegalArgumentException("tensor " + t.name() + " has " + t.cols() + " columns, expected "
                        + cols);
            }
            if (t.type() != type) type = null;
        }
        long elements = (long) rows * cols;
        if (elements > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tensor " + from[0].name() + " has " + elements
                    + " elements; device arrays are int-indexed");
        }
        if (type == GgmlType.F16) {
            ShortArray w = new ShortArray(rows * cols);
            for (int r = 0; r < rows; r++) {
                MemorySegment.copy(from[r].row(row[r]), 0, w.getSegment(), 2L * r * cols, 2L * cols);
            }
            return new F16(w, rows, cols);
        }
        if (type == GgmlType.F32) {
            FloatArray w = new FloatArray(rows * cols);
            for (int r = 0; r < rows; r++) {
                MemorySegment.copy(from[r].row(row[r]), 0, w.getSegment(), 4L * r * cols, 4L * cols);
            }
            return new F32(w, rows, cols);
        }
        if (type == GgmlType.Q8_0) {
            return q8(from, row, rows, cols);
        }
        return expanded(from, row, rows, cols);
    }

    /** Q8_0 blocks (a little-endian half scale, then 32 bytes) split into one array of quants and one of scales. */
    private static Q8 q8(WeightTensor[] from, int[] row, int rows, int cols) {
        int perRow = cols / MatVecKernels.Q8_BLOCK;
        Int8Array quants = new Int8Array(rows * cols);
        ShortArray scales = new ShortArray(rows * perRow);
        MemorySegment q = quants.getSegment();
        MemorySegment s = scales.getSegment();
        long blockBytes = GgmlType.Q8_0.bytesFor(MatVecKernels.Q8_BLOCK);
        ValueLayout.OfShort le = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < rows; r++) {
            MemorySegment src = from[r].row(row[r]);
            for (long b = 0; b < perRow; b++) {
                long at = b * blockBytes;
                long block = (long) r * perRow + b;
                s.set(ValueLayout.JAVA_SHORT_UNALIGNED, 2 * block, src.get(le, at));
                MemorySegment.copy(src, at + 2, q, block * MatVecKernels.Q8_BLOCK, MatVecKernels.Q8_BLOCK);
            }
        }
        return new Q8(quants, scales, rows, cols);
    }

    /** Any other encoding (or a mix): dequantized row by row by the CPU kernels into floats. */
    private static F32 expanded(WeightTensor[] from, int[] row, int rows, int cols) {
        FloatArray w = new FloatArray(rows * cols);
        float[] values = new float[cols];
        for (int r = 0; r < rows; r++) {
            Dequant.row(from[r], row[r], values, 0);
            MemorySegment.copy(values, 0, w.getSegment(), ValueLayout.JAVA_FLOAT, 4L * r * cols, cols);
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

    /** Several vectors one after the other, each zeros where its tensor is null (the biases of stacked rows). */
    static FloatArray vectors(WeightTensor[] parts, int[] lengths) {
        int n = 0;
        for (int len : lengths) n += len;
        FloatArray v = new FloatArray(n);
        int at = 0;
        for (int i = 0; i < parts.length; i++) {
            FloatArray one = vector(parts[i], lengths[i]);
            MemorySegment.copy(one.getSegment(), 0, v.getSegment(), 4L * at, 4L * lengths[i]);
            at += lengths[i];
        }
        return v;
    }
}
