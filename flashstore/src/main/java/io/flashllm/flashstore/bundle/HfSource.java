package io.flashllm.flashstore.bundle;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.flashstore.hf.HfModelDir;
import io.flashllm.flashstore.safetensors.SafetensorsFile;
import io.flashllm.flashstore.safetensors.SafetensorsTensorInfo;
import io.flashllm.flashstore.writer.SafetensorsWriter;
import io.flashllm.kernels.WeightTensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * A Hugging Face model directory as converter input. The bundle keeps the same shape: resident
 * tensors in {@code model.safetensors} beside copies of the config and tokenizer files, so the
 * bundle directory opens as an HF directory whose FFN weights live in the bundles.
 */
public final class HfSource implements SourceModel {
    /** Small files carried over unchanged when present. */
    static final List<String> COPIED = List.of("config.json", "generation_config.json", "tokenizer.json",
            "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model");

    private final HfModelDir hf;

    public HfSource(HfModelDir hf) {
        this.hf = hf;
    }

    public static HfSource open(Path dir) {
        return new HfSource(HfModelDir.open(dir));
    }

    @Override
    public String kind() {
        return "hf";
    }

    @Override
    public String name() {
        return hf.dir().getFileName().toString();
    }

    @Override
    public String architecture() {
        JsonNode t = hf.config().get("model_type");
        return t == null ? "unknown" : t.asText();
    }

    @Override
    public List<String> tensorNames() {
        return hf.tensorNames();
    }

    @Override
    public WeightTensor tensor(String name) {
        return hf.contains(name) ? hf.tensor(name) : null;
    }

    /** From {@code hidden_act} (or OPT's {@code activation_function}) in config.json. */
    @Override
    public FfnActivation declaredActivation() {
        JsonNode c = hf.config();
        JsonNode act = c.has("hidden_act") ? c.get("hidden_act") : c.get("activation_function");
        if (act == null || !act.isTextual()) return null;
        boolean gated = !FfnNames.detect(hf::contains).isEmpty() && FfnNames.detect(hf::contains).getFirst().gate() != null;
        String a = act.asText().toLowerCase(Locale.ROOT);
        float threshold = c.has("hidden_act_param") ? (float) c.get("hidden_act_param").asDouble() : 0f;
        return switch (a) {
            case "relu" -> new FfnActivation(gated ? FfnActivation.Kind.GATED_RELU : FfnActivation.Kind.RELU_NO_GATE, 0f);
            case "fatrelu" -> new FfnActivation(FfnActivation.Kind.GATED_FATRELU, threshold);
            case "silu", "swish" -> gated ? new FfnActivation(FfnActivation.Kind.GATED_SILU, 0f) : null;
            case "gelu", "gelu_pytorch_tanh", "gelu_tanh" -> gated ? new FfnActivation(FfnActivation.Kind.GATED_GELU, 0f) : null;
            default -> null;
        };
    }

    @Override
    public Manifest.Tokenizer tokenizer() {
        return new Manifest.Tokenizer("tokenizer.json", hf.tokenizerJson() == null ? null : "tokenizer.json");
    }

    @Override
    public List<Manifest.FileEntry> writeResident(Path dir, Set<String> excluded) throws IOException {
        SafetensorsWriter w = new SafetensorsWriter();
        for (String name : hf.tensorNames()) {
            if (excluded.contains(name)) continue;
            WeightTensor t = hf.tensor(name);
            long[] g = t.shape();
            long[] rowMajor = new long[g.length];
            for (int i = 0; i < g.length; i++) rowMajor[i] = g[g.length - 1 - i];
            w.addTensor(name, t.type(), rowMajor, out -> out.put(t.data()));
        }
        Path st = dir.resolve(BundleFormat.RESIDENT_SAFETENSORS);
        w.writeFile(st);
        List<long[]> ranges = new ArrayList<>();
        List<String> names = new ArrayList<>();
        try (SafetensorsFile f = SafetensorsFile.open(st)) {
            ranges.add(new long[] {0, f.dataStart()});
            names.add("header");
            for (SafetensorsTensorInfo info : f.infos().values()) {
                ranges.add(new long[] {f.dataStart() + info.begin(), info.byteSize()});
                names.add("tensor:" + info.name());
            }
        }
        List<Manifest.FileEntry> files = new ArrayList<>();
        files.add(ResidentFiles.describe(dir, BundleFormat.RESIDENT_SAFETENSORS, ranges, names));
        for (String c : COPIED) {
            Path from = hf.dir().resolve(c);
            if (Files.isRegularFile(from)) files.add(ResidentFiles.copy(from, dir, c));
        }
        return files;
    }

    @Override
    public void close() {
        hf.close();
    }
}
