package io.flashllm.tornado;

import io.flashllm.flashstore.cache.NeuronCache;
import io.flashllm.flashstore.cache.RowMatrix;
import io.flashllm.flashstore.cache.RowShape;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.kernels.MatVec;
import io.flashllm.kernels.WeightTensor;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The paper's GPU variant of the sparse FFN, flash → DRAM → device: a device copy of one layer's
 * {@link NeuronCache} (gated FFN: up rows, down columns, and gate rows unless the gates stay in
 * DRAM) and the FFN over its rows.
 *
 * <p>Only rows whose neuron changed since the last token cross the bus. The mirror remembers which
 * neuron each device row holds; {@link #forward} compares that with the cache's rows
 * {@code 0..used} and stages the rows that differ (newly admitted neurons, and rows the cache
 * filled by moving its last row into an evicted slot), {@code stageRows} at a time; a scatter
 * kernel puts them in place. A row's bytes are a function of its neuron, so equal ids mean equal
 * contents: nothing else is re-sent. Rows must be loaded (reads complete) before the call.
 *
 * <p>Without gate rows in the cache the host applies the gate: it knows the gate pre-activations
 * (the selector computed them from the DRAM gates) or computes them per cached row, and sends one
 * coefficient per row with the up bias; the device does the up products and the down combination.
 */
public final class DeviceNeuronCache implements AutoCloseable {
    private static final AtomicInteger GRAPHS = new AtomicInteger();

    private final FfnActivation activation;
    private final int upIndex;
    private final int downIndex;
    private final DeviceRows[] parts;
    private final int[] deviceIds;
    private final int stageRows;
    private final int dim;
    private final boolean hostGate;
    private final FloatArray x;
    private final FloatArray coef;
    private final FloatArray bias;
    private final FloatArray out;
    private final IntArray used = new IntArray(1);
    private final IntArray dest;
    private final IntArray count = new IntArray(1);
    private final TornadoExecutionPlan plan;
    private long rowsSent;

    /**
     * @param cache      the layer's cache, whose row shapes (and their order) the device copy follows
     * @param gateIndex  part index of the gate rows, or -1 when the gates stay in DRAM; {@code upIndex}
     *                   of the up rows, {@code downIndex} of the down columns
     * @param activation a gated activation
     * @param stageRows  rows per upload round (the staging area's size)
     */
    public DeviceNeuronCache(NeuronCache cache, int gateIndex, int upIndex, int downIndex, FfnActivation activation,
                             int stageRows) {
        RuntimeFlags.apply();
        if (!activation.gated()) throw new IllegalArgumentException("a gated FFN is needed, not " + activation.kind());
        this.activation = activation;
        this.upIndex = upIndex;
        this.downIndex = downIndex;
        this.stageRows = stageRows;
        this.hostGate = gateIndex < 0;
        RowMatrix rows = cache.rows();
        int capacity = cache.capacity();
        this.parts = new DeviceRows[rows.partCount()];
        for (int p = 0; p < parts.length; p++) parts[p] = DeviceRows.of(rows.shapes().get(p), capacity, stageRows);
        this.deviceIds = new int[capacity];
        Arrays.fill(deviceIds, -1);
        this.dim = parts[downIndex].width;
        this.x = new FloatArray(parts[upIndex].width);
        this.coef = new FloatArray(capacity);
        this.bias = new FloatArray(capacity);
        this.out = new FloatArray(dim);
        this.dest = new IntArray(stageRows);
        coef.init(0f);
        bias.init(0f);
        FloatArray halfs = Halfs.table();
        FloatArray gate = new FloatArray(capacity);
        FloatArray up = new FloatArray(capacity);
        FloatArray h = new FloatArray(capacity);
        FloatArray ones = new FloatArray(x.getSize());
        ones.init(1f);

        String name = "neurons" + GRAPHS.incrementAndGet();
        TaskGraph g = new TaskGraph(name);
        WorkGroups groups = new WorkGroups(name);
        g.transferToDevice(DataTransferMode.EVERY_EXECUTION, x, used, dest, count, coef, bias);
        for (DeviceRows part : parts) g.transferToDevice(DataTransferMode.EVERY_EXECUTION, part.staging());
        g.transferToDevice(DataTransferMode.FIRST_EXECUTION, halfs, ones, gate, up, h);
        for (DeviceRows part : parts) g.transferToDevice(DataTransferMode.FIRST_EXECUTION, part.resident());
        for (int p = 0; p < parts.length; p++) parts[p].scatter(g, "scatter" + p, dest, count);
        parts[upIndex].dot(g, groups, "up", halfs, x, ones, up, used);
        // Rows past used[0] have up = 0 (and gate = 0, coefficient 0), so h = 0 there.
        if (hostGate) {
            g.task("act", VectorKernels::scaledBias, coef, up, bias, h, capacity);
        } else {
            parts[gateIndex].dot(g, groups, "gate", halfs, x, ones, gate, used);
            g.task("act", VectorKernels::gatedBias, gate, up, bias, h, capacity, kind(activation),
                    activation.threshold());
        }
        parts[downIndex].combine(g, "down", halfs, h, out, used);
        g.transferToHost(DataTransferMode.EVERY_EXECUTION, out);
        this.plan = groups.plan(g.snapshot());
    }

    /**
     * The device copy of a bundle layer's cache, its parts found by their names ("gate", "up",
     * "down": the bundle's part names); throws when a part's encoding has no device kernel.
     */
    static DeviceNeuronCache forBundle(NeuronCache cache, FfnActivation activation, int stageRows) {
        List<String> names = cache.rows().shapes().stream().map(RowShape::name).toList();
        return new DeviceNeuronCache(cache, names.indexOf("gate"), names.indexOf("up"), names.indexOf("down"),
                activation, stageRows);
    }

    /** Rows sent to the device since this mirror was made. */
    public long rowsSent() {
        return rowsSent;
    }

    /** The FFN with the gates in the cache and no bias; see the full {@code forward}. */
    public int forward(NeuronCache cache, float[] input, float[] result) {
        return forward(cache, null, null, null, input, result);
    }

    /**
     * {@code result = sum over the cache's rows of act(gate·x) (up·x + upBias) down}: syncs the
     * rows that changed, then computes. Returns the rows sent for this call.
     *
     * @param gatePre      gate pre-activations by neuron, or null (host gate: computed from residentGate)
     * @param residentGate the DRAM gate matrix when the cache has no gate rows
     * @param upBias       up bias by neuron, or null
     */
    public int forward(NeuronCache cache, float[] gatePre, WeightTensor residentGate, float[] upBias, float[] input,
                       float[] result) {
        MemorySegment.copy(input, 0, x.getSegment(), ValueLayout.JAVA_FLOAT, 0, input.length);
        int n = cache.used();
        for (int r = 0; r < n; r++) {
            int id = cache.idAt(r);
            bias.set(r, upBias == null ? 0f : upBias[id]);
            if (hostGate) {
                float pre = gatePre != null ? gatePre[id] : MatVec.dot(residentGate, id, input, 0);
                coef.set(r, activation.apply(pre));
            }
        }
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
            case GATED_GELU -> throw new IllegalArgumentException("GELU-gated FFNs (Gemma) have no device kernel");
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
