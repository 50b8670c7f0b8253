package io.flashllm.flashstore.safetensors;

import io.flashllm.flashstore.MappedFile;
import io.flashllm.flashstore.ModelFileException;
import io.flashllm.kernels.WeightTensor;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file mapped read-only once. Tensors are slices of the mapping with their shape
 * reversed into ggml order; only F32, F16 and BF16 tensors can be handed out, other dtypes are
 * validated but refused on access with a message naming the dtype.
 */
public final class SafetensorsFile implements AutoCloseable {
    private final Path path;
    private final MappedFile mapped;
    private final MemorySegment segment;
    private final SafetensorsHeader header;

    private SafetensorsFile(Path path, MappedFile mapped, MemorySegment segment) {
        this.path = path;
        this.mapped = mapped;
        this.segment = segment;
        this.header = SafetensorsHeader.parse(path, segment);
    }

    public static SafetensorsFile open(Path file) {
        MappedFile mapped = MappedFile.open(file);
        try {
            return new SafetensorsFile(file, mapped, mapped.segment());
        } catch (RuntimeException e) {
            mapped.close();
            throw e;
        }
    }

    /** Reads a safetensors image already in memory; {@code name} only labels error messages. */
    public static SafetensorsFile of(Path name, MemorySegment bytes) {
        return new SafetensorsFile(name, null, bytes);
    }

    public Path path() {
        return path;
    }

    /** Tensor names in header order. */
    public List<String> names() {
        return header.names();
    }

    public boolean contains(String name) {
        return header.tensors().containsKey(name);
    }

    /** The header entry for {@code name}, or null. */
    public SafetensorsTensorInfo info(String name) {
        return header.tensors().get(name);
    }

    public Map<String, SafetensorsTensorInfo> infos() {
        return header.tensors();
    }

    /** The {@code __metadata__} map (empty when absent). */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** File offset of the data section. */
    public long dataStart() {
        return header.dataStart();
    }

    /**
     * The tensor as a view over the mapping (shape in ggml order), or null if absent; throws
     * {@link ModelFileException} when its dtype is not F32, F16 or BF16.
     */
    public WeightTensor tensor(String name) {
        SafetensorsTensorInfo t = header.tensors().get(name);
        if (t == null) return null;
        if (t.dtype().ggmlType == null) {
            throw new ModelFileException(path, "unsupported dtype: tensor '" + name + "' is " + t.dtype()
                    + "; flashllm computes with F32, F16 and BF16 safetensors");
        }
        MemorySegment data = segment.asSlice(header.dataStart() + t.begin(), t.byteSize());
        return new WeightTensor(name, t.dtype().ggmlType, t.ggmlShape(), data);
    }

    @Override
    public void close() {
        if (mapped != null) mapped.close();
    }

    @Override
    public String toString() {
        return "safetensors " + path + " (" + header.tensors().size() + " tensors)";
    }
}
