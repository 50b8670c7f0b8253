package io.flashllm.engine.synth;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashllm.flashstore.writer.GgufValue;
import io.flashllm.flashstore.writer.GgufWriter;
import io.flashllm.flashstore.writer.SafetensorsWriter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Writes a model with deterministic random weights: same spec and seed, same bytes. Weights are
 * generated in Hugging Face's convention; the GGUF writer permutes Llama q/k rows as llama.cpp's
 * converter does, so one seed gives the same model (the same logits) in both formats. Tensors are
 * generated and written a chunk at a time, never held whole.
 */
public final class Synth {
    /** Shard size for HF output, below the 5 GB Hugging Face uses by default. */
    static final long HF_SHARD_BYTES = 4L << 30;
    private static final float RMS_EPS = 1e-5f;
    private static final float ROPE_THETA = 10000f;
    /** Gemma 3 1B's attention window. */
    private static final int GEMMA_WINDOW = 512;
    /** Gemma 2's. */
    private static final int GEMMA2_WINDOW = 4096;
    private static final float LAYER_NORM_EPS = 1e-5f;
    /** gpt-oss's rotation base and attention window. */
    private static final float GPT_OSS_ROPE_THETA = 150000f;
    private static final int GPT_OSS_WINDOW = 128;

    private Synth() {}

    /** Synthesizes with the vocabulary of {@link SynthVocab#build} and one worker per processor. */
    public static SynthResult synthesize(SynthSpec spec, Path out) throws IOException {
        return synthesize(spec, out, Runtime.getRuntime().availableProcessors());
    }

    public static SynthResult synthesize(SynthSpec spec, Path out, int threads) throws IOException {
        return synthesize(spec, out, threads, SynthVocab.build(spec.arch(), spec.vocab()));
    }

    /**
     * Writes {@code spec} to {@code out} (a GGUF file, or a directory for HF) with {@code threads}
     * workers generating weights and {@code vocab} as its tokenizer.
     */
    public static SynthResult synthesize(SynthSpec spec, Path out, int threads, SynthVocab vocab) throws IOException {
        long t0 = System.nanoTime();
        if (vocab.ggufMetadata().get("tokenizer.ggml.tokens") instanceof List<?> tokens && tokens.size() != spec.vocab()) {
            throw new IllegalArgumentException("the vocabulary has " + tokens.size() + " tokens, the model " + spec.vocab());
        }
        List<SynthTensor> plan = SynthPlan.tensors(spec);
        Float threshold = spec.sparsity() == null ? null
                : FatreluCalibration.threshold(spec, plan, spec.sparsity());
        if (threshold != null && !(threshold >= 0)) {
            // Gate pre-activations of random weights are symmetric about 0, so ReLU alone cuts about
            // half; a lower target needs a negative threshold, which no loader accepts (FATReLU
            // thresholds are >= 0). Refused here, before a file exists that would not load.
            throw new IllegalArgumentException("sparsity " + spec.sparsity() + " is at or below the fraction of gate"
                    + " activations ReLU already cuts (about half): the FATReLU threshold would be " + threshold
                    + "; ask for more sparsity, or none for plain ReLU");
        }
        long params = plan.stream().mapToLong(SynthTensor::elements).sum();
        try (RowWriter rows = new RowWriter(spec.seed(), threads)) {
            long bytes;
            if (spec.format() == SynthFormat.GGUF) {
                writeGguf(spec, plan, vocab, threshold, rows, out);
                bytes = Files.size(out);
            } else {
                bytes = writeHf(spec, plan, vocab, threshold, rows, out);
            }
            return new SynthResult(out, bytes, plan.size(), params, threshold, System.nanoTime() - t0);
        }
    }

    private static void writeGguf(SynthSpec s, List<SynthTensor> plan, SynthVocab vocab, Float threshold,
                                  RowWriter rows, Path out) throws IOException {
        if (Files.isDirectory(out)) throw new IOException(out + " is a directory; GGUF output is a file");
        Path parent = out.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        GgufWriter w = new GgufWriter(out);
        String arch = s.ggufArch();
        w.putString("general.architecture", arch);
        w.putString("general.name", s.name());
        w.putString("general.description", "random weights from flashllm synth (seed " + s.seed()
                + "); generated text is meaningless");
        w.putU32("general.file_type", s.type().fileType);
        if (s.type().quantized()) w.putU32("general.quantization_version", 2);
        w.alignment(GgufWriter.DEFAULT_ALIGNMENT);
        String p = arch + ".";
        w.putU32(p + "context_length", s.contextLength());
        w.putU32(p + "embedding_length", s.dim());
        w.putU32(p + "block_count", s.layers());
        w.putU32(p + "feed_forward_length", s.ffn());
        if (s.experts() > 0) {
            w.putU32(p + "expert_count", s.experts());
            w.putU32(p + "expert_used_count", s.expertsUsed());
            if (arch.equals("qwen3moe") || arch.equals("gpt-oss")) w.putU32(p + "expert_feed_forward_length", s.ffn());
        }
        w.putU32(p + "attention.head_count", s.heads());
        w.putU32(p + "attention.head_count_kv", s.kvHeads());
        w.putU32(p + "vocab_size", s.vocab());
        if (s.arch().llamaFamily()) {
            boolean gemma = s.arch().gemma();
            w.putF32(p + "attention.layer_norm_rms_epsilon", gemma ? 1e-6f : RMS_EPS);
            // Qwen3 and Gemma 3 are trained with base 1,000,000 (Gemma 3's windowed layers use 10,000).
            boolean gptOss = s.arch() == SynthArch.GPT_OSS;
            w.putF32(p + "rope.freq_base", s.arch().qkNorm() ? 1e6f : gptOss ? GPT_OSS_ROPE_THETA : ROPE_THETA);
            w.putU32(p + "rope.dimension_count", s.headDim());
            if (gptOss) {
                // gpt-oss's YaRN over 4,096 trained positions (32x: its 131,072); its window of 128 positions.
                w.putString(p + "rope.scaling.type", "yarn");
                w.putF32(p + "rope.scaling.factor", 32f);
                w.putU32(p + "rope.scaling.original_context_length", 4096);
                w.putU32(p + "attention.sliding_window", Math.min(GPT_OSS_WINDOW, s.contextLength()));
            }
            if (s.arch().qkNorm() || gemma || gptOss) {
                w.putU32(p + "attention.key_length", s.headDim());
                w.putU32(p + "attention.value_length", s.headDim());
            }
            if (s.arch() == SynthArch.GEMMA3) w.putU32(p + "attention.sliding_window", Math.min(GEMMA_WINDOW, s.contextLength()));
            if (s.arch() == SynthArch.PHI3) w.putU32(p + "attention.sliding_window", 0);
            if (s.arch() == SynthArch.GRANITE) {
                // Scalars of Granite 3's order (embeddings x12, sub-block outputs x0.22, query-key products
                // x1/64, logits /8): every one of them moves the logits, so a reader that skips one is caught.
                w.putF32(p + "embedding_scale", 12f);
                w.putF32(p + "residual_scale", 0.22f);
                w.putF32(p + "attention.scale", 0.015625f);
                w.putF32(p + "logit_scale", 8f);
            }
            if (s.arch() == SynthArch.GEMMA2) {
                w.putU32(p + "attention.sliding_window", Math.min(GEMMA2_WINDOW, s.contextLength()));
                w.putF32(p + "attn_logit_softcapping", 50f);
                w.putF32(p + "final_logit_softcapping", 30f);
            }
            if (s.arch() == SynthArch.LLAMA_RELU) {
                w.putString("flashllm.ffn.activation", threshold == null ? "relu" : "fatrelu");
                if (threshold != null) {
                    w.putF32("flashllm.ffn.fatrelu_threshold", threshold);
                    w.putF32("flashllm.synth.target_sparsity", s.sparsity());
                }
            }
        } else {
            w.putF32(p + "attention.layer_norm_epsilon", LAYER_NORM_EPS);
            w.putU32(p + "word_embed_proj_dim", s.dim());
            w.putBool(p + "layer_norm_before", true);
            w.putU32(p + "position_offset", SynthPlan.OPT_POSITION_OFFSET);
        }
        w.put("flashllm.synth.seed", GgufValue.u64(s.seed()));
        for (Map.Entry<String, Object> e : vocab.ggufMetadata().entrySet()) {
            w.put(e.getKey(), SynthVocab.ggufValue(e.getKey(), e.getValue()));
        }
        for (SynthTensor t : plan) w.addTensor(t.ggufName(), t.ggufType(), t.ggufShape(), rows.gguf(t));
        w.write();
    }

    private static long writeHf(SynthSpec s, List<SynthTensor> plan, SynthVocab vocab, Float threshold,
                                RowWriter rows, Path dir) throws IOException {
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new IOException(dir + " is a file; Hugging Face output is a directory");
        }
        Files.createDirectories(dir);
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        String dtype = switch (s.type()) {
            case F16 -> "float16";
            case BF16 -> "bfloat16";
            default -> "float32";
        };
        ObjectNode c = json.createObjectNode();
        if (s.arch().llamaFamily()) {
            boolean qwen3 = s.arch() == SynthArch.QWEN3;
            c.putArray("architectures").add(qwen3 ? "Qwen3ForCausalLM" : "LlamaForCausalLM");
            c.put("model_type", qwen3 ? "qwen3" : "llama");
            c.put("hidden_size", s.dim());
            c.put("intermediate_size", s.ffn());
            c.put("num_hidden_layers", s.layers());
            c.put("num_attention_heads", s.heads());
            c.put("num_key_value_heads", s.kvHeads());
            c.put("head_dim", s.headDim());
            c.put("max_position_embeddings", s.contextLength());
            c.put("rms_norm_eps", RMS_EPS);
            c.put("rope_theta", qwen3 ? 1e6f : ROPE_THETA);
            c.putNull("rope_scaling");
            c.put("attention_bias", false);
            c.put("mlp_bias", false);
            String act = s.arch() != SynthArch.LLAMA_RELU ? "silu" : threshold == null ? "relu" : "fatrelu";
            c.put("hidden_act", act);
            // ProSparse's convention for the FATReLU threshold.
            if (threshold != null) c.put("hidden_act_param", threshold);
            c.put("tie_word_embeddings", false);
        } else {
            c.putArray("architectures").add("OPTForCausalLM");
            c.put("model_type", "opt");
            c.put("hidden_size", s.dim());
            c.put("ffn_dim", s.ffn());
            c.put("num_hidden_layers", s.layers());
            c.put("num_attention_heads", s.heads());
            c.put("max_position_embeddings", s.contextLength());
            c.put("word_embed_proj_dim", s.dim());
            c.put("do_layer_norm_before", true);
            c.put("activation_function", "relu");
            c.put("enable_bias", true);
            c.put("layer_norm_elementwise_affine", true);
            c.put("dropout", 0.0);
            c.put("tie_word_embeddings", true);
            if (vocab.pad() >= 0) c.put("pad_token_id", vocab.pad());
        }
        c.put("vocab_size", s.vocab());
        c.put("bos_token_id", vocab.bos());
        c.put("eos_token_id", vocab.eos());
        c.put("torch_dtype", dtype);
        c.put("flashllm_synth_seed", s.seed());
        json.writeValue(dir.resolve("config.json").toFile(), c);

        ObjectNode g = json.createObjectNode();
        g.put("bos_token_id", vocab.bos());
        g.put("eos_token_id", vocab.eos());
        if (vocab.pad() >= 0) g.put("pad_token_id", vocab.pad());
        json.writeValue(dir.resolve("generation_config.json").toFile(), g);

        Files.writeString(dir.resolve("tokenizer.json"), vocab.tokenizerJson());
        Files.writeString(dir.resolve("tokenizer_config.json"), vocab.tokenizerConfigJson());

        SafetensorsWriter st = new SafetensorsWriter();
        for (SynthTensor t : plan) st.addTensor(t.hfName(), t.hfType(), t.hfShape(), rows.hf(t));
        long total = 0;
        for (Path f : st.writeModel(dir, HF_SHARD_BYTES)) total += Files.size(f);
        try (var files = Files.list(dir)) {
            for (Path f : files.filter(f -> !f.getFileName().toString().endsWith(".safetensors")
                    && !f.getFileName().toString().endsWith(".index.json")).toList()) {
                total += Files.size(f);
            }
        }
        return total;
    }
}
