package io.flashllm.tornado;

import io.flashllm.engine.model.Architecture;
import io.flashllm.engine.model.LayerWeights;
import io.flashllm.engine.model.ModelConfig;
import io.flashllm.engine.model.ModelWeights;
import io.flashllm.engine.model.RopeStyle;
import io.flashllm.flashstore.ffn.DenseFfnLayer;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.tornado.DeviceMatrix.InputNorm;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * A segment of the decode step as one TornadoVM task graph: layers {@code first..last} and,
 * for the last segment, the classifier, with their weights and KV cache resident on the device. Per
 * step the residual stream and the position go in and the stream (or the logits) comes out: a few
 * KiB. A whole model does not fit one graph (TornadoVM's task-graph code buffer holds ~150 tasks and
 * its graph 1,024 nodes, tasks and arguments together; sixteen 1.1B layers overflowed it), so
 * {@link TornadoForward} chains segments of {@link #LAYERS_PER_GRAPH} layers.
 *
 * <p>With {@code ffnOnDevice} false a segment is one layer's attention half: it ends with the FFN
 * input ({@link #ffnIn}, normalized) and the stream, and the host runs the FFN (a flash bundle's
 * neuron cache) and adds it to the stream before the next segment.
 *
 * <p>Llama family: RMSNorm, q/k/v (+ biases for Qwen2), RoPE, attention, o, RMSNorm, gated FFN.
 * OPT: LayerNorm before (or after) each block, biases throughout, an ungated ReLU FFN; its learned
 * position embedding is added on the host with the token's row.
 */
final class DecodeGraph {
    /** Layers per graph when the FFN runs on the device. */
    static final int LAYERS_PER_GRAPH = 4;

    private final ModelConfig c;
    private final ModelWeights w;
    private final int ctx;
    private final int first;
    private final int last;
    private final boolean ffnOnDevice;
    private final boolean classifier;
    private final TaskGraph g;
    private final WorkGroups groups;
    // Built in two passes: weights are collected while tasks are recorded, then declared as
    // first-execution transfers ahead of every task, as TornadoVM expects inputs before their readers.
    private final List<Object> resident = new ArrayList<>();
    private final List<Consumer<TaskGraph>> tasks = new ArrayList<>();
    private final Map<Integer, InputNorm> ones = new HashMap<>();
    private long deviceBytes;
    private int ids;

    // Per-step inputs and outputs: the stream in and out, the FFN input out (attention-only
    // segments), the logits out (the last segment).
    final FloatArray x;
    final IntArray pos;
    final FloatArray logits;
    FloatArray ffnIn;
    // Device-only state and scratch (uploaded zeroed once, never read back).
    private final FloatArray halfs = Halfs.table();
    private final FloatArray xb;
    private final FloatArray qkv;
    private final FloatArray att;
    private final FloatArray scores;
    private final FloatArray keys;
    private final FloatArray values;
    private final FloatArray hAct;
    private final FloatArray cos;
    private final FloatArray sin;

    private DecodeGraph(String name, ModelConfig c, ModelWeights w, int ctx, int first, int last, boolean ffnOnDevice,
                        boolean classifier) {
        this.c = c;
        this.w = w;
        this.ctx = ctx;
        this.first = first;
        this.last = last;
        this.ffnOnDevice = ffnOnDevice;
        this.classifier = classifier;
        this.g = new TaskGraph(name);
        this.groups = new WorkGroups(name);
        this.x = zeros(c.dim());
        this.pos = new IntArray(1);
        this.logits = zeros(classifier ? c.vocabSize() : 1);
        this.xb = zeros(c.dim());
        this.qkv = zeros(c.qDim() + 2 * c.kvDim());
        this.att = zeros(c.qDim());
        this.scores = zeros(c.heads() * ctx);
        long cache = (long) Math.max(1, last - first) * ctx * c.kvDim();
        if (cache > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a KV cache of " + cache + " floats per side exceeds a device array;"
                    + " lower --ctx");
        }
        this.keys = zeros((int) cache);
        this.values = zeros((int) cache);
        this.hAct = zeros(c.ffnDim());
        int half = c.rope().style() == RopeStyle.NONE || last == first ? 1 : c.rope().rotaryDim() / 2;
        this.cos = zeros(ctx * half);
        this.sin = zeros(ctx * half);
        if (c.rope().style() != RopeStyle.NONE && last > first) ropeTables(c.rope().inverseFrequencies(), half);
        deviceBytes = 4L * (2 * cache + c.heads() * ctx + c.ffnDim() + 2L * ctx * half);
    }

    /**
     * The segment of layers {@code first..last} (exclusive) of {@code c}/{@code w} with a KV cache of
     * {@code ctx} positions; {@code classifier}: the final norm and classifier follow. Attention-only
     * segments ({@code ffnOnDevice} false) hold one layer.
     */
    static DecodeGraph build(String name, ModelConfig c, ModelWeights w, int ctx, int first, int last,
                             boolean ffnOnDevice, boolean classifier) {
        if (!ffnOnDevice && last - first > 1) {
            throw new IllegalArgumentException("attention-only segments hold one layer");
        }
        DecodeGraph d = new DecodeGraph(name, c, w, ctx, first, last, ffnOnDevice, classifier);
        d.g.transferToDevice(DataTransferMode.EVERY_EXECUTION, d.x, d.pos);
        d.g.transferToDevice(DataTransferMode.FIRST_EXECUTION, d.halfs, d.xb, d.qkv, d.att, d.scores, d.keys, d.values,
                d.hAct, d.cos, d.sin, d.logits);
        if (c.architecture() == Architecture.OPT) {
            d.opt();
        } else {
            d.llama();
        }
        if (classifier) d.classifier();
        d.g.transferToDevice(DataTransferMode.FIRST_EXECUTION, d.resident.toArray());
        for (Consumer<TaskGraph> t : d.tasks) t.accept(d.g);
        if (classifier) {
            d.g.transferToHost(DataTransferMode.EVERY_EXECUTION, d.logits);
        } else if (ffnOnDevice) {
            d.g.transferToHost(DataTransferMode.EVERY_EXECUTION, d.x);
        } else if (d.ffnIn == d.x) {
            d.g.transferToHost(DataTransferMode.EVERY_EXECUTION, d.x);
        } else {
            d.g.transferToHost(DataTransferMode.EVERY_EXECUTION, d.x, d.ffnIn);
        }
        return d;
    }

    TaskGraph graph() {
        return g;
    }

    /** The launch shapes of the graph's work-group tasks. */
    WorkGroups groups() {
        return groups;
    }

    /** Bytes of weights, KV cache and scratch the graph keeps on the device. */
    long deviceBytes() {
        return deviceBytes;
    }

    // A task costs more to launch on a GPU than a decode step's rows take to compute, so a layer is
    // six: q|k|v (after RMSNorm), RoPE, attention (storing k and v), o (+ residual), gate|up (after
    // RMSNorm, + activation), down (+ residual).
    private void llama() {
        FfnActivation act = c.activation();
        for (int l = first; l < last; l++) {
            LayerWeights lw = w.layers().get(l);
            int layerBase = (l - first) * ctx * c.kvDim();

            qkv(lw, x, rms(lw.attnNorm()));
            rope();
            attention(layerBase);
            linear(lw.wo(), lw.bo(), att, none(c.qDim()), x, true);

            if (!ffnOnDevice) {
                rmsnorm(x, lw.ffnNorm(), xb);
                ffnIn = xb;
                return;
            }
            DenseFfnLayer f = w.ffn().get(l);
            DeviceMatrix gateUp = matrix(DeviceMatrix.interleaved(f.gate(), f.up()));
            InputNorm norm = rms(lw.ffnNorm());
            FloatArray upBias = vector(f.upBias(), c.ffnDim());
            String id = id("gateUp");
            later(gr -> gateUp.gated(gr, groups, id, halfs, x, norm, upBias, hAct, kind(act), act.threshold()));
            linear(f.down(), f.downBias(), hAct, none(c.ffnDim()), x, true);
        }
    }

    private void opt() {
        for (int l = first; l < last; l++) {
            LayerWeights lw = w.layers().get(l);
            int layerBase = (l - first) * ctx * c.kvDim();

            FloatArray in = x;
            if (c.preNorm()) {
                layernorm(x, lw.attnNorm(), lw.attnNormBias(), xb);
                in = xb;
            }
            qkv(lw, in, none(c.dim()));
            attention(layerBase);
            linear(lw.wo(), lw.bo(), att, none(c.qDim()), x, true);
            if (!c.preNorm()) layernorm(x, lw.attnNorm(), lw.attnNormBias(), x);

            in = x;
            if (c.preNorm()) {
                layernorm(x, lw.ffnNorm(), lw.ffnNormBias(), xb);
                in = xb;
            }
            if (!ffnOnDevice) {
                ffnIn = in;
                return;
            }
            DenseFfnLayer f = w.ffn().get(l);
            linear(f.up(), f.upBias(), in, none(c.dim()), hAct, false);
            later(id("relu"), (gr, id) -> gr.task(id, VectorKernels::relu, hAct, c.ffnDim()));
            linear(f.down(), f.downBias(), hAct, none(c.ffnDim()), x, true);
            if (!c.preNorm()) layernorm(x, lw.ffnNorm(), lw.ffnNormBias(), x);
        }
    }

    /** The final norm and the classifier, into {@link #logits}. */
    private void classifier() {
        if (c.architecture() != Architecture.OPT) {
            linear(w.output(), null, x, rms(w.outputNorm()), logits, false);
        } else if (w.outputNorm() != null) {
            layernorm(x, w.outputNorm(), w.outputNormBias(), xb);
            linear(w.output(), null, xb, none(c.dim()), logits, false);
        } else {
            linear(w.output(), null, x, none(c.dim()), logits, false);
        }
    }

    private void rmsnorm(FloatArray in, WeightTensor weight, FloatArray out) {
        FloatArray wv = vector(weight, c.dim());
        later(id("rms"), (gr, id) -> {
            gr.task(id, NormKernels::rmsnorm, groups.context(), in, wv, out, c.dim(), c.normEps());
            groups.launch(id, 1);
        });
    }

    private void layernorm(FloatArray in, WeightTensor weight, WeightTensor bias, FloatArray out) {
        FloatArray wv = vector(weight, c.dim());
        FloatArray bv = vector(bias, c.dim());
        later(id("ln"), (gr, id) -> {
            gr.task(id, NormKernels::layernorm, groups.context(), in, wv, bv, out, c.dim(), c.normEps());
            groups.launch(id, 1);
        });
    }

    /** {@code out = W norm(in) + bias}, or {@code out +=} that when {@code accumulate} (a residual add). */
    private void linear(WeightTensor weight, WeightTensor bias, FloatArray in, InputNorm norm, FloatArray out,
                        boolean accumulate) {
        DeviceMatrix m = matrix(DeviceMatrix.of(weight));
        FloatArray b = vector(bias, m.rows());
        String id = id("mv");
        later(gr -> m.linear(gr, groups, id, halfs, in, norm, b, out, accumulate));
    }

    /** RMSNorm with {@code weight} ahead of a product. */
    private InputNorm rms(WeightTensor weight) {
        return new InputNorm(vector(weight, c.dim()), c.normEps(), true);
    }

    /** No norm ahead of a product over {@code n} inputs (weights all ones, one array per length). */
    private InputNorm none(int n) {
        return ones.computeIfAbsent(n, len -> {
            FloatArray a = new FloatArray(len);
            a.init(1f);
            resident.add(a);
            deviceBytes += 4L * len;
            return new InputNorm(a, 0f, false);
        });
    }

    /** q, k and v (and their biases) as one product into {@link #qkv}. */
    private void qkv(LayerWeights lw, FloatArray in, InputNorm norm) {
        DeviceMatrix m = matrix(DeviceMatrix.stacked(lw.wq(), lw.wk(), lw.wv()));
        FloatArray b = DeviceMatrix.vectors(new WeightTensor[] {lw.bq(), lw.bk(), lw.bv()},
                new int[] {c.qDim(), c.kvDim(), c.kvDim()});
        resident.add(b);
        deviceBytes += 4L * m.rows();
        String id = id("qkv");
        later(gr -> m.linear(gr, groups, id, halfs, in, norm, b, qkv, false));
    }

    private DeviceMatrix matrix(DeviceMatrix m) {
        for (Object a : m.arrays()) resident.add(a);
        deviceBytes += m.deviceBytes();
        return m;
    }

    /** RoPE on q and k in one task: in {@link #qkv} k's heads follow q's, so they rotate as heads {@code heads..}. */
    private void rope() {
        if (c.rope().style() == RopeStyle.NONE) return;
        int half = c.rope().rotaryDim() / 2;
        int interleaved = c.rope().style() == RopeStyle.INTERLEAVED ? 1 : 0;
        int heads = c.heads() + c.kvHeads();
        later(id("rope"), (gr, id) -> gr.task(id, RopeKernels::applyRope, qkv, cos, sin, pos, heads * half, half,
                c.headDim(), interleaved));
    }

    private void attention(int layerBase) {
        float scale = (float) (1.0 / Math.sqrt(c.headDim()));
        later(id("attend"), (gr, id) -> {
            gr.task(id, AttentionKernels::attend, groups.context(), qkv, keys, values, scores, att, pos, layerBase,
                    c.groupSize(), c.headDim(), c.qDim(), c.kvDim(), ctx, c.slidingWindow(), scale);
            groups.launch(id, c.heads());
        });
    }

    /** cos/sin of every position and frequency in double, as the CPU's RoPE computes them. */
    private void ropeTables(float[] invFreq, int half) {
        for (int p = 0; p < ctx; p++) {
            for (int i = 0; i < half; i++) {
                double a = (double) p * invFreq[i];
                cos.set(p * half + i, (float) Math.cos(a));
                sin.set(p * half + i, (float) Math.sin(a));
            }
        }
    }

    private FloatArray vector(WeightTensor t, int n) {
        FloatArray a = DeviceMatrix.vector(t, n);
        resident.add(a);
        deviceBytes += 4L * n;
        return a;
    }

    private static int kind(FfnActivation a) {
        return switch (a.kind()) {
            case GATED_SILU -> VectorKernels.SILU;
            case GATED_RELU -> VectorKernels.RELU;
            case GATED_FATRELU -> VectorKernels.FATRELU;
            case RELU_NO_GATE -> throw new IllegalArgumentException("an ungated FFN in a Llama-family model");
            case GATED_GELU -> throw new IllegalArgumentException("GELU-gated FFNs (Gemma) have no device kernel");
            case GATED_SWIGLU_OAI -> throw new IllegalArgumentException("gpt-oss's clamped SwiGLU has no device kernel");
        };
    }

    /** Records a task under a fresh id, added to the graph after the transfers. */
    private void later(String id, BiConsumer<TaskGraph, String> task) {
        tasks.add(gr -> task.accept(gr, id));
    }

    private void later(Consumer<TaskGraph> task) {
        tasks.add(task);
    }

    private String id(String what) {
        return what + (ids++);
    }

    private static FloatArray zeros(int n) {
        FloatArray a = new FloatArray(n);
        a.init(0f);
        return a;
    }
}
