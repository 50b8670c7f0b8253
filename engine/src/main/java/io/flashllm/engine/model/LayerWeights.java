package io.flashllm.engine.model;

import io.flashllm.kernels.WeightTensor;

/**
 * The attention half of one decoder block plus the norm in front of the FFN; the FFN weights live
 * behind {@link io.flashllm.flashstore.ffn.FeedForward}. Bias fields are null when the model has none;
 * qNorm and kNorm (one gain per element of a head, shared by every head) only Qwen3 and Gemma 3 have,
 * postAttnNorm and postFfnNorm (the norms of the attention's and the FFN's outputs) only Gemma 3, sinks (a
 * logit per query head that joins its softmax) only gpt-oss.
 */
public record LayerWeights(
        WeightTensor attnNorm,
        WeightTensor attnNormBias,
        WeightTensor wq,
        WeightTensor bq,
        WeightTensor wk,
        WeightTensor bk,
        WeightTensor wv,
        WeightTensor bv,
        WeightTensor wo,
        WeightTensor bo,
        WeightTensor ffnNorm,
        WeightTensor ffnNormBias,
        WeightTensor qNorm,
        WeightTensor kNorm,
        WeightTensor postAttnNorm,
        WeightTensor postFfnNorm,
        WeightTensor sinks) {}
