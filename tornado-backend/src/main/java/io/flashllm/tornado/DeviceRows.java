package io.flashllm.tornado;

import io.flashllm.flashstore.cache.RowShape;
import io.flashllm.kernels.GgmlType;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.Int8Array;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * One part (gate rows, up rows or down columns) of a device neuron cache: {@code capacity}
 * resident rows in the part's encoding plus a staging area of {@code stageRows} rows, the only
 * part that crosses the bus per token. F16 rows are half bit patterns; Q8_0 rows are split into
 * quants and per-block scales as {@link DeviceMatrix} does.
 */
abstract sealed class DeviceRows permits DeviceRows.F16, DeviceRows.Q8 {
    final int width;
    final int capacity;
    final int stageRows;

    DeviceRows(int width, int capacity, int stageRows) {
        this.width = width;
        this.capacity = capacity;
        this.stageRows = stageRows;
    }

    static DeviceRows of(RowShape shape, int capacity, int stageRows) {
        return switch (shape.type()) {
            case F16 -> new F16(shape.elements(), capacity, stageRows);
            case Q8_0 -> new Q8(shape.elements(), capacity, stageRows);
            default -> throw new IllegalArgumentException("neuron-cache rows of " + shape.type()
                    + " have no device kernel (F16 and Q8_0 do)");
        };
    }

    /** Copies one row's bytes (the cache's encoding) into staging slot {@code slot}. */
    abstract void stage(int slot, MemorySegment row);

    /** Arrays uploaded every execution (the staging area). */
    abstract Object[] staging();

    /** Arrays that live on the device (uploaded zeroed once). */
    abstract Object[] resident();

    /** Adds the task that copies {@code count[0]} staged rows to rows {@code dest[i]}. */
    abstract void scatter(TaskGraph g, String id, IntArray dest, IntArray count);

    /**
     * Adds {@code out[r] = row r . x} for rows below {@code used[0]} (gate and up parts), one work
     * group per row of the capacity, its shape to {@code groups}.
     */
    final void dot(TaskGraph g, WorkGroups groups, String id, FloatArray halfs, FloatArray x, FloatArray ones,
                   FloatArray out, IntArray used) {
        dotTask(g, id, groups.context(), halfs, x, ones, out, used);
        groups.launch(id, capacity);
    }

    abstract void dotTask(TaskGraph g, String id, KernelContext k, FloatArray halfs, FloatArray x, FloatArray ones,
                          FloatArray out, IntArray used);

    /** Adds {@code out[d] = sum_r h[r] row r [d]} over rows below {@code used[0]} (the down part). */
    abstract void combine(TaskGraph g, String id, FloatArray halfs, FloatArray h, FloatArray out, IntArray used);

    static final class F16 extends DeviceRows {
        final ShortArray rows;
        final ShortArray stage;

        F16(int width, int capacity, int stageRows) {
            super(width, capacity, stageRows);
            this.rows = new ShortArray(capacity * width);
            this.stage = new ShortArray(stageRows * width);
            rows.init((short) 0);
            stage.init((short) 0);
        }

        @Override
        void stage(int slot, MemorySegment row) {
            MemorySegment.copy(row, 0, stage.getSegment(), 2L * slot * width, 2L * width);
        }

        @Override
        Object[] staging() {
            return new Object[] {stage};
        }

        @Override
        Object[] resident() {
            return new Object[] {rows};
        }

        @Override
        void scatter(TaskGraph g, String id, IntArray dest, IntArray count) {
            g.task(id, NeuronRowKernels::scatterHalfs, stage, dest, count, rows, width, stageRows * width);
        }

        @Override
        void dotTask(TaskGraph g, String id, KernelContext k, FloatArray halfs, FloatArray x, FloatArray ones,
                     FloatArray out, IntArray used) {
            g.task(id, NeuronRowKernels::rowsF16, k, rows, halfs, x, ones, out, used, width);
        }

        @Override
        void combine(TaskGraph g, String id, FloatArray halfs, FloatArray h, FloatArray out, IntArray used) {
            g.task(id, NeuronRowKernels::downF16, rows, halfs, h, out, used, width);
        }
    }

    static final class Q8 extends DeviceRows {
        private static final ValueLayout.OfShort SHORT_LE =
                ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        final Int8Array quants;
        final ShortArray scales;
        final Int8Array stageQuants;
        final ShortArray stageScales;
        final int blocks;

        Q8(int width, int capacity, int stageRows) {
            super(width, capacity, stageRows);
            this.blocks = width / MatVecKernels.Q8_BLOCK;
            this.quants = new Int8Array(capacity * width);
            this.scales = new ShortArray(capacity * blocks);
            this.stageQuants = new Int8Array(stageRows * width);
            this.stageScales = new ShortArray(stageRows * blocks);
            quants.init((byte) 0);
            scales.init((short) 0);
            stageQuants.init((byte) 0);
            stageScales.init((short) 0);
        }

        @Override
        void stage(int slot, MemorySegment row) {
            long blockBytes = GgmlType.Q8_0.bytesFor(MatVecKernels.Q8_BLOCK);
            for (int b = 0; b < blocks; b++) {
                long at = b * blockBytes;
                stageScales.set(slot * blocks + b, row.get(SHORT_LE, at));
                MemorySegment.copy(row, at + 2, stageQuants.getSegment(),
                        (long) slot * width + (long) b * MatVecKernels.Q8_BLOCK, MatVecKernels.Q8_BLOCK);
            }
        }

        @Override
        Object[] staging() {
            return new Object[] {stageQuants, stageScales};
        }

        @Override
        Object[] resident() {
            return new Object[] {quants, scales};
        }

        @Override
        void scatter(TaskGraph g, String id, IntArray dest, IntArray count) {
            g.task(id + "q", NeuronRowKernels::scatterBytes, stageQuants, dest, count, quants, width,
                    stageRows * width);
            g.task(id + "s", NeuronRowKernels::scatterHalfs, stageScales, dest, count, scales, blocks,
                    stageRows * blocks);
        }

        @Override
        void dotTask(TaskGraph g, String id, KernelContext k, FloatArray halfs, FloatArray x, FloatArray ones,
                     FloatArray out, IntArray used) {
            g.task(id, NeuronRowKernels::rowsQ8, k, quants, scales, halfs, x, ones, out, used, width);
        }

        @Override
        void combine(TaskGraph g, String id, FloatArray halfs, FloatArray h, FloatArray out, IntArray used) {
            g.task(id, NeuronRowKernels::downQ8, quants, scales, halfs, h, out, used, width);
        }
    }
}
