package io.flashllm.engine.model;

import io.flashllm.flashstore.ModelFileException;
import io.flashllm.flashstore.ffn.ExpertRouting;
import io.flashllm.flashstore.ffn.FfnActivation;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Reads a {@link ModelConfig} from GGUF metadata. Llama-family keys are llama.cpp's
 * ({@code <arch>.embedding_length}, {@code <arch>.attention.head_count_kv}, ...). Two conventions are ours:
 * <ul>
 *   <li>ReLU-fied Llama: {@code flashllm.ffn.activation} = silu | relu | fatrelu and
 *       {@code flashllm.ffn.fatrelu_threshold} (a float) on an otherwise plain {@code llama} file.</li>
 *   <li>OPT, which llama.cpp does not run: {@code general.architecture = opt} with {@code opt.embedding_length},
 *       {@code opt.block_count}, {@code opt.feed_forward_length}, {@code opt.attention.head_count},
 *       {@code opt.context_length}, {@code opt.attention.layer_norm_epsilon} (default 1e-5),
 *       {@code opt.word_embed_proj_dim} (default embedding_length), {@code opt.layer_norm_before}
 *       (default true) and {@code opt.position_offset} (default 2). Tensor names are in {@link TensorNames}.</li>
 * </ul>
 */
public final class GgufConfigs {
    public static final String ACTIVATION_KEY = "flashllm.ffn.activation";
    public static final String FATRELU_THRESHOLD_KEY = "flashllm.ffn.fatrelu_threshold";

    private GgufConfigs() {}

    public static ModelConfig fromMetadata(Map<String, Object> metadata, Path file) {
        GgufMetadata md = new GgufMetadata(metadata, file);
        String archName = md.requireString("general.architecture");
        Architecture arch = switch (archName) {
            case "llama", "mistral", "granite", "granitemoe" -> Architecture.LLAMA;
            case "qwen2" -> Architecture.QWEN2;
            case "qwen3", "qwen3moe" -> Architecture.QWEN3;
            case "gemma3" -> Architecture.GEMMA3;
            case "gemma2" -> Architecture.GEMMA2;
            case "phi3" -> Architecture.PHI3;
            case "gpt-oss" -> Architecture.GPT_OSS;
            case "opt" -> Architecture.OPT;
            default -> throw new ModelFileException(file, "architecture '" + archName + "' is not supported (flashllm"
                    + " runs llama, mistral, granite, granitemoe, qwen2, qwen3, qwen3moe, gemma2, gemma3, phi3, gpt-oss and opt)");
        };
        String p = archName + ".";
        String name = md.string("general.name", file.getFileName() == null ? archName : file.getFileName().toString());
        int dim = md.requireInt(p + "embedding_length");
        int layers = md.requireInt(p + "block_count");
        ExpertRouting experts = experts(md, p, archName);
        // Qwen3-MoE's and gpt-oss's feed_forward_length is a dense equivalent their experts do not have; their
        // width is apart.
        boolean expertWidth = archName.equals("qwen3moe") || archName.equals("gpt-oss");
        int ffnDim = md.requireInt(p + (expertWidth ? "expert_feed_forward_length" : "feed_forward_length"));
        int heads = md.requireInt(p + "attention.head_count");
        int kvHeads = md.integer(p + "attention.head_count_kv", heads);
        int headDim = md.integer(p + "attention.key_length", heads > 0 && dim % heads == 0 ? dim / heads : 0);
        int valueDim = md.integer(p + "attention.value_length", headDim);
        if (valueDim != headDim) {
            throw new ModelFileException(file, "key width " + headDim + " differs from value width " + valueDim
                    + "; flashllm needs them equal");
        }
        int context = md.integer(p + "context_length", 2048);
        int vocab = md.integer(p + "vocab_size", 0);

        try {
            if (arch == Architecture.OPT) {
                float eps = md.real(p + "attention.layer_norm_epsilon", 1e-5f);
                int wordDim = md.integer(p + "word_embed_proj_dim", dim);
                boolean preNorm = md.bool(p + "layer_norm_before", true);
                int offset = md.integer(p + "position_offset", 2);
                return new ModelConfig(arch, name, dim, layers, ffnDim, heads, kvHeads, headDim, vocab, context, eps,
                        RopeConfig.none(), new FfnActivation(FfnActivation.Kind.RELU_NO_GATE, 0f),
                        preNorm, wordDim, offset, 0);
            }
            boolean gemma = arch == Architecture.GEMMA3 || arch == Architecture.GEMMA2;
            float eps = md.real(p + "attention.layer_norm_rms_epsilon", gemma ? 1e-6f : 1e-5f);
            RopeConfig rope = rope(md, p, arch, headDim);
            FfnActivation activation = arch == Architecture.GPT_OSS
                    ? new FfnActivation(FfnActivation.Kind.GATED_SWIGLU_OAI, 0f) : activation(md, gemma ? "gelu" : "silu");
            if (arch == Architecture.GEMMA3) return gemma3(md, p, name, dim, layers, ffnDim, heads, kvHeads, headDim,
                    vocab, context, eps, rope, activation);
            if (arch == Architecture.GEMMA2) return gemma2(md, p, name, dim, layers, ffnDim, heads, kvHeads, headDim,
                    vocab, context, eps, rope, activation);
            if (arch == Architecture.GPT_OSS) {
                // Every other layer (the even ones) attends within the window; one rotation for all.
                return new ModelConfig(arch, name, dim, layers, ffnDim, heads, kvHeads, headDim, vocab, context, eps,
                        rope, activation, true, dim, 0, md.requireInt(p + "attention.sliding_window"), 2, null,
                        (float) (1.0 / Math.sqrt(headDim)), 0f, 0f).withExperts(experts);
            }
            if (arch == Architecture.PHI3) {
                rope = new RopeConfig(rope.style(), rope.theta(), rope.rotaryDim(), rope.linearFactor(), null,
                        md.real(p + "rope.scaling.attn_factor", 1f),
                        md.integer(p + "rope.scaling.original_context_length", context));
            }
            ModelConfig c = new ModelConfig(arch, name, dim, layers, ffnDim, heads, kvHeads, headDim, vocab, context, eps,
                    rope, activation, true, dim, 0,
                    md.integer(p + "attention.sliding_window", arch == Architecture.PHI3 ? phi3Window(layers, context) : 0))
                    .withExperts(experts);
            return archName.startsWith("granite") ? granite(md, p, c) : c;
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(file, e.getMessage());
        }
    }

    /**
     * A mixture of experts as llama.cpp reads one: {@code expert_count} experts, {@code expert_used_count} run per
     * token, their weights always normalized for Mixtral and Qwen3-MoE (llama.cpp's {@code norm_w}; gpt-oss's
     * softmax over the chosen experts' scores alone comes to the same); none
     * without {@code expert_count}. Other families' experts are refused rather than run as something else.
     */
    private static ExpertRouting experts(GgufMetadata md, String p, String archName) {
        int count = md.integer(p + "expert_count", 0);
        if (count == 0) {
            if (archName.equals("qwen3moe") || archName.equals("gpt-oss")) {
                throw new ModelFileException(md.file(), p + "expert_count is missing");
            }
            return ExpertRouting.NONE;
        }
        if (!archName.equals("llama") && !archName.equals("mistral") && !archName.equals("qwen3moe")
                && !archName.equals("granitemoe") && !archName.equals("gpt-oss")) {
            throw new ModelFileException(md.file(), archName + " with experts is not supported (flashllm runs the"
                    + " mixtures of experts of llama/mixtral, granitemoe, qwen3moe and gpt-oss)");
        }
        int used = md.requireInt(p + "expert_used_count");
        try {
            return new ExpertRouting(count, used, true);
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(md.file(), e.getMessage());
        }
    }

    /**
     * Granite's scalars as llama.cpp reads them ({@code embedding_scale}, {@code residual_scale},
     * {@code logit_scale}, and {@code attention.scale} for the query-key products); each 1 (the usual
     * 1/sqrt(headDim) for the attention) when absent.
     */
    private static ModelConfig granite(GgufMetadata md, String p, ModelConfig c) {
        Multipliers m = new Multipliers(md.real(p + "embedding_scale", 1f), md.real(p + "residual_scale", 1f),
                md.real(p + "logit_scale", 1f));
        return c.withMultipliers(m, md.real(p + "attention.scale", c.attentionScale()));
    }

    private static RopeConfig rope(GgufMetadata md, String p, Architecture arch, int headDim) {
        float theta = md.real(p + "rope.freq_base", 10000f);
        int rotDim = md.integer(p + "rope.dimension_count", headDim);
        float linear = 1f;
        String scaling = md.string(p + "rope.scaling.type", "none").toLowerCase(Locale.ROOT);
        switch (scaling) {
            case "none" -> { }
            case "yarn" -> {
                return yarn(md, p, arch, theta, rotDim);
            }
            // Phi-3's LongRoPE: its factors are tensors (rope_factors_long/short), its attention factor a key.
            case "longrope", "su" -> {
                if (arch != Architecture.PHI3) {
                    throw new ModelFileException(md.file(), "rope scaling '" + scaling + "' is only read for phi3");
                }
            }
            case "linear" -> linear = md.real(p + "rope.scaling.factor", 1f);
            default -> throw new ModelFileException(md.file(), "rope scaling '" + scaling
                    + "' is not supported (none, linear and yarn are; Llama 3 factors come from rope_freqs.weight)");
        }
        // Older files name the same factor rope.scale_linear.
        if (md.has(p + "rope.scale_linear") && scaling.equals("none")) linear = md.real(p + "rope.scale_linear", 1f);
        RopeStyle style = arch == Architecture.LLAMA ? RopeStyle.INTERLEAVED : RopeStyle.HALF_SPLIT;
        return new RopeConfig(style, theta, rotDim, linear, null);
    }

    /**
     * YaRN scaling as llama.cpp reads it: {@code rope.scaling.factor}, over {@code rope.scaling.original_context_length}
     * (the training context when absent), with {@code yarn_beta_fast} 32 and {@code yarn_beta_slow} 1, the
     * extrapolation mix {@code yarn_ext_factor} 1 and the attention factor {@code yarn_attn_factor} times
     * {@code attn_factor} 1 unless the file says otherwise.
     */
    private static RopeConfig yarn(GgufMetadata md, String p, Architecture arch, float theta, int rotDim) {
        float factor = md.real(p + "rope.scaling.factor", 1f);
        if (!(factor >= 1f) || !Float.isFinite(factor)) {
            throw new ModelFileException(md.file(), p + "rope.scaling.factor " + factor + " is not a YaRN factor (>= 1)");
        }
        int original = md.integer(p + "rope.scaling.original_context_length", md.integer(p + "context_length", 2048));
        float extFactor = md.real(p + "rope.scaling.yarn_ext_factor", 1f);
        float attnFactor = md.real(p + "rope.scaling.yarn_attn_factor", 1f) * md.real(p + "rope.scaling.attn_factor", 1f);
        float[] factors = RopeConfig.yarnFreqFactors(theta, rotDim, factor, original,
                md.real(p + "rope.scaling.yarn_beta_fast", 32f), md.real(p + "rope.scaling.yarn_beta_slow", 1f), extFactor);
        RopeStyle style = arch == Architecture.LLAMA ? RopeStyle.INTERLEAVED : RopeStyle.HALF_SPLIT;
        return new RopeConfig(style, theta, rotDim, 1f, factors, RopeConfig.yarnMscale(factor, attnFactor, extFactor), 0);
    }

    /**
     * Gemma 3 as llama.cpp and Ollama read it: windowed layers ({@code attention.sliding_window}) rotating
     * with base {@code rope.local.freq_base} (10,000) and no scaling, and a global layer every sixth (or as
     * Ollama's {@code attention.sliding_window_pattern} marks them, true for windowed), which uses
     * {@code rope.freq_base} (Ollama's older files: {@code rope.global.freq_base}) and any scaling; the
     * query-key scale 1/sqrt(headDim), except for the 27B (62 layers), trained with 1/sqrt(dim / heads).
     */
    private static ModelConfig gemma3(GgufMetadata md, String p, String name, int dim, int layers, int ffnDim,
                                      int heads, int kvHeads, int headDim, int vocab, int context, float eps,
                                      RopeConfig rope, FfnActivation activation) {
        int window = md.requireInt(p + "attention.sliding_window");
        if (!md.has(p + "rope.freq_base")) {
            rope = new RopeConfig(rope.style(), md.real(p + "rope.global.freq_base", 1e6f), rope.rotaryDim(),
                    rope.linearFactor(), rope.freqFactors());
        }
        RopeConfig local = new RopeConfig(rope.style(), md.real(p + "rope.local.freq_base", 10000f), rope.rotaryDim(),
                1f, null);
        float scale = (float) (1.0 / Math.sqrt(layers == 62 ? (double) dim / heads : headDim));
        return new ModelConfig(Architecture.GEMMA3, name, dim, layers, ffnDim, heads, kvHeads, headDim, vocab, context,
                eps, rope, activation, true, dim, 0, window, globalEvery(md, p + "attention.sliding_window_pattern", layers),
                local, scale, 0f, 0f);
    }

    /**
     * Phi-3's window where an older file does not say, as llama.cpp has it: 2,047 for the 4k-context mini and
     * medium, none in effect for the 128k ones.
     */
    private static int phi3Window(int layers, int context) {
        if ((layers == 32 || layers == 40) && context == 4096) return 2047;
        return 0;
    }

    /**
     * Gemma 2 as llama.cpp reads it: even layers windowed ({@code attention.sliding_window}, 4,096 when
     * absent), one rotation for all; attention scores soft-capped at {@code attn_logit_softcapping} (50) and
     * logits at {@code final_logit_softcapping} (30); the query-key scale 1/sqrt(headDim), except for the 27B
     * (46 layers), trained with 1/sqrt(dim / heads).
     */
    private static ModelConfig gemma2(GgufMetadata md, String p, String name, int dim, int layers, int ffnDim,
                                      int heads, int kvHeads, int headDim, int vocab, int context, float eps,
                                      RopeConfig rope, FfnActivation activation) {
        int window = md.integer(p + "attention.sliding_window", 4096);
        float scale = (float) (1.0 / Math.sqrt(layers == 46 ? (double) dim / heads : headDim));
        return new ModelConfig(Architecture.GEMMA2, name, dim, layers, ffnDim, heads, kvHeads, headDim, vocab, context,
                eps, rope, activation, true, dim, 0, window, 2, null, scale,
                md.real(p + "attn_logit_softcapping", 50f), md.real(p + "final_logit_softcapping", 30f));
    }

    /** The interval of global layers a per-layer pattern (true: windowed) follows; 6 without one. */
    private static int globalEvery(GgufMetadata md, String key, int layers) {
        java.util.List<?> pattern = md.list(key);
        if (pattern == null) return 6;
        int first = pattern.indexOf(Boolean.FALSE);
        int every = first < 0 ? 0 : first + 1;
        boolean periodic = pattern.size() == layers;
        for (int l = 0; l < pattern.size() && periodic; l++) {
            boolean windowed = every == 0 || (l + 1) % every != 0;
            periodic = Boolean.valueOf(windowed).equals(pattern.get(l));
        }
        if (!periodic || every == 0) {
            throw new ModelFileException(md.file(), key + " " + pattern + " is not a global layer every few layers,"
                    + " which is all flashllm runs");
        }
        return every;
    }

    private static FfnActivation activation(GgufMetadata md, String dflt) {
        String act = md.string(ACTIVATION_KEY, dflt).toLowerCase(Locale.ROOT);
        float threshold = md.real(FATRELU_THRESHOLD_KEY, 0f);
        return Activations.parse(act, threshold, true, md.file());
    }
}
