package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.flashstore.gguf.GgufTensorInfo;
import io.flashllm.flashstore.writer.GgufValue;
import io.flashllm.flashstore.writer.GgufValueType;
import io.flashllm.flashstore.writer.GgufWriter;
import io.flashllm.kernels.WeightTensor;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A GGUF model as converter input. Its resident part is again a GGUF file ({@code resident.gguf})
 * with the source's metadata (tokenizer included) and types unchanged, so the ordinary GGUF loader
 * maps it; only the FFN tensors moved into bundles are left out.
 */
public final class GgufSource implements SourceModel {
    private final GgufFile gguf;
    private final java.util.function.Function<String, WeightTensor> tensors;

    public GgufSource(GgufFile gguf) {
        this.gguf = gguf;
        this.tensors = io.flashllm.flashstore.gguf.FusedTensors.split(gguf::tensor);
    }

    public static GgufSource open(Path file) {
        return new GgufSource(GgufFile.open(file));
    }

    @Override
    public String kind() {
        return "gguf";
    }

    @Override
    public String name() {
        return gguf.getString("general.name", gguf.path().getFileName().toString());
    }

    @Override
    public String architecture() {
        return gguf.getString("general.architecture", "unknown");
    }

    @Override
    public List<String> tensorNames() {
        return gguf.tensorInfos().stream().map(GgufTensorInfo::name).toList();
    }

    /** Fused q/k/v and gate/up matrices (Phi-3) appear under the separate names, as views. */
    @Override
    public WeightTensor tensor(String name) {
        return tensors.apply(name);
    }

    /** GGUF has no standard activation key; OPT-style ungated FFNs use ReLU. */
    @Override
    public FfnActivation declaredActivation() {
        return null;
    }

    @Override
    public Manifest.Tokenizer tokenizer() {
        return new Manifest.Tokenizer("gguf-metadata", BundleFormat.RESIDENT_GGUF);
    }

    @Override
    public List<Manifest.FileEntry> writeResident(Path dir, Set<String> excluded) throws IOException {
        GgufWriter w = new GgufWriter(dir.resolve(BundleFormat.RESIDENT_GGUF)).alignment(64);
        for (Map.Entry<String, Object> e : gguf.metadata().entrySet()) {
            if (e.getKey().equals("general.alignment")) continue;
            w.put(e.getKey(), typed(e.getKey(), e.getValue()));
        }
        for (GgufTensorInfo info : gguf.tensorInfos()) {
            if (excluded.contains(info.name())) continue;
            WeightTensor t = gguf.tensor(info.name());
            w.addTensor(info.name(), info.type(), info.shape(), out -> out.put(t.data()));
        }
        w.write();
        // Sections: the header (metadata + tensor infos) and each tensor's data, read back from the file.
        List<long[]> ranges = new ArrayList<>();
        List<String> names = new ArrayList<>();
        try (GgufFile written = GgufFile.open(dir.resolve(BundleFormat.RESIDENT_GGUF))) {
            ranges.add(new long[] {0, written.dataStart()});
            names.add("header");
            for (GgufTensorInfo info : written.tensorInfos()) {
                ranges.add(new long[] {written.dataStart() + info.offset(), info.byteSize()});
                names.add("tensor:" + info.name());
            }
        }
        return List.of(ResidentFiles.describe(dir, BundleFormat.RESIDENT_GGUF, ranges, names));
    }

    private GgufValue typed(String key, Object value) {
        io.flashllm.flashstore.gguf.GgufValueType t = gguf.valueType(key);
        if (t == null) return GgufValue.infer(value);
        if (t == io.flashllm.flashstore.gguf.GgufValueType.ARRAY) {
            io.flashllm.flashstore.gguf.GgufValueType et = gguf.arrayElementType(key);
            if (et == null || et == io.flashllm.flashstore.gguf.GgufValueType.ARRAY) return GgufValue.infer(value);
            return GgufValue.array(writerType(et), (List<?>) value);
        }
        return new GgufValue(writerType(t), value, null);
    }

    private static GgufValueType writerType(io.flashllm.flashstore.gguf.GgufValueType t) {
        for (GgufValueType w : GgufValueType.values()) if (w.id == t.id) return w;
        throw new IllegalArgumentException("GGUF value type " + t + " has no writer counterpart");
    }

    @Override
    public void close() {
        gguf.close();
    }
}
