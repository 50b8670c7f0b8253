package io.flashllm.flashstore.safetensors;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.flashstore.ByteExtents;
import io.flashllm.flashstore.ModelFileException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The header of a safetensors file: u64 little-endian JSON length, the JSON (tensor name to dtype,
 * shape and data_offsets, plus an optional string-to-string {@code __metadata__}), then the data.
 * Parsing validates every entry against the real size of the data section.
 */
public record SafetensorsHeader(long dataStart, Map<String, SafetensorsTensorInfo> tensors, Map<String, String> metadata) {
    /** The reference implementation's limit; a header larger than this is an attack or an accident. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;
    /** No real model tensor has more dimensions than this. */
    public static final int MAX_DIMS = 8;

    private static final String METADATA_KEY = "__metadata__";

    /** Parses and validates the header of the file image {@code segment}; {@code file} names errors. */
    public static SafetensorsHeader parse(Path file, MemorySegment segment) {
        long size = segment.byteSize();
        if (size < 8) throw new ModelFileException(file, "truncated: " + size + " bytes, too few for a safetensors header length");
        long headerLen = segment.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
        if (headerLen < 0 || headerLen > MAX_HEADER_BYTES) {
            throw new ModelFileException(file, "header too large: the JSON header claims "
                    + Long.toUnsignedString(headerLen) + " bytes, over the limit of " + MAX_HEADER_BYTES);
        }
        if (headerLen > size - 8) {
            throw new ModelFileException(file, "truncated: the JSON header claims " + headerLen
                    + " bytes but only " + (size - 8) + " follow the length");
        }
        if (headerLen < 2) throw new ModelFileException(file, "bad JSON: header of " + headerLen + " bytes cannot hold an object");
        byte[] json = segment.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
        if (json[0] != '{') throw new ModelFileException(file, "bad JSON: header does not start with '{'");
        JsonNode root = StrictJson.parse(file, json, "safetensors header");
        if (!root.isObject()) throw new ModelFileException(file, "bad JSON: header is not a JSON object");

        long dataStart = 8 + headerLen;
        long dataSize = size - dataStart;
        Map<String, SafetensorsTensorInfo> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = Map.of();
        ByteExtents extents = new ByteExtents();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            if (e.getKey().equals(METADATA_KEY)) {
                metadata = metadata(file, e.getValue());
                continue;
            }
            SafetensorsTensorInfo t = entry(file, e.getKey(), e.getValue(), dataSize);
            tensors.put(t.name(), t);
            extents.add(t.name(), t.begin(), t.end());
        }
        extents.checkDisjoint(file);
        return new SafetensorsHeader(dataStart, Collections.unmodifiableMap(tensors), metadata);
    }

    private static Map<String, String> metadata(Path file, JsonNode node) {
        if (!node.isObject()) throw new ModelFileException(file, "wrong value type: " + METADATA_KEY + " is not an object");
        Map<String, String> m = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!e.getValue().isTextual()) {
                throw new ModelFileException(file, "wrong value type: " + METADATA_KEY + "." + e.getKey() + " is not a string");
            }
            m.put(e.getKey(), e.getValue().textValue());
        }
        return Collections.unmodifiableMap(m);
    }

    private static SafetensorsTensorInfo entry(Path file, String name, JsonNode node, long dataSize) {
        String what = "tensor '" + name + "'";
        if (!node.isObject()) throw new ModelFileException(file, "wrong value type: " + what + " is not an object");
        JsonNode dtypeNode = field(file, node, "dtype", what);
        if (!dtypeNode.isTextual()) throw new ModelFileException(file, "wrong value type: " + what + " dtype is not a string");
        SafetensorsDtype dtype = SafetensorsDtype.parse(dtypeNode.textValue());
        if (dtype == null) {
            throw new ModelFileException(file, "unknown tensor type: " + what + " has dtype '" + dtypeNode.textValue() + "'");
        }

        JsonNode shapeNode = field(file, node, "shape", what);
        if (!shapeNode.isArray()) throw new ModelFileException(file, "wrong value type: " + what + " shape is not an array");
        if (shapeNode.size() > MAX_DIMS) {
            throw new ModelFileException(file, "impossible shape: " + what + " has " + shapeNode.size()
                    + " dimensions, more than " + MAX_DIMS);
        }
        long[] shape = new long[shapeNode.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = nonNegativeLong(file, shapeNode.get(i), what + " dimension " + i, "impossible shape");
            if (shape[i] == 0) throw new ModelFileException(file, "impossible shape: " + what + " dimension " + i + " is 0");
            try {
                elements = Math.multiplyExact(elements, shape[i]);
            } catch (ArithmeticException ex) {
                throw new ModelFileException(file, "impossible shape: " + what + " element count overflows 64 bits");
            }
        }
        long bytes = dtype.bytesFor(elements);
        if (bytes < 0) {
            throw new ModelFileException(file, "impossible shape: " + what + " of " + elements + " " + dtype
                    + " elements is not a whole number of bytes or overflows");
        }

        JsonNode offs = field(file, node, "data_offsets", what);
        if (!offs.isArray() || offs.size() != 2) {
            throw new ModelFileException(file, "wrong value type: " + what + " data_offsets is not a [begin, end] pair");
        }
        long begin = nonNegativeLong(file, offs.get(0), what + " data_offsets[0]", "tensor beyond end of file");
        long end = nonNegativeLong(file, offs.get(1), what + " data_offsets[1]", "tensor beyond end of file");
        if (end < begin) {
            throw new ModelFileException(file, "offsets not matching dtype and shape: " + what + " ends (" + end
                    + ") before it begins (" + begin + ")");
        }
        if (end - begin != bytes) {
            throw new ModelFileException(file, "offsets not matching dtype and shape: " + what + " spans "
                    + (end - begin) + " bytes but " + dtype + " " + Arrays.toString(shape) + " takes " + bytes);
        }
        if (end > dataSize) {
            throw new ModelFileException(file, "tensor beyond end of file: " + what + " ends at data offset " + end
                    + " but the data section has " + dataSize + " bytes");
        }
        return new SafetensorsTensorInfo(name, dtype, shape, begin, end);
    }

    private static JsonNode field(Path file, JsonNode node, String key, String what) {
        JsonNode v = node.get(key);
        if (v == null || v.isNull()) throw new ModelFileException(file, "missing required key: " + what + " has no '" + key + "'");
        return v;
    }

    private static long nonNegativeLong(Path file, JsonNode n, String what, String fault) {
        if (n == null || !n.isIntegralNumber()) {
            throw new ModelFileException(file, "wrong value type: " + what + " is not an integer");
        }
        if (!n.canConvertToLong() || n.longValue() < 0) {
            throw new ModelFileException(file, fault + ": " + what + " = " + n.asText() + " is negative or too large");
        }
        return n.longValue();
    }

    /** Names in header order. */
    public List<String> names() {
        return new ArrayList<>(tensors.keySet());
    }
}
