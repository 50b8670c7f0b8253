/**
 * Generation: {@link io.flashllm.engine.generate.LoadedModel} (the
 * {@link io.flashllm.engine.api.InferenceModel} that {@link io.flashllm.engine.ModelLoader} returns)
 * and {@link io.flashllm.engine.generate.GenerationSession}, the loop that runs a prompt, samples,
 * streams whole characters, holds back text that may start a stop string, and stops on an
 * end-of-generation token, a stop string, the token limit, the end of the context or the listener's word.
 */
package io.flashllm.engine.generate;
