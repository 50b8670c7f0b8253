/**
 * Model file writers, written from the format specifications independently of the readers:
 * {@link io.flashllm.flashstore.writer.GgufWriter} (GGUF v3), {@link io.flashllm.flashstore.writer.SafetensorsWriter}
 * (single file or shards with an index) and {@link io.flashllm.flashstore.writer.Quantizer}
 * (F32 to F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, MXFP4 in ggml's block layouts).
 * Tensor data streams from {@link io.flashllm.flashstore.writer.TensorSource}s through one large
 * buffer; files appear under their name only when complete.
 */
package io.flashllm.flashstore.writer;
