package io.flashllm.tornado;

import io.flashllm.flashstore.cache.NeuronCache;
import io.flashllm.flashstore.cache.RowMatrix;
import io.flashllm.flashstore.ffn.FfnActivation;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The paper's GPU variant of the sparse FFN, flash → DRAM → device: a device copy of one layer's
 * {@link NeuronCache} (gated FFN: gate rows, up rows, down columns) and the FFN over its rows.
 *
 * <p>Only rows whose neuron changed since the last token cross the bus. The mirror remembers which
 * neuron each device row holds; {@link #forward} compares that with the cache's rows
 * {@code 0..used} and stages the rows that differ (newly admitted neurons, and rows the cache
 * filled by moving its last row into an evicted slot), {@code stageRows} at a time; a scatter
 * kernel puts them in place. A row's bytes are a function of its neuron, so equal ids mean equal
 * contents: nothing else is re-sent. Rows must be loaded (reads complete) before the call.
 */
public final class DeviceNeuronCache implements AutoCloseable {
    private static final AtomicInteger GRAPHS = new AtomicInteger();

    private final int gateIndex;
    private final int upIndex;
    private final int downIndex;
    private final DeviceRows[] parts;
    private final int[] deviceIds;
    private final int stageRows;
    private final int dim;
    private final FloatArray x;
    private final FloatArray out;
    private final IntArray used = new IntArray(1);
    private final IntArray dest;
    private final IntArray count = new IntArray(1);
    private final TornadoExecutionPlan plan;
    private long rowsSent;

    /**
     * @param cache      the layer's cache, whose row shapes (and their order) the device copy follows
     * @param gateIndex  part index of the gate rows, {@code upIndex} of the up rows, {@code downIndex} of the down columns
     * @param activation a gated activation
     * @param stageRows  rows per upload round (the staging area's size)
     */
    public DeviceNeuronCache(NeuronCache cache, int gateIndex, int upIndex, int downIndex, FfnActivation activation,
                             int stageRows) {
        RuntimeFlags.apply();
        if (!activation.gated()) throw new IllegalArgumentException("a gated FFN is needed, not " + activation.kind());
        this.gateIndex = gateIndex;
        this.upIndex = upIndex;
        this.downIndex = downIndex;
        this.stageRows = stageRows;
        RowMatrix rows = cache.rows();
        int capacity = cache.capacity();
        this.parts = new DeviceRows[rows.partCount()];
        for (int p = 0; p < parts.length; p++) parts[p] = DeviceRows.of(rows.shapes().get(p), capacity, stageRows);
        this.deviceIds = new int[capacity];
        Arrays.fill(deviceIds, -1);
        int width = parts[gateIndex].width;
        this.dim = parts[downIndex].width;
        this.x = new FloatArray(width);
        this.out = new FloatArray(dim);
        this.dest = new IntArray(stageRows);
        FloatArray halfs = Halfs.table();
        FloatArray gate = new FloatArray(capacity);
        FloatArray up = new FloatArray(capacity);
        FloatArray h = new FloatArray(capacity);

        TaskGraph g = new TaskGraph("neurons" + GRAPHS.incrementAndGet());
        g.transferToDevice(DataTransferMode.EVERY_EXECUTION, x, used, dest, count);
        for (DeviceRows part : parts) g.transferToDevice(DataTransferMode.EVERY_EXECUTION, part.staging());
        g.transferToDevice(DataTransferMode.FIRST_EXECUTION, halfs, gate, up, h);
        for (DeviceRows part : parts) g.transferToDevice(DataTransferMode.FIRST_EXECUTION, part.resident());
        for (int p = 0; p < parts.length; p++) parts[p].scatter(g, "scatter" + p, dest, count);
        parts[gateIndex].dot(g, "gate", halfs, x, gate, used);
        parts[upIndex].dot(g, "up", halfs, x, up, used);
        // Rows past used[0] have gate = up = 0, so h = 0 there for every activation.
        g.task("act", VectorKernels::gated, gate, up, h, capacity, kind(activation), activation.threshold());
        parts[downIndex].combine(g, "down", halfs, h, out, used);
        g.transferToHost(DataTransferMode.EVERY_EXECUTION, out);
        this.plan = new TornadoExecutionPlan(g.snapshot());
    }

    /** Rows sent to the device since this mirror was made. */
    public long rowsSent() {
        return rowsSent;
    }

    /**
     * {@code out = sum over the cache's rows of act(gate·x) (up·x) down}: syncs the rows that
     * changed, then computes. Returns the rows sent for this call.
     */
    public int forward(NeuronCache cache, float[] input, float[] result) {
        MemorySegment.copy(input, 0, x.getSegment(), ValueLayout.JAVA_FLOAT, 0, input.length);
        int n = cache.used();
        int staged = 0;
        int sent = 0;
        for (int r = 0; r < n; r++) {
            int id = cache.idAt(r);
            if (deviceIds[r] == id) continue;
            for (int p = 0; p < parts.length; p++) parts[p].stage(staged, cache.rows().row(p, r));
            dest.set(staged++, r);
            deviceIds[r] = id;
            if (staged == stageRows) {
                // A full staging area: send it in a round that computes nothing (used = 0).
                run(0, staged);
                sent += staged;
                staged = 0;
            }
        }
        run(n, staged);
        sent += staged;
        rowsSent += sent;
        MemorySegment.copy(out.getSegment(), ValueLayout.JAVA_FLOAT, 0, result, 0, dim);
        return sent;
    }

    private void run(int usedRows, int staged) {
        used.set(0, usedRows);
        count.set(0, staged);
        plan.execute();
    }

    private static int kind(FfnActivation a) {
        return switch (a.kind()) {
            case GATED_SILU -> VectorKernels.SILU;
            case GATED_RELU -> VectorKernels.RELU;
            default -> VectorKernels.FATRELU;
        };
    }

    @Override
    public void close() {
        try {
            plan.freeDeviceMemory();
            plan.close();
        } catch (TornadoExecutionPlanException e) {
            throw new IllegalStateException("releasing the device neuron cache failed", e);
        }
    }
}
