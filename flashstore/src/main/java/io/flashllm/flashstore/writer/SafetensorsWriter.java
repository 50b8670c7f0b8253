package io.flashllm.flashstore.writer;

import io.flashllm.kernels.GgmlType;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes safetensors files: an 8-byte little-endian header length, a JSON header (dtype, shape,
 * data_offsets per tensor, padded with spaces so the data starts 8-byte aligned), then the tensors'
 * bytes back to back. Shapes are given in safetensors (row-major, outermost first) order.
 * Tensor data is streamed from {@link TensorSource}s in declaration order.
 *
 * <p>{@link #writeModel} writes a Hugging Face model directory's weights: one {@code model.safetensors}
 * when they fit in one shard, otherwise {@code model-0000i-of-0000n.safetensors} files plus
 * {@code model.safetensors.index.json} mapping every tensor to its shard.
 */
public final class SafetensorsWriter {
    public static final String SINGLE_FILE = "model.safetensors";
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private record Tensor(String name, GgmlType dtype, long[] shape, long bytes, TensorSource source) {}

    private final List<Tensor> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private final Map<String, String> fileMetadata = new LinkedHashMap<>();

    public SafetensorsWriter() {
        fileMetadata.put("format", "pt");
    }

    /** A string entry of the header's {@code __metadata__} object. */
    public SafetensorsWriter metadata(String key, String value) {
        fileMetadata.put(key, value);
        return this;
    }

    /** Declares a tensor of dtype F32, F16 or BF16 with a row-major shape (outermost first). */
    public SafetensorsWriter addTensor(String name, GgmlType dtype, long[] shape, TensorSource source) {
        if (name == null || name.isEmpty() || name.equals("__metadata__")) {
            throw new IllegalArgumentException("bad tensor name: " + name);
        }
        if (!names.add(name)) throw new IllegalArgumentException("duplicate tensor " + name);
        if (dtype != GgmlType.F32 && dtype != GgmlType.F16 && dtype != GgmlType.BF16) {
            throw new IllegalArgumentException("safetensors holds F32, F16 or BF16 here, not " + dtype);
        }
        long elements = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("tensor " + name + ": negative dimension " + d);
            elements = Math.multiplyExact(elements, d);
        }
        tensors.add(new Tensor(name, dtype, shape.clone(), dtype.bytesFor(elements), source));
        return this;
    }

    /** Declares a small tensor from F32 values (row-major), encoded to {@code dtype} when written. */
    public SafetensorsWriter addTensor(String name, GgmlType dtype, long[] shape, float[] values) {
        float[] copy = values.clone();
        long elements = 1;
        for (long d : shape) elements *= d;
        if (elements != copy.length) {
            throw new IllegalArgumentException("tensor " + name + ": " + copy.length + " values for " + elements + " elements");
        }
        return addTensor(name, dtype, shape, out -> out.put(ByteBuffer.wrap(Quantizer.quantize(dtype, copy))));
    }

    /** Total tensor bytes declared so far. */
    public long dataBytes() {
        return tensors.stream().mapToLong(Tensor::bytes).sum();
    }

    /** Writes every declared tensor into one file. */
    public void writeFile(Path file) throws IOException {
        writeShard(file, tensors);
    }

    /**
     * Writes the tensors into {@code dir}: a single {@value #SINGLE_FILE} when their data fits in
     * {@code maxShardBytes}, otherwise numbered shards of at most that size (a tensor larger than
     * the limit gets a shard of its own) and {@value #INDEX_FILE}. Returns the files written.
     */
    public List<Path> writeModel(Path dir, long maxShardBytes) throws IOException {
        if (maxShardBytes <= 0) throw new IllegalArgumentException("shard size must be positive");
        DiskSpace.require(dir.resolve(SINGLE_FILE), dataBytes());
        Files.createDirectories(dir);
        List<List<Tensor>> shards = new ArrayList<>();
        List<Tensor> current = new ArrayList<>();
        long currentBytes = 0;
        for (Tensor t : tensors) {
            if (!current.isEmpty() && currentBytes + t.bytes > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(t);
            currentBytes += t.bytes;
        }
        if (!current.isEmpty() || shards.isEmpty()) shards.add(current);

        List<Path> written = new ArrayList<>();
        if (shards.size() == 1) {
            Path f = dir.resolve(SINGLE_FILE);
            writeShard(f, shards.getFirst());
            written.add(f);
            return written;
        }
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (int i = 0; i < shards.size(); i++) {
            String name = String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            Path f = dir.resolve(name);
            writeShard(f, shards.get(i));
            written.add(f);
            for (Tensor t : shards.get(i)) weightMap.put(t.name, name);
        }
        Path index = dir.resolve(INDEX_FILE);
        Files.writeString(index, indexJson(dataBytes(), weightMap), StandardCharsets.UTF_8);
        written.add(index);
        return written;
    }

    private static String indexJson(long totalSize, Map<String, String> weightMap) {
        StringBuilder b = new StringBuilder();
        b.append("{\n  \"metadata\": {\n    \"total_size\": ").append(totalSize).append("\n  },\n  \"weight_map\": {");
        String sep = "\n";
        for (var e : weightMap.entrySet()) {
            b.append(sep).append("    ").append(JsonText.quote(e.getKey())).append(": ").append(JsonText.quote(e.getValue()));
            sep = ",\n";
        }
        return b.append("\n  }\n}\n").toString();
    }

    private void writeShard(Path file, List<Tensor> shard) throws IOException {
        byte[] header = headerJson(shard).getBytes(StandardCharsets.UTF_8);
        int padded = (int) GgufWriter.alignUp(8 + header.length, 8) - 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(header);
        while (head.hasRemaining()) head.put((byte) ' ');
        head.flip();

        long bytes = head.remaining();
        for (Tensor t : shard) bytes = Math.addExact(bytes, t.bytes);
        DiskSpace.require(file, bytes);
        Path tmp = GgufWriter.partialFile(file);
        PartialOutputs.writing(tmp);
        try (SequentialOutput out = new SequentialOutput(tmp)) {
            out.put(head);
            for (Tensor t : shard) {
                long start = out.position();
                t.source.writeTo(out);
                long got = out.position() - start;
                if (got != t.bytes) {
                    throw new IllegalStateException("tensor " + t.name + " (" + t.dtype + ") should take "
                            + t.bytes + " bytes but its source wrote " + got);
                }
            }
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            PartialOutputs.done(tmp);
            throw e;
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        PartialOutputs.done(tmp);
    }

    private String headerJson(List<Tensor> shard) {
        StringBuilder b = new StringBuilder("{");
        b.append("\"__metadata__\":{");
        String sep = "";
        for (var e : fileMetadata.entrySet()) {
            b.append(sep).append(JsonText.quote(e.getKey())).append(':').append(JsonText.quote(e.getValue()));
            sep = ",";
        }
        b.append('}');
        long offset = 0;
        for (Tensor t : shard) {
            b.append(',').append(JsonText.quote(t.name)).append(":{\"dtype\":\"").append(t.dtype.name())
                    .append("\",\"shape\":[");
            for (int i = 0; i < t.shape.length; i++) b.append(i == 0 ? "" : ",").append(t.shape[i]);
            b.append("],\"data_offsets\":[").append(offset).append(',').append(offset + t.bytes).append("]}");
            offset += t.bytes;
        }
        return b.append('}').toString();
    }
}
