/**
 * Model definitions: configuration, weights and the forward pass of the decoder-only transformers
 * flashllm runs.
 *
 * <ul>
 *   <li>{@link io.flashllm.engine.model.ModelConfig} is read from GGUF metadata by
 *       {@link io.flashllm.engine.model.GgufConfigs} or from a Hugging Face {@code config.json} by
 *       {@link io.flashllm.engine.model.HfConfigs}.</li>
 *   <li>{@link io.flashllm.engine.model.TensorNames} maps each {@link io.flashllm.engine.model.TensorRole}
 *       to the source's tensor name; {@link io.flashllm.engine.model.WeightLoader} looks every tensor up,
 *       checks its shape and resolves what absence means (tied output, no bias).</li>
 *   <li>{@link io.flashllm.engine.model.LanguageModel} holds the shared weights, FFN and thread pool;
 *       each sequence runs in its own {@link io.flashllm.engine.model.Transformer}
 *       ({@code LlamaTransformer}, {@code OptTransformer}) with an off-heap
 *       {@link io.flashllm.engine.model.KvCache}.</li>
 * </ul>
 *
 * <p>Rotary embeddings follow the weights, not the model family: llama.cpp's converter permutes the
 * q/k rows of GGUF "llama" files so adjacent pairs rotate together
 * ({@link io.flashllm.engine.model.RopeStyle#INTERLEAVED}); Hugging Face weights and GGUF "qwen2"/"qwen3"
 * files rotate element i with i + d/2 ({@link io.flashllm.engine.model.RopeStyle#HALF_SPLIT}).
 *
 * <p>flashllm's own GGUF conventions: ReLU-fied Llama models carry {@code flashllm.ffn.activation}
 * (silu, relu, fatrelu) and {@code flashllm.ffn.fatrelu_threshold}; OPT files use
 * {@code general.architecture = opt} with the keys and tensor names listed in
 * {@link io.flashllm.engine.model.GgufConfigs} and {@link io.flashllm.engine.model.TensorNames}.
 */
package io.flashllm.engine.model;
