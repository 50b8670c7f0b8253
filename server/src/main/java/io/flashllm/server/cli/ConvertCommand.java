package io.flashllm.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashllm.flashstore.bundle.ConvertOptions;
import io.flashllm.flashstore.bundle.ConvertReport;
import io.flashllm.flashstore.bundle.Converter;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.flashstore.gguf.GgufFile;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code flashllm convert}: GGUF file or HF directory → flash bundle directory. */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = {"Convert a GGUF file or Hugging Face directory into a flash bundle: attention, norms and",
                "embeddings in one resident file, each FFN neuron's up/gate row and down column stored together",
                "so that one read brings a neuron in. Run the bundle with generate/bench/serve --model DIR."})
public final class ConvertCommand implements Callable<Integer> {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PATH", description = "GGUF file or HF directory.")
    Path model;

    @Option(names = {"-o", "--out"}, required = true, paramLabel = "DIR", description = "Bundle directory to create (must not exist).")
    Path out;

    @Option(names = "--activation", paramLabel = "ACT",
            description = "FFN activation of a gated model: silu, relu or fatrelu (default: what the model declares).")
    String activation;

    @Option(names = "--fatrelu-threshold", paramLabel = "T", description = "Threshold for --activation fatrelu.")
    Float threshold;

    @Option(names = "--gates", paramLabel = "WHERE",
            description = "resident (gate matrices in DRAM, exact selection) or bundled (default: resident for ReLU kinds).")
    String gates;

    @Option(names = "--down-type", paramLabel = "TYPE", description = "Down columns as auto, F32, F16 or Q8_0 (default: auto).")
    String downType;

    @Option(names = "--min-read", paramLabel = "SIZE", description = "Smallest read (neurons are grouped up to it; default 32K).")
    String minRead;

    @Option(names = "--json", description = "Print the conversion report as JSON.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!Files.exists(model)) throw new CliErrors.UsageException("no such model file or directory: " + model);
        if (activation == null && Files.isRegularFile(model)) declaredGgufActivation();
        ConvertOptions options = options();
        ConvertReport r = Converter.convert(model, out, options);
        err.println(r);
        if (json) {
            ObjectNode j = new ObjectMapper().createObjectNode();
            j.put("out", r.out().toString());
            j.put("layers", r.layers());
            j.put("neurons_per_layer", r.neuronsPerLayer());
            j.put("neurons_per_group", r.layout().neuronsPerGroup());
            j.put("group_bytes", r.layout().groupBytes());
            j.put("gate_resident", r.gateResident());
            j.put("down_type", r.downType());
            j.put("ffn_bytes", r.ffnBytes());
            j.put("resident_bytes", r.residentBytes());
            j.put("seconds", r.millis() / 1000.0);
            o.println(j);
            o.flush();
        }
        return 0;
    }

    /**
     * A GGUF file names a ReLU-fied FFN in flashllm's keys ({@code flashllm.ffn.activation},
     * {@code flashllm.ffn.fatrelu_threshold}), which the converter's GGUF source does not read; take
     * them from the file so a sparse model stays sparse (and keeps its threshold) in the bundle.
     */
    private void declaredGgufActivation() {
        try (GgufFile g = GgufFile.open(model)) {
            String act = g.getString("flashllm.ffn.activation");
            if (act == null) return;
            activation = act;
            if (threshold == null && g.metadata().get("flashllm.ffn.fatrelu_threshold") instanceof Number t) {
                threshold = t.floatValue();
            }
        }
    }

    ConvertOptions options() {
        ConvertOptions c = ConvertOptions.defaults();
        if (activation != null) {
            FfnActivation.Kind kind = switch (activation.trim().toLowerCase(Locale.ROOT)) {
                case "silu" -> FfnActivation.Kind.GATED_SILU;
                case "relu" -> FfnActivation.Kind.GATED_RELU;
                case "fatrelu" -> FfnActivation.Kind.GATED_FATRELU;
                default -> throw new CliErrors.UsageException("--activation must be silu, relu or fatrelu, not '" + activation + "'");
            };
            if (kind == FfnActivation.Kind.GATED_FATRELU && threshold == null) {
                throw new CliErrors.UsageException("--activation fatrelu needs --fatrelu-threshold");
            }
            c = c.withActivation(new FfnActivation(kind, threshold == null ? 0f : threshold));
        } else if (threshold != null) {
            throw new CliErrors.UsageException("--fatrelu-threshold needs --activation fatrelu");
        }
        if (gates != null) {
            c = c.withGateResident(switch (gates.trim().toLowerCase(Locale.ROOT)) {
                case "resident" -> true;
                case "bundled" -> false;
                default -> throw new CliErrors.UsageException("--gates must be resident or bundled, not '" + gates + "'");
            });
        }
        if (downType != null) {
            try {
                c = c.withDownType(ConvertOptions.DownType.valueOf(downType.trim().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new CliErrors.UsageException("--down-type must be auto, F32, F16 or Q8_0, not '" + downType + "'");
            }
        }
        if (minRead != null) {
            long b = ByteSize.parse(minRead, "--min-read");
            if (b < 1 || b > Integer.MAX_VALUE) throw new CliErrors.UsageException("--min-read must be between 1 and 2G");
            c = c.withMinReadBytes((int) b);
        }
        return c;
    }
}
