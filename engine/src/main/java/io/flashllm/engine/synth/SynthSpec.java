package io.flashllm.engine.synth;

/**
 * What to synthesize. {@code sparsity} (llama-relu only, may be null) asks for a FATReLU threshold
 * under which that fraction of gate pre-activations falls; without it llama-relu uses plain ReLU.
 */
public record SynthSpec(
        SynthArch arch,
        int dim,
        int layers,
        int heads,
        int kvHeads,
        int ffn,
        int vocab,
        SynthType type,
        SynthFormat format,
        long seed,
        Float sparsity,
        int contextLength,
        String name,
        int headDim,
        int experts,
        int expertsUsed) {

    /** Smallest vocabulary synth builds: 256 byte tokens, specials and a few merges/pieces. */
    public static final int MIN_VOCAB = 300;

    /** Heads of dim / heads. */
    public SynthSpec(SynthArch arch, int dim, int layers, int heads, int kvHeads, int ffn, int vocab, SynthType type,
                     SynthFormat format, long seed, Float sparsity, int contextLength, String name) {
        this(arch, dim, layers, heads, kvHeads, ffn, vocab, type, format, seed, sparsity, contextLength, name, 0);
    }

    /** One FFN per layer. */
    public SynthSpec(SynthArch arch, int dim, int layers, int heads, int kvHeads, int ffn, int vocab, SynthType type,
                     SynthFormat format, long seed, Float sparsity, int contextLength, String name, int headDim) {
        this(arch, dim, layers, heads, kvHeads, ffn, vocab, type, format, seed, sparsity, contextLength, name, headDim,
                0, 0);
    }

    public SynthSpec {
        require(arch != null && type != null && format != null, "architecture, type and format are required");
        require(dim > 0 && layers > 0 && heads > 0 && ffn > 0, "dim, layers, heads and ffn must be positive");
        require(headDim >= 0, "head width must not be negative, got " + headDim);
        require(headDim == 0 || arch == SynthArch.QWEN3 || arch.gemma() || arch == SynthArch.GPT_OSS,
                "--head-dim applies to qwen3, gemma2, gemma3 and gpt-oss (the others' heads are dim / heads wide)");
        if (headDim == 0) {
            require(dim % heads == 0, "dim " + dim + " is not a multiple of heads " + heads);
            headDim = dim / heads;
        }
        if (kvHeads <= 0) kvHeads = heads;
        require(heads % kvHeads == 0, "heads " + heads + " is not a multiple of kv-heads " + kvHeads);
        require(arch.llamaFamily() || kvHeads == heads, "OPT has no grouped-query attention: kv-heads must equal heads");
        require(!arch.llamaFamily() || headDim % 2 == 0, "head size " + headDim + " must be even for RoPE");
        require(arch != SynthArch.PHI3 || format == SynthFormat.GGUF, "phi3 is written as GGUF only");
        require(arch != SynthArch.GRANITE || format == SynthFormat.GGUF, "granite is written as GGUF only");
        require(arch != SynthArch.GPT_OSS || experts > 0, "gpt-oss is a mixture of experts: give --experts and --experts-used");
        require(!arch.gemma() || format == SynthFormat.GGUF,
                arch.cliName + " is written as GGUF only (flashllm reads Gemma from GGUF files)");
        require(experts >= 0 && expertsUsed >= 0, "expert counts must not be negative");
        if (experts > 0) {
            require(arch == SynthArch.LLAMA || arch == SynthArch.QWEN3 || arch == SynthArch.GRANITE
                            || arch == SynthArch.GPT_OSS,
                    "--experts applies to llama (Mixtral), qwen3 (Qwen3-MoE), granite (Granite MoE) and gpt-oss");
            require(expertsUsed >= 1 && expertsUsed <= experts,
                    "--experts-used must be between 1 and --experts (" + experts + "), got " + expertsUsed);
            require(format == SynthFormat.GGUF, "a mixture of experts is written as GGUF only");
        } else {
            require(expertsUsed == 0, "--experts-used needs --experts");
        }
        require(type != SynthType.MXFP4 || experts > 0,
                "MXFP4 is llama.cpp's MXFP4_MOE, which stores only the experts so: give --experts (or choose another type)");
        require(vocab >= MIN_VOCAB, "vocab must be at least " + MIN_VOCAB);
        require(contextLength > 0, "context length must be positive");
        require(format != SynthFormat.HF || type.safetensors(),
                "Hugging Face format holds F32, F16 or BF16 weights, not " + type);
        if (sparsity != null) {
            require(arch == SynthArch.LLAMA_RELU, "--sparsity applies to llama-relu only");
            require(sparsity > 0 && sparsity < 1, "sparsity must be between 0 and 1 (exclusive), got " + sparsity);
        }
        if (name == null || name.isBlank()) {
            name = "synth-" + arch.cliName + (experts > 0 ? "-" + experts + "e" : "") + "-" + dim + "x" + layers + "-"
                    + type.name().toLowerCase(java.util.Locale.ROOT);
        }
        // Element counts must fit the int-indexed row buffers the writer uses.
        require((long) Math.max(dim, ffn) * 4 < Integer.MAX_VALUE / 2, "dim/ffn too large");
    }

    /** {@code general.architecture} of the GGUF file: the family's, or qwen3moe / granitemoe with experts. */
    public String ggufArch() {
        if (experts > 0 && arch == SynthArch.QWEN3) return "qwen3moe";
        if (experts > 0 && arch == SynthArch.GRANITE) return "granitemoe";
        return arch.ggufArch();
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    /** The built-in demo model: small enough to synthesize in a second, shaped like a real Llama. */
    public static SynthSpec demo() {
        return new SynthSpec(SynthArch.LLAMA, 256, 4, 8, 4, 768, 2000, SynthType.Q8_0, SynthFormat.GGUF,
                42L, null, 2048, "flashllm-demo (random weights)");
    }
}
