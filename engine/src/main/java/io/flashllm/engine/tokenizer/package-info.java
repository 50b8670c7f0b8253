/**
 * Tokenizers: GGUF vocabularies (SentencePiece "llama" and byte-level BPE "gpt2", implemented here to match
 * llama.cpp), Hugging Face tokenizer.json files (run by the Hugging Face library through DJL), streaming
 * decoding, and {@link io.flashllm.engine.tokenizer.VocabBuilder} for synthetic models. Start at
 * {@link io.flashllm.engine.tokenizer.Tokenizers}.
 */
package io.flashllm.engine.tokenizer;
