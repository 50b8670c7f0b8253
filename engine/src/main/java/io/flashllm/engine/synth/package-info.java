/**
 * Synthetic models with deterministic random weights, for tests, benchmarks and the demo.
 *
 * <p>{@link io.flashllm.engine.synth.Synth} writes a Llama, ReLU/FATReLU Llama or OPT model as a
 * GGUF file (llama.cpp's names and keys, q/k permuted for interleaved RoPE) or a Hugging Face
 * directory (config.json, safetensors, tokenizer.json); one seed is the same model in both. Every
 * weight row is a pure function of (seed, tensor name, row), so tensors are generated a chunk at a
 * time in parallel and streamed to disk.
 */
package io.flashllm.engine.synth;
