package io.flashllm.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashllm.engine.synth.Synth;
import io.flashllm.engine.synth.SynthArch;
import io.flashllm.engine.synth.SynthFormat;
import io.flashllm.engine.synth.SynthResult;
import io.flashllm.engine.synth.SynthSpec;
import io.flashllm.engine.synth.SynthType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code flashllm synth}: write a model with deterministic random weights, for tests and benchmarks. */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = {"Write a model with deterministic random weights (same seed, same bytes).",
                "GGUF files use llama.cpp's names and keys, so llama.cpp can run them too."})
public final class SynthCommand implements Callable<Integer> {
    @Option(names = "--arch", defaultValue = "llama", paramLabel = "ARCH",
            description = "llama, llama-relu, qwen3, gemma2, gemma3, phi3, granite, gpt-oss (those five GGUF only) or opt"
                    + " (default: ${DEFAULT-VALUE}).")
    String arch;
    @Option(names = "--dim", defaultValue = "256", description = "Hidden size (default: ${DEFAULT-VALUE}).")
    int dim;
    @Option(names = "--layers", defaultValue = "4", description = "Transformer blocks (default: ${DEFAULT-VALUE}).")
    int layers;
    @Option(names = "--heads", defaultValue = "8", description = "Attention heads (default: ${DEFAULT-VALUE}).")
    int heads;
    @Option(names = "--kv-heads", description = "Key/value heads for grouped-query attention (default: --heads).")
    Integer kvHeads;
    @Option(names = "--head-dim", description = "qwen3, gemma2, gemma3, gpt-oss: width of a head when not dim / heads"
            + " (Qwen3 0.6B: 128 on dim 1024 with 16 heads; Gemma 3 1B: 256 on 1152 with 4; gpt-oss: 64 on 2880 with 64).")
    Integer headDim;
    @Option(names = "--ffn", description = "FFN width, of each expert with --experts (default: 8/3 dim rounded up to 256 as"
            + " Llama does, 4 dim for OPT).")
    Integer ffn;
    @Option(names = "--experts", defaultValue = "0", description = "llama, qwen3, granite, gpt-oss: a mixture of this many"
            + " experts per layer (Mixtral: 8; Qwen3-30B-A3B: 128; gpt-oss-20b: 32), written as GGUF llama, qwen3moe,"
            + " granitemoe or gpt-oss (default: none; gpt-oss needs it).")
    int experts;
    @Option(names = "--experts-used", description = "Experts each token runs (Mixtral: 2; Qwen3-MoE: 8; gpt-oss: 4; default: 2"
            + " with --experts).")
    Integer expertsUsed;
    @Option(names = "--vocab", defaultValue = "2000", description = "Vocabulary size (default: ${DEFAULT-VALUE}).")
    int vocab;
    @Option(names = "--type", defaultValue = "Q8_0", paramLabel = "TYPE",
            description = "F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K_S, Q3_K_M, Q3_K_L, Q4_K_M, Q5_K_S, Q5_K_M,"
                    + " IQ4_NL, IQ4_XS or MXFP4 (gpt-oss's files:"
                    + " experts MXFP4, the rest Q8_0; needs --experts) (default: ${DEFAULT-VALUE}; hf: F32/F16/BF16).")
    String type;
    @Option(names = "--format", defaultValue = "gguf", description = "gguf (a file) or hf (a directory) (default: ${DEFAULT-VALUE}).")
    String format;
    @Option(names = {"-o", "--out"}, required = true, paramLabel = "PATH", description = "Output file (gguf) or directory (hf).")
    Path out;
    @Option(names = "--seed", defaultValue = "42", description = "Weight seed (default: ${DEFAULT-VALUE}).")
    long seed;
    @Option(names = "--sparsity", paramLabel = "S",
            description = {"llama-relu: pick the FATReLU threshold so that this fraction of gate activations is cut (e.g. 0.9),",
                    "measured on random RMS-normalized hidden states through every layer's gate weights."})
    Float sparsity;
    @Option(names = "--context", defaultValue = "2048", description = "Context length the model declares (default: ${DEFAULT-VALUE}).")
    int context;
    @Option(names = "--name", description = "general.name / model id (default: derived from the shape).")
    String name;
    @Option(names = {"-t", "--threads"}, description = "Worker threads (default: all cores).")
    Integer threads;
    @Option(names = "--json", description = "Print a JSON summary on standard output.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        SynthSpec s;
        try {
            SynthArch a = SynthArch.parse(arch);
            int f = ffn != null ? ffn : a.llamaFamily() ? (int) ((8L * dim / 3 + 255) / 256 * 256) : 4 * dim;
            s = new SynthSpec(a, dim, layers, heads, kvHeads == null ? heads : kvHeads, f, vocab,
                    SynthType.parse(type), SynthFormat.parse(format), seed, sparsity, context, name,
                    headDim == null ? 0 : headDim, experts,
                    expertsUsed != null ? expertsUsed : experts > 0 ? Math.min(2, experts) : 0);
        } catch (IllegalArgumentException e) {
            throw new CliErrors.UsageException(e.getMessage());
        }
        int n = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        if (n < 1) throw new CliErrors.UsageException("--threads must be at least 1, got " + n);
        SynthResult r = Synth.synthesize(s, out, n);
        err.printf(Locale.ROOT, "wrote %s: %s %s, %,d parameters, %.1f MiB in %.2f s%n", r.path(), s.arch().cliName,
                s.type(), r.parameters(), r.bytes() / 1048576.0, r.seconds());
        if (r.fatreluThreshold() != null) {
            err.printf(Locale.ROOT, "FATReLU threshold %.5f (target sparsity %.3f)%n", r.fatreluThreshold(), s.sparsity());
        }
        if (json) {
            ObjectNode j = new ObjectMapper().createObjectNode();
            j.put("path", r.path().toString());
            j.put("arch", s.arch().cliName);
            j.put("type", s.type().name());
            j.put("format", s.format().name().toLowerCase(Locale.ROOT));
            j.put("bytes", r.bytes());
            j.put("tensors", r.tensors());
            j.put("parameters", r.parameters());
            j.put("seconds", r.seconds());
            if (r.fatreluThreshold() != null) j.put("fatrelu_threshold", r.fatreluThreshold());
            o.println(j);
            o.flush();
        }
        return 0;
    }
}
