package io.flashllm.engine.model;

import io.flashllm.flashstore.ModelFileException;
import io.flashllm.flashstore.ffn.DenseFfnLayer;
import io.flashllm.flashstore.gguf.FusedTensors;
import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import io.flashllm.kernels.reference.ScalarReference;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Looks up every tensor a {@link ModelConfig} needs, checks its shape, and resolves what is implied
 * by absence: no output matrix means tied embeddings, no bias means none. A missing or misshapen
 * tensor is a {@link ModelFileException} naming it.
 */
public final class WeightLoader {
    private final ModelConfig config;
    private final TensorSource source;
    private final TensorNames names;
    private final boolean ffnWeights;
    private final Set<WeightTensor> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    private long parameters;

    private WeightLoader(ModelConfig config, TensorSource source, TensorNames names, boolean ffnWeights) {
        this.config = config;
        this.source = source;
        this.names = names;
        this.ffnWeights = ffnWeights;
    }

    /** The weights, and the config completed from them (vocabulary size, Llama 3 rope factors). */
    public record Loaded(ModelConfig config, ModelWeights weights) {}

    public static Loaded load(ModelConfig config, TensorSource source, TensorNames names) {
        return load(config, source, names, true);
    }

    /**
     * With {@code ffnWeights} false the FFN matrices are not looked up (a flash bundle serves them) and
     * {@link ModelWeights#ffn()} is empty.
     */
    public static Loaded load(ModelConfig config, TensorSource source, TensorNames names, boolean ffnWeights) {
        return new WeightLoader(config, source, names, ffnWeights).load();
    }

    private Loaded load() {
        ModelConfig c = config;
        int dim = c.dim();
        boolean opt = c.architecture() == Architecture.OPT;

        WeightTensor embedding = require(TensorRole.TOKEN_EMBEDDING, 0);
        int vocab = embedding.rows();
        expect(embedding, vocab, c.wordEmbedDim());
        if (c.vocabSize() != 0 && c.vocabSize() != vocab) {
            throw fault("the config says vocabulary " + c.vocabSize() + " but " + embedding.name() + " has "
                    + vocab + " rows");
        }
        c = c.withVocabSize(vocab);

        WeightTensor positions = null;
        if (opt) {
            positions = require(TensorRole.POSITION_EMBEDDING, 0);
            if (positions.cols() != dim || positions.rows() < c.positionOffset() + 1) {
                throw fault(positions.name() + " has " + positions.rows() + " rows of " + positions.cols()
                        + ", expected at least " + (c.positionOffset() + 1) + " rows of " + dim);
            }
            int usable = positions.rows() - c.positionOffset();
            if (usable < c.contextLength()) c = c.withContextLength(usable);
        }
        WeightTensor projectIn = null;
        WeightTensor projectOut = null;
        if (c.wordEmbedDim() != dim) {
            projectIn = expect(require(TensorRole.PROJECT_IN, 0), dim, c.wordEmbedDim());
            projectOut = expect(require(TensorRole.PROJECT_OUT, 0), c.wordEmbedDim(), dim);
        }
        // Post-norm OPT (350m) has no final norm; every pre-norm model does.
        WeightTensor outputNorm = opt && !c.preNorm() ? optional(TensorRole.OUTPUT_NORM, 0) : require(TensorRole.OUTPUT_NORM, 0);
        if (outputNorm != null) expectVector(outputNorm, dim);
        WeightTensor outputNormBias = vector(TensorRole.OUTPUT_NORM_BIAS, 0, dim);
        WeightTensor output = optional(TensorRole.OUTPUT, 0);
        if (output == null) {
            output = embedding;
        } else {
            expect(output, vocab, c.wordEmbedDim());
        }

        if (c.rope().style() != RopeStyle.NONE) {
            WeightTensor freqs = optional(TensorRole.ROPE_FREQS, 0);
            if (c.rope().originalContext() > 0) {
                // LongRoPE (Phi-3): the long factors for a context past the original one, else the short ones,
                // as llama.cpp chooses them by the context it runs.
                WeightTensor longF = optional(TensorRole.ROPE_FACTORS_LONG, 0);
                WeightTensor shortF = optional(TensorRole.ROPE_FACTORS_SHORT, 0);
                WeightTensor chosen = c.contextLength() > c.rope().originalContext() ? longF : shortF;
                if (chosen != null) freqs = chosen;
            }
            if (freqs != null) {
                expectVector(freqs, c.rope().rotaryDim() / 2);
                if (freqs.type() != GgmlType.F32 && freqs.type() != GgmlType.F16) {
                    throw fault(freqs.name() + " should be F32 or F16, is " + freqs.type());
                }
                float[] factors = new float[c.rope().rotaryDim() / 2];
                ScalarReference.dequantize(freqs.type(), freqs.data(), 0, factors, 0, factors.length);
                c = c.withRope(c.rope().withFreqFactors(factors));
            }
        }

        boolean gemma = c.architecture() == Architecture.GEMMA3 || c.architecture() == Architecture.GEMMA2;
        boolean qkNorm = c.architecture() == Architecture.QWEN3 || c.architecture() == Architecture.GEMMA3;
        List<LayerWeights> layers = new ArrayList<>(c.layers());
        List<DenseFfnLayer> ffn = new ArrayList<>(c.layers());
        List<WeightTensor> routers = new ArrayList<>();
        List<WeightTensor> routerBiases = new ArrayList<>();
        boolean gptOss = c.architecture() == Architecture.GPT_OSS;
        for (int l = 0; l < c.layers(); l++) {
            layers.add(new LayerWeights(
                    vector(TensorRole.ATTN_NORM, l, dim, true), vector(TensorRole.ATTN_NORM_BIAS, l, dim),
                    matrix(TensorRole.ATTN_Q, l, c.qDim(), dim), vector(TensorRole.ATTN_Q_BIAS, l, c.qDim()),
                    matrix(TensorRole.ATTN_K, l, c.kvDim(), dim), vector(TensorRole.ATTN_K_BIAS, l, c.kvDim()),
                    matrix(TensorRole.ATTN_V, l, c.kvDim(), dim), vector(TensorRole.ATTN_V_BIAS, l, c.kvDim()),
                    matrix(TensorRole.ATTN_OUTPUT, l, dim, c.qDim()), vector(TensorRole.ATTN_OUTPUT_BIAS, l, dim),
                    vector(TensorRole.FFN_NORM, l, dim, true), vector(TensorRole.FFN_NORM_BIAS, l, dim),
                    qkNorm ? vector(TensorRole.ATTN_Q_NORM, l, c.headDim(), true) : null,
                    qkNorm ? vector(TensorRole.ATTN_K_NORM, l, c.headDim(), true) : null,
                    gemma ? vector(TensorRole.ATTN_POST_NORM, l, dim, true) : null,
                    gemma ? vector(TensorRole.FFN_POST_NORM, l, dim, true) : null,
                    gptOss ? sinks(l, c.heads()) : null));
            if (!ffnWeights) continue;
            if (c.experts().moe()) {
                routers.add(matrix(TensorRole.FFN_GATE_INP, l, c.experts().experts(), dim));
                WeightTensor routerBias = vector(TensorRole.FFN_GATE_INP_BIAS, l, c.experts().experts(), gptOss);
                if (routerBias != null) routerBiases.add(routerBias);
                ffn.addAll(experts(c, l));
                continue;
            }
            WeightTensor gate = c.activation().gated() ? matrix(TensorRole.FFN_GATE, l, c.ffnDim(), dim) : null;
            ffn.add(new DenseFfnLayer(gate,
                    matrix(TensorRole.FFN_UP, l, c.ffnDim(), dim), vector(TensorRole.FFN_UP_BIAS, l, c.ffnDim()),
                    matrix(TensorRole.FFN_DOWN, l, dim, c.ffnDim()), vector(TensorRole.FFN_DOWN_BIAS, l, dim)));
        }
        if (!ffnWeights) {
            // Not looked up, but part of the model: count the matrices (biases are noise at this scale).
            parameters += (long) c.layers() * Math.max(1, c.experts().experts()) * (c.activation().gated() ? 3 : 2)
                    * dim * c.ffnDim();
        }
        if (!routerBiases.isEmpty() && routerBiases.size() != routers.size()) {
            throw fault("some layers' routers have a bias (" + routerBiases.size() + " of " + routers.size() + ")");
        }
        ModelWeights weights = new ModelWeights(embedding, positions, projectIn, projectOut, outputNorm,
                outputNormBias, output, layers, ffn, routers, routerBiases, parameters);
        return new Loaded(c, weights);
    }

    /**
     * Layer {@code l}'s experts: row ranges of the layer's merged {@code ffn_*_exps} tensors (expert e's gate
     * and up are rows {@code e*ffn ..}, its down rows {@code e*dim ..}), or each expert's own tensors where the
     * source has no merged ones (HF checkpoints, older Mixtral GGUF files).
     */
    private List<DenseFfnLayer> experts(ModelConfig c, int l) {
        int count = c.experts().experts();
        int dim = c.dim();
        int ffnDim = c.ffnDim();
        List<DenseFfnLayer> out = new ArrayList<>(count);
        WeightTensor gates = optional(TensorRole.FFN_GATE_EXPS, l);
        if (gates != null) {
            WeightTensor ups = require(TensorRole.FFN_UP_EXPS, l);
            WeightTensor downs = require(TensorRole.FFN_DOWN_EXPS, l);
            long[] inShape = {dim, ffnDim, count};
            long[] outShape = {ffnDim, dim, count};
            expectShape(gates, inShape);
            expectShape(ups, inShape);
            expectShape(downs, outShape);
            // gpt-oss's experts have biases: a row per expert of one matrix each for gate, up and down.
            WeightTensor gateBiases = expertBiases(TensorRole.FFN_GATE_EXPS_BIAS, l, count, ffnDim);
            WeightTensor upBiases = expertBiases(TensorRole.FFN_UP_EXPS_BIAS, l, count, ffnDim);
            WeightTensor downBiases = expertBiases(TensorRole.FFN_DOWN_EXPS_BIAS, l, count, dim);
            for (int e = 0; e < count; e++) {
                out.add(new DenseFfnLayer(rows(gates, e, ffnDim), rows(ups, e, ffnDim), row(upBiases, e),
                        rows(downs, e, dim), row(downBiases, e), row(gateBiases, e)));
            }
            return out;
        }
        for (int e = 0; e < count; e++) {
            out.add(new DenseFfnLayer(expert(TensorRole.FFN_GATE_EXP, l, e, ffnDim, dim),
                    expert(TensorRole.FFN_UP_EXP, l, e, ffnDim, dim), null,
                    expert(TensorRole.FFN_DOWN_EXP, l, e, dim, ffnDim), null));
        }
        return out;
    }

    /** The biases of every expert of a layer, a row of {@code width} per expert, or null when the file has none. */
    private WeightTensor expertBiases(TensorRole role, int layer, int experts, int width) {
        WeightTensor t = optional(role, layer);
        if (t == null) return null;
        if (t.type() != GgmlType.F32 && t.type() != GgmlType.F16 && t.type() != GgmlType.BF16) {
            throw fault(t.name() + " should be F32, F16 or BF16, is " + t.type());
        }
        return expect(t, experts, width);
    }

    /** Expert {@code e}'s row of a layer's expert biases, or null without them. */
    private static WeightTensor row(WeightTensor biases, int e) {
        return biases == null ? null : rows(biases, e, 1);
    }

    /** gpt-oss's sinks, one logit per query head, in a float type ({@link LanguageModel} reads them as floats once). */
    private WeightTensor sinks(int layer, int heads) {
        WeightTensor t = vector(TensorRole.ATTN_SINKS, layer, heads, true);
        if (t.type() != GgmlType.F32 && t.type() != GgmlType.F16 && t.type() != GgmlType.BF16) {
            throw fault(t.name() + " should be F32, F16 or BF16, is " + t.type());
        }
        return t;
    }

    /** Expert {@code e}'s {@code count} rows of a merged expert tensor, in place, named after the expert. */
    private static WeightTensor rows(WeightTensor merged, int e, int count) {
        return FusedTensors.rows(merged, merged.name() + "[" + e + "]", Math.multiplyExact(e, count), count);
    }

    private WeightTensor expert(TensorRole role, int layer, int e, int rows, int cols) {
        String name = names.name(role, layer, e);
        WeightTensor t = name == null ? null : source.tensor(name);
        if (t == null) {
            String merged = names.name(TensorRole.FFN_GATE_EXPS, layer);
            throw fault("tensor " + (name == null ? role.name().toLowerCase() : name) + " is missing"
                    + (merged == null ? "" : " (and " + merged + ", which would hold every expert, too)"));
        }
        if (seen.add(t)) parameters += t.elements();
        return expect(t, rows, cols);
    }

    /** {@code t}'s shape is {@code shape}, trailing dimensions of 1 aside (GGUF writers drop them: one expert). */
    private void expectShape(WeightTensor t, long[] shape) {
        if (!java.util.Arrays.equals(withoutTrailingOnes(t.shape()), withoutTrailingOnes(shape))) {
            throw fault("tensor " + t.name() + " has shape " + java.util.Arrays.toString(t.shape()) + ", expected "
                    + java.util.Arrays.toString(shape));
        }
    }

    private static long[] withoutTrailingOnes(long[] shape) {
        int n = shape.length;
        while (n > 1 && shape[n - 1] == 1) n--;
        return java.util.Arrays.copyOf(shape, n);
    }

    private WeightTensor matrix(TensorRole role, int layer, int rows, int cols) {
        return expect(require(role, layer), rows, cols);
    }

    private WeightTensor vector(TensorRole role, int layer, int n) {
        return vector(role, layer, n, false);
    }

    private WeightTensor vector(TensorRole role, int layer, int n, boolean required) {
        WeightTensor t = required ? require(role, layer) : optional(role, layer);
        if (t != null) expectVector(t, n);
        return t;
    }

    private WeightTensor require(TensorRole role, int layer) {
        WeightTensor t = optional(role, layer);
        if (t == null) {
            String name = names.name(role, layer);
            throw fault("tensor " + (name == null ? role.name().toLowerCase() : name) + " is missing");
        }
        return t;
    }

    private WeightTensor optional(TensorRole role, int layer) {
        String name = names.name(role, layer);
        if (name == null) return null;
        WeightTensor t = source.tensor(name);
        if (t != null && seen.add(t)) parameters += t.elements();
        return t;
    }

    private WeightTensor expect(WeightTensor t, int rows, int cols) {
        if (t.rows() != rows || t.cols() != cols) {
            throw fault("tensor " + t.name() + " has " + t.rows() + " rows of " + t.cols() + ", expected "
                    + rows + " rows of " + cols);
        }
        return t;
    }

    private void expectVector(WeightTensor t, int n) {
        if (t.elements() != n || t.cols() != n) {
            throw fault("tensor " + t.name() + " has " + t.elements() + " elements, expected a vector of " + n);
        }
    }

    private ModelFileException fault(String what) {
        return new ModelFileException(source.path(), what);
    }
}
