package io.flashllm.engine.model;

import io.flashllm.flashstore.ffn.FeedForward;
import io.flashllm.kernels.Dequant;
import io.flashllm.kernels.MatVec;
import io.flashllm.kernels.Ops;
import io.flashllm.kernels.WeightTensor;

import java.util.List;

/**
 * The Llama forward pass (Llama 2/3, Mistral, Qwen2, Qwen3, Gemma 3, gpt-oss, ReLU-fied Llama): pre-norm blocks
 * of RMSNorm, rotary grouped-query attention with optional q/k/v biases (and Qwen3's and Gemma 3's per-head
 * q/k RMSNorm before the rotation, gpt-oss's sink logits in the softmax), RMSNorm and a gated FFN or a
 * mixture of experts, each added to the residual stream (Gemma 3
 * and 2 normalize each sub-block's output too, and scale the token embedding by sqrt(dim)); a final
 * RMSNorm and the classifier (tied to the embedding when the file has no output matrix; Gemma 2 soft-caps
 * its logits).
 */
final class LlamaTransformer extends Transformer {
    private final ModelWeights w;
    private final FeedForward ffn;
    private final float eps;
    /** What token embeddings are multiplied by: sqrt(dim) for Gemma, Granite's embedding scale, else 1. */
    private final float embedScale;
    /** Granite: what each sub-block's output is multiplied by before it joins the residual stream; else 1. */
    private final float residualScale;
    /** Granite: what the logits are divided by; else 1. */
    private final float logitDivisor;

    private final float[] x;      // residual stream
    private final float[] xb;     // normalized input of a sub-block, then its output
    private final float[] k;
    private final float[] v;
    private final float[] ffnOut;
    private Batch batch;          // prompt batch buffers, allocated on the first batch

    LlamaTransformer(LanguageModel model, int contextLength, KvCacheType kvType) {
        super(model, contextLength, kvType);
        this.w = model.weights();
        this.ffn = model.ffn();
        this.eps = config.normEps();
        boolean gemma = config.architecture() == Architecture.GEMMA3 || config.architecture() == Architecture.GEMMA2;
        this.embedScale = gemma ? (float) Math.sqrt(config.dim()) : config.multipliers().embedding();
        this.residualScale = config.multipliers().residual();
        this.logitDivisor = config.multipliers().logitDivisor();
        int dim = config.dim();
        this.x = new float[dim];
        this.xb = new float[dim];
        this.k = new float[config.kvDim()];
        this.v = new float[config.kvDim()];
        this.ffnOut = new float[dim];
    }

    @Override
    protected void step(int token, int pos, boolean wantLogits) {
        int dim = config.dim();
        embed(token, x, 0);

        for (int l = 0; l < config.layers(); l++) {
            LayerWeights lw = w.layers().get(l);

            // Self-attention: x += Wo · attention(rope(Wq·rms(x)), rope(Wk·rms(x)), Wv·rms(x))
            Ops.rmsnorm(xb, 0, x, 0, dim, lw.attnNorm(), eps);
            linear(lw.wq(), lw.bq(), xb, q);
            linear(lw.wk(), lw.bk(), xb, k);
            linear(lw.wv(), lw.bv(), xb, v);
            normHeads(q, 0, config.heads(), lw.qNorm());
            normHeads(k, 0, config.kvHeads(), lw.kNorm());
            rotate(l, q, 0, config.heads(), pos);
            rotate(l, k, 0, config.kvHeads(), pos);
            cache.store(l, pos, k, 0, v, 0);
            attention(l, pos);
            linear(lw.wo(), lw.bo(), attOut, xb);
            normOutput(xb, 0, lw.postAttnNorm());
            scaleResidual(xb, 0, dim);
            add(x, xb, dim);

            // Feed-forward: x += FFN(rms(x))
            Ops.rmsnorm(xb, 0, x, 0, dim, lw.ffnNorm(), eps);
            ffn.forward(l, xb, ffnOut);
            normOutput(ffnOut, 0, lw.postFfnNorm());
            scaleResidual(ffnOut, 0, dim);
            add(x, ffnOut, dim);
        }

        if (wantLogits) {
            Ops.rmsnorm(x, 0, x, 0, dim, w.outputNorm(), eps);
            MatVec.matvec(parallel, w.output(), x, logits);
            softcap(logits, 0);
        }
    }

    /** The same pass for consecutive prompt tokens: matmuls over the batch, causal attention per token. */
    @Override
    protected void stepBatch(int[] tokens, int off, int count, int startPos, boolean wantLogits) {
        passRows(tokens, off, count, startPos, null);
        if (wantLogits) {
            Ops.rmsnorm(x, 0, batch.x, (count - 1) * config.dim(), config.dim(), w.outputNorm(), eps);
            MatVec.matvec(parallel, w.output(), x, logits);
            softcap(logits, 0);
        }
    }

    @Override
    protected void finalHidden(int row, float[] out, int outOff) {
        int dim = config.dim();
        Ops.rmsnorm(out, outOff, batch.x, row * dim, dim, w.outputNorm(), eps);
    }

    @Override
    protected void classifyHidden(float[] hidden, float[] out) {
        MatVec.matvec(parallel, w.output(), hidden, out);
        softcap(out, 0);
    }

    @Override
    protected boolean decodesInRows() {
        return true;
    }

    /** Several sequences' decode steps: the prompt's pass with each row at its own sequence's position and cache. */
    @Override
    protected void stepRows(List<DecodeBatcher.Step> rows) {
        int count = rows.size();
        int dim = config.dim();
        int vocab = config.vocabSize();
        Batch bt = batch();
        for (int b = 0; b < count; b++) bt.tokens[b] = rows.get(b).token;
        passRows(bt.tokens, 0, count, 0, rows);
        for (int b = 0; b < count; b++) Ops.rmsnorm(bt.xb, b * dim, bt.x, b * dim, dim, w.outputNorm(), eps);
        float[] out = model.batchLogits();
        MatVec.matmul(parallel, w.output(), bt.xb, count, out);
        for (int b = 0; b < count; b++) softcap(out, b * vocab);
        for (int b = 0; b < count; b++) System.arraycopy(out, b * vocab, rows.get(b).sequence.logits, 0, vocab);
    }

    /**
     * {@code count} tokens through every layer into {@link #batch}'s x: matmuls over the rows; row b
     * at position {@code startPos + b} of this sequence, or, for a decode batch ({@code rows} not
     * null), at its step's position in its step's sequence.
     */
    private void passRows(int[] tokens, int off, int count, int startPos, List<DecodeBatcher.Step> rows) {
        Batch bt = batch();
        int dim = config.dim();
        int qDim = config.qDim();
        int kvDim = config.kvDim();
        for (int b = 0; b < count; b++) embed(tokens[off + b], bt.x, b * dim);

        for (int l = 0; l < config.layers(); l++) {
            LayerWeights lw = w.layers().get(l);

            for (int b = 0; b < count; b++) Ops.rmsnorm(bt.xb, b * dim, bt.x, b * dim, dim, lw.attnNorm(), eps);
            linearBatch(lw.wq(), lw.bq(), bt.xb, count, bt.q, qDim);
            linearBatch(lw.wk(), lw.bk(), bt.xb, count, bt.k, kvDim);
            linearBatch(lw.wv(), lw.bv(), bt.xb, count, bt.v, kvDim);
            for (int b = 0; b < count; b++) {
                int pos = rows == null ? startPos + b : rows.get(b).pos;
                KvCache kv = rows == null ? cache : rows.get(b).sequence.cache;
                normHeads(bt.q, b * qDim, config.heads(), lw.qNorm());
                normHeads(bt.k, b * kvDim, config.kvHeads(), lw.kNorm());
                rotate(l, bt.q, b * qDim, config.heads(), pos);
                rotate(l, bt.k, b * kvDim, config.kvHeads(), pos);
                kv.store(l, pos, bt.k, b * kvDim, bt.v, b * kvDim);
            }
            if (rows == null) {
                attention(l, startPos, count, bt.q, bt.att);
            } else {
                attentionRows(l, rows, bt.q, bt.att);
            }
            linearBatch(lw.wo(), lw.bo(), bt.att, count, bt.xb, dim);
            for (int b = 0; b < count; b++) normOutput(bt.xb, b * dim, lw.postAttnNorm());
            scaleResidual(bt.xb, 0, count * dim);
            add(bt.x, bt.xb, count * dim);

            for (int b = 0; b < count; b++) Ops.rmsnorm(bt.xb, b * dim, bt.x, b * dim, dim, lw.ffnNorm(), eps);
            feedForwardBatch(ffn, l, bt.xb, count, bt.ffnOut, xb, ffnOut);
            for (int b = 0; b < count; b++) normOutput(bt.ffnOut, b * dim, lw.postFfnNorm());
            scaleResidual(bt.ffnOut, 0, count * dim);
            add(bt.x, bt.ffnOut, count * dim);
        }
    }

    /** Activations of a prompt batch, row-major, {@link #MAX_BATCH} rows. */
    private record Batch(float[] x, float[] xb, float[] q, float[] k, float[] v, float[] att, float[] ffnOut, int[] tokens) {}

    private Batch batch() {
        if (batch == null) {
            int n = MAX_BATCH;
            batch = new Batch(new float[n * config.dim()], new float[n * config.dim()], new float[n * config.qDim()],
                    new float[n * config.kvDim()], new float[n * config.kvDim()], new float[n * config.qDim()],
                    new float[n * config.dim()], new int[DecodeBatcher.MAX_ROWS]);
        }
        return batch;
    }

    private void linearBatch(WeightTensor weight, WeightTensor bias, float[] in, int count, float[] out, int rows) {
        MatVec.matmul(parallel, weight, in, count, out);
        if (bias != null) {
            for (int b = 0; b < count; b++) Ops.addBias(out, b * rows, bias);
        }
    }

    private void linear(WeightTensor weight, WeightTensor bias, float[] in, float[] out) {
        MatVec.matvec(parallel, weight, in, out);
        if (bias != null) Ops.addBias(out, 0, bias);
    }

    /** Qwen3's RMSNorm of each of {@code heads} heads stored from {@code off}, one gain for all; none without it. */
    private void normHeads(float[] vec, int off, int heads, WeightTensor gain) {
        if (gain == null) return;
        int hd = config.headDim();
        for (int h = 0; h < heads; h++) Ops.rmsnorm(vec, off + h * hd, vec, off + h * hd, hd, gain, eps);
    }

    /** Token {@code token}'s embedding row into {@code out} from {@code off}, scaled as the model wants it. */
    private void embed(int token, float[] out, int off) {
        Dequant.row(w.tokenEmbedding(), token, out, off);
        if (embedScale != 1f) Ops.scale(out, off, config.dim(), embedScale);
    }

    /**
     * What becomes of one row of logits from {@code off} after the classifier: Gemma 2's soft cap
     * {@code c * tanh(l / c)}, Granite's division by its logit scale; nothing for the others.
     */
    private void softcap(float[] logits, int off) {
        float c = config.finalSoftcap();
        if (c > 0) Ops.softcap(logits, off, config.vocabSize(), c);
        if (logitDivisor != 1f) Ops.scale(logits, off, config.vocabSize(), 1f / logitDivisor);
    }

    /** Granite's scale of a sub-block's output, {@code n} values from {@code off}, before the residual add. */
    private void scaleResidual(float[] out, int off, int n) {
        if (residualScale != 1f) Ops.scale(out, off, n, residualScale);
    }

    /** Gemma 3's RMSNorm of a sub-block's output, in place, before it joins the residual stream; none without it. */
    private void normOutput(float[] out, int off, WeightTensor gain) {
        if (gain != null) Ops.rmsnorm(out, off, out, off, config.dim(), gain, eps);
    }

    /** RoPE of {@code layer} on each of {@code heads} heads stored from {@code off}, for position {@code pos}. */
    private void rotate(int layer, float[] vec, int off, int heads, int pos) {
        int hd = config.headDim();
        RopeConfig rope = config.ropeOf(layer);
        float[] invFreq = model.invFreq(layer);
        int rot = rope.rotaryDim();
        boolean interleaved = rope.style() == RopeStyle.INTERLEAVED;
        float mscale = rope.mscale();
        for (int h = 0; h < heads; h++) {
            if (interleaved) {
                Ops.ropeInterleaved(vec, off + h * hd, hd, rot, pos, invFreq);
            } else {
                Ops.ropeHalfSplit(vec, off + h * hd, hd, rot, pos, invFreq);
            }
            // LongRoPE's attention factor scales what rotated, as llama.cpp's rope does; the rest passes as it is.
            if (mscale != 1f) Ops.scale(vec, off + h * hd, rot, mscale);
        }
    }
}
