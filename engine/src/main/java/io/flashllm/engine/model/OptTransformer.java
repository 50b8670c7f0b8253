package io.flashllm.engine.model;

import io.flashllm.flashstore.ffn.FeedForward;
import io.flashllm.kernels.Dequant;
import io.flashllm.kernels.MatVec;
import io.flashllm.kernels.Ops;
import io.flashllm.kernels.WeightTensor;

/**
 * The OPT forward pass: token embedding (projected in when word_embed_proj_dim differs) plus a
 * learned position embedding (row pos + 2); blocks of LayerNorm, multi-head attention and an
 * ungated ReLU FFN, with biases throughout; LayerNorm before each sub-block (do_layer_norm_before,
 * every OPT but 350m) or after it; a final LayerNorm for pre-norm models, projection out, and the
 * classifier tied to the token embedding.
 */
final class OptTransformer extends Transformer {
    private final ModelWeights w;
    private final FeedForward ffn;
    private final float eps;
    private final boolean preNorm;

    private final float[] word;   // a vector of the word embedding width (before project_in / after project_out)
    private final float[] x;      // residual stream
    private final float[] h;      // normalized input of a sub-block
    private final float[] k;
    private final float[] v;
    private final float[] out;    // output of a sub-block
    private Batch batch;          // prompt batch buffers, allocated on the first batch

    OptTransformer(LanguageModel model, int contextLength, KvCacheType kvType) {
        super(model, contextLength, kvType);
        this.w = model.weights();
        this.ffn = model.ffn();
        this.eps = config.normEps();
        this.preNorm = config.preNorm();
        int dim = config.dim();
        this.word = new float[config.wordEmbedDim()];
        this.x = new float[dim];
        this.h = new float[dim];
        this.k = new float[config.kvDim()];
        this.v = new float[config.kvDim()];
        this.out = new float[dim];
    }

    @Override
    protected void step(int token, int pos, boolean wantLogits) {
        int dim = config.dim();
        if (w.projectIn() != null) {
            Dequant.row(w.tokenEmbedding(), token, word, 0);
            MatVec.matvec(parallel, w.projectIn(), word, x);
        } else {
            Dequant.row(w.tokenEmbedding(), token, x, 0);
        }
        Dequant.row(w.positionEmbedding(), pos + config.positionOffset(), out, 0);
        add(x, out, dim);

        for (int l = 0; l < config.layers(); l++) {
            LayerWeights lw = w.layers().get(l);

            // Self-attention (no rotary embedding: positions were added to the input).
            float[] in = normIn(lw.attnNorm(), lw.attnNormBias());
            linear(lw.wq(), lw.bq(), in, q);
            linear(lw.wk(), lw.bk(), in, k);
            linear(lw.wv(), lw.bv(), in, v);
            cache.store(l, pos, k, 0, v, 0);
            attention(l, pos);
            linear(lw.wo(), lw.bo(), attOut, out);
            add(x, out, dim);
            if (!preNorm) Ops.layernorm(x, 0, x, 0, dim, lw.attnNorm(), lw.attnNormBias(), eps);

            // Feed-forward: fc2(relu(fc1 · x + b1)) + b2.
            in = normIn(lw.ffnNorm(), lw.ffnNormBias());
            ffn.forward(l, in, out);
            add(x, out, dim);
            if (!preNorm) Ops.layernorm(x, 0, x, 0, dim, lw.ffnNorm(), lw.ffnNormBias(), eps);
        }

        if (wantLogits) classify();
    }

    /** The same pass for consecutive prompt tokens: matmuls over the batch, causal attention per token. */
    @Override
    protected void stepBatch(int[] tokens, int off, int count, int startPos, boolean wantLogits) {
        Batch bt = batch();
        int dim = config.dim();
        int qDim = config.qDim();
        int kvDim = config.kvDim();
        for (int b = 0; b < count; b++) {
            if (w.projectIn() != null) {
                Dequant.row(w.tokenEmbedding(), tokens[off + b], bt.word, b * config.wordEmbedDim());
            } else {
                Dequant.row(w.tokenEmbedding(), tokens[off + b], bt.x, b * dim);
            }
        }
        if (w.projectIn() != null) MatVec.matmul(parallel, w.projectIn(), bt.word, count, bt.x);
        for (int b = 0; b < count; b++) {
            Dequant.row(w.positionEmbedding(), startPos + b + config.positionOffset(), out, 0);
            for (int i = 0; i < dim; i++) bt.x[b * dim + i] += out[i];
        }

        for (int l = 0; l < config.layers(); l++) {
            LayerWeights lw = w.layers().get(l);

            float[] in = normInBatch(bt, count, lw.attnNorm(), lw.attnNormBias());
            linearBatch(lw.wq(), lw.bq(), in, count, bt.q, qDim);
            linearBatch(lw.wk(), lw.bk(), in, count, bt.k, kvDim);
            linearBatch(lw.wv(), lw.bv(), in, count, bt.v, kvDim);
            for (int b = 0; b < count; b++) cache.store(l, startPos + b, bt.k, b * kvDim, bt.v, b * kvDim);
            attention(l, startPos, count, bt.q, bt.att);
            linearBatch(lw.wo(), lw.bo(), bt.att, count, bt.out, dim);
            add(bt.x, bt.out, count * dim);
            if (!preNorm) layernormRows(bt.x, bt.x, count, lw.attnNorm(), lw.attnNormBias());

            in = normInBatch(bt, count, lw.ffnNorm(), lw.ffnNormBias());
            feedForwardBatch(ffn, l, in, count, bt.out, h, out);
            add(bt.x, bt.out, count * dim);
            if (!preNorm) layernormRows(bt.x, bt.x, count, lw.ffnNorm(), lw.ffnNormBias());
        }

        if (wantLogits) {
            System.arraycopy(bt.x, (count - 1) * dim, x, 0, dim);
            classify();
        }
    }

    @Override
    protected void finalHidden(int row, float[] out, int outOff) {
        int dim = config.dim();
        if (w.outputNorm() != null) {
            Ops.layernorm(out, outOff, batch.x, row * dim, dim, w.outputNorm(), w.outputNormBias(), eps);
        } else {
            System.arraycopy(batch.x, row * dim, out, outOff, dim);
        }
    }

    @Override
    protected void classifyHidden(float[] hidden, float[] out) {
        if (w.projectOut() != null) {
            MatVec.matvec(parallel, w.projectOut(), hidden, word);
            MatVec.matvec(parallel, w.output(), word, out);
        } else {
            MatVec.matvec(parallel, w.output(), hidden, out);
        }
    }

    private void classify() {
        int dim = config.dim();
        if (w.outputNorm() != null) Ops.layernorm(x, 0, x, 0, dim, w.outputNorm(), w.outputNormBias(), eps);
        if (w.projectOut() != null) {
            MatVec.matvec(parallel, w.projectOut(), x, word);
            MatVec.matvec(parallel, w.output(), word, logits);
        } else {
            MatVec.matvec(parallel, w.output(), x, logits);
        }
    }

    private float[] normInBatch(Batch bt, int count, WeightTensor weight, WeightTensor bias) {
        if (!preNorm) return bt.x;
        layernormRows(bt.h, bt.x, count, weight, bias);
        return bt.h;
    }

    private void layernormRows(float[] dst, float[] src, int count, WeightTensor weight, WeightTensor bias) {
        int dim = config.dim();
        for (int b = 0; b < count; b++) Ops.layernorm(dst, b * dim, src, b * dim, dim, weight, bias, eps);
    }

    private void linearBatch(WeightTensor weight, WeightTensor bias, float[] in, int count, float[] result, int rows) {
        MatVec.matmul(parallel, weight, in, count, result);
        if (bias != null) {
            for (int b = 0; b < count; b++) Ops.addBias(result, b * rows, bias);
        }
    }

    /** Activations of a prompt batch, row-major, {@link #MAX_BATCH} rows. */
    private record Batch(float[] word, float[] x, float[] h, float[] q, float[] k, float[] v, float[] att, float[] out) {}

    private Batch batch() {
        if (batch == null) {
            int n = MAX_BATCH;
            int dim = config.dim();
            batch = new Batch(new float[n * config.wordEmbedDim()], new float[n * dim], new float[n * dim],
                    new float[n * config.qDim()], new float[n * config.kvDim()], new float[n * config.kvDim()],
                    new float[n * config.qDim()], new float[n * dim]);
        }
        return batch;
    }

    /** The sub-block input: LayerNorm of the residual stream before the block (pre-norm), the stream itself after. */
    private float[] normIn(WeightTensor weight, WeightTensor bias) {
        if (!preNorm) return x;
        Ops.layernorm(h, 0, x, 0, config.dim(), weight, bias, eps);
        return h;
    }

    private void linear(WeightTensor weight, WeightTensor bias, float[] in, float[] result) {
        MatVec.matvec(parallel, weight, in, result);
        if (bias != null) Ops.addBias(result, 0, bias);
    }
}
