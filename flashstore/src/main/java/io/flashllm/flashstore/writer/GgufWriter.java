package io.flashllm.flashstore.writer;

import io.flashllm.kernels.GgmlType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a GGUF v3 file: header, typed metadata, tensor infos, then each tensor's data at an
 * aligned offset. Metadata and tensor declarations are collected first (the header must list every
 * tensor's offset); {@link #write()} then streams the data, asking each {@link TensorSource} for its
 * bytes in declaration order, so no more than one buffer of tensor data is in memory at a time.
 *
 * <p>The file is written to a temporary sibling and moved into place when complete, so a failed or
 * interrupted write never leaves a truncated model under the target name.
 */
public final class GgufWriter {
    public static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
    public static final int VERSION = 3;
    public static final int DEFAULT_ALIGNMENT = 32;
    /** ggml keeps tensor names in a 64-byte buffer with a terminating zero. */
    public static final int MAX_TENSOR_NAME_BYTES = 63;
    public static final int MAX_DIMS = 4;

    private record Tensor(String name, GgmlType type, long[] shape, long bytes, TensorSource source) {}

    private final Path file;
    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private final Set<String> tensorNames = new LinkedHashSet<>();
    private int alignment = DEFAULT_ALIGNMENT;
    private boolean written;

    public GgufWriter(Path file) {
        this.file = file;
    }

    /** Sets the data alignment (a power of two) and records it as {@code general.alignment}. */
    public GgufWriter alignment(int alignment) {
        if (alignment <= 0 || Integer.bitCount(alignment) != 1) {
            throw new IllegalArgumentException("alignment must be a power of two, got " + alignment);
        }
        this.alignment = alignment;
        metadata.put("general.alignment", GgufValue.u32(alignment));
        return this;
    }

    public int alignment() {
        return alignment;
    }

    /** Adds or replaces a metadata entry; entries keep the order they were first put in. */
    public GgufWriter put(String key, GgufValue value) {
        if (key == null || key.isEmpty()) throw new IllegalArgumentException("metadata key must not be empty");
        if (key.equals("general.alignment")) {
            long a = ((Number) value.value()).longValue();
            if (value.type() != GgufValueType.UINT32 || a <= 0 || Long.bitCount(a) != 1) {
                throw new IllegalArgumentException("general.alignment must be a u32 power of two, got " + value);
            }
            alignment = (int) a;
        }
        metadata.put(key, value);
        return this;
    }

    public GgufWriter putString(String key, String v) { return put(key, GgufValue.string(v)); }
    public GgufWriter putU32(String key, long v) { return put(key, GgufValue.u32(v)); }
    public GgufWriter putI32(String key, int v) { return put(key, GgufValue.i32(v)); }
    public GgufWriter putF32(String key, float v) { return put(key, GgufValue.f32(v)); }
    public GgufWriter putBool(String key, boolean v) { return put(key, GgufValue.bool(v)); }

    public GgufWriter putArray(String key, GgufValueType elementType, List<?> values) {
        return put(key, GgufValue.array(elementType, values));
    }

    /** Adds every entry, typing plain Java values with {@link GgufValue#infer}. */
    public GgufWriter putAll(Map<String, ?> entries) {
        entries.forEach((k, v) -> put(k, GgufValue.infer(v)));
        return this;
    }

    /**
     * Declares a tensor. {@code shape} is in ggml order (shape[0] is the contiguous dimension), and
     * {@code source} must produce exactly the bytes that shape takes in {@code type}.
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, TensorSource source) {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("tensor name must not be empty");
        if (name.getBytes(StandardCharsets.UTF_8).length > MAX_TENSOR_NAME_BYTES) {
            throw new IllegalArgumentException("tensor name longer than " + MAX_TENSOR_NAME_BYTES + " bytes: " + name);
        }
        if (!tensorNames.add(name)) throw new IllegalArgumentException("duplicate tensor " + name);
        if (shape.length == 0 || shape.length > MAX_DIMS) {
            throw new IllegalArgumentException("tensor " + name + ": GGUF tensors have 1 to " + MAX_DIMS + " dimensions");
        }
        long elements = 1;
        for (long d : shape) {
            if (d <= 0) throw new IllegalArgumentException("tensor " + name + ": dimension " + d + " is not positive");
            elements = Math.multiplyExact(elements, d);
        }
        if (shape[0] % type.blockSize != 0) {
            throw new IllegalArgumentException("tensor " + name + ": row length " + shape[0]
                    + " is not a multiple of " + type + "'s block of " + type.blockSize);
        }
        tensors.add(new Tensor(name, type, shape.clone(), type.bytesFor(elements), source));
        return this;
    }

    /**
     * Declares a small tensor from F32 values, encoded to {@code type} when written (for tests and
     * tiny models; large tensors should stream through a {@link TensorSource}). {@code values} is
     * in file order: row after row of {@code shape[0]} values.
     */
    public GgufWriter addTensor(String name, GgmlType type, long[] shape, float[] values) {
        float[] copy = values.clone();
        long elements = 1;
        for (long d : shape) elements *= d;
        if (elements != copy.length) {
            throw new IllegalArgumentException("tensor " + name + ": " + copy.length + " values for " + elements + " elements");
        }
        return addTensor(name, type, shape, out -> out.put(java.nio.ByteBuffer.wrap(Quantizer.quantize(type, copy))));
    }

    /** Writes the whole file; can be called once. */
    public void write() throws IOException {
        if (written) throw new IllegalStateException("GGUF file already written");
        written = true;
        if (!metadata.containsKey("general.alignment") && alignment != DEFAULT_ALIGNMENT) {
            metadata.put("general.alignment", GgufValue.u32(alignment));
        }
        long dataBytes = 0;
        for (Tensor t : tensors) dataBytes = Math.addExact(alignUp(dataBytes, alignment), t.bytes);
        DiskSpace.require(file, dataBytes);
        Path tmp = partialFile(file);
        PartialOutputs.writing(tmp);
        try (SequentialOutput out = new SequentialOutput(tmp)) {
            writeHeader(out);
            long dataStart = out.position();
            for (Tensor t : tensors) {
                long start = out.position();
                t.source.writeTo(out);
                long got = out.position() - start;
                if (got != t.bytes) {
                    throw new IllegalStateException("tensor " + t.name + " (" + t.type + ") should take "
                            + t.bytes + " bytes but its source wrote " + got);
                }
                out.padTo(alignment);
            }
            if (tensors.isEmpty()) out.padTo(alignment);
            assert dataStart % alignment == 0;
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            PartialOutputs.done(tmp);
            throw e;
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        PartialOutputs.done(tmp);
    }

    private void writeHeader(SequentialOutput out) throws IOException {
        out.putInt(MAGIC);
        out.putInt(VERSION);
        out.putLong(tensors.size());
        out.putLong(metadata.size());
        for (var e : metadata.entrySet()) {
            out.putGgufString(e.getKey());
            out.putInt(e.getValue().type().id);
            writeValue(out, e.getValue());
        }
        long offset = 0;
        for (Tensor t : tensors) {
            out.putGgufString(t.name);
            out.putInt(t.shape.length);
            for (long d : t.shape) out.putLong(d);
            out.putInt(t.type.ggmlId);
            out.putLong(offset);
            offset = alignUp(offset + t.bytes, alignment);
        }
        out.padTo(alignment);
    }

    private static void writeValue(SequentialOutput out, GgufValue v) throws IOException {
        if (v.type() == GgufValueType.ARRAY) {
            List<?> list = (List<?>) v.value();
            out.putInt(v.elementType().id);
            out.putLong(list.size());
            for (Object e : list) {
                if (v.elementType() == GgufValueType.ARRAY) {
                    GgufValue inner = (GgufValue) e;
                    writeValue(out, inner);
                } else {
                    writeScalar(out, v.elementType(), e);
                }
            }
        } else {
            writeScalar(out, v.type(), v.value());
        }
    }

    private static void writeScalar(SequentialOutput out, GgufValueType t, Object v) throws IOException {
        switch (t) {
            case UINT8, INT8 -> out.putByte(((Number) v).intValue());
            case UINT16, INT16 -> out.putShort(((Number) v).intValue());
            case UINT32, INT32 -> out.putInt((int) ((Number) v).longValue());
            case UINT64, INT64 -> out.putLong(((Number) v).longValue());
            case FLOAT32 -> out.putFloat(((Number) v).floatValue());
            case FLOAT64 -> out.putDouble(((Number) v).doubleValue());
            case BOOL -> out.putByte((Boolean) v ? 1 : 0);
            case STRING -> out.putGgufString((String) v);
            case ARRAY -> throw new IllegalStateException("arrays are written by writeValue");
        }
    }

    /**
     * A fresh temporary file next to {@code file}: the name is unique so that two processes writing
     * the same target (say, two first runs of the demo) do not write into each other's file.
     */
    static Path partialFile(Path file) {
        Path abs = file.toAbsolutePath();
        // Not Files.createTempFile: its owner-only permissions would carry over to the model file.
        return abs.resolveSibling(abs.getFileName() + "." + ProcessHandle.current().pid() + "."
                + PARTIAL_COUNTER.incrementAndGet() + ".partial");
    }

    private static final java.util.concurrent.atomic.AtomicLong PARTIAL_COUNTER = new java.util.concurrent.atomic.AtomicLong();

    static long alignUp(long v, int alignment) {
        return (v + alignment - 1) / alignment * alignment;
    }
}
