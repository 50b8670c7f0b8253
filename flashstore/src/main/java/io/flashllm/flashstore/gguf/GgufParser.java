package io.flashllm.flashstore.gguf;

import io.flashllm.flashstore.ByteExtents;
import io.flashllm.kernels.GgmlType;
import java.lang.foreign.MemorySegment;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Parses a GGUF v2/v3 header from a (mapped) segment. Every count, length and offset comes from an
 * untrusted file, so each is checked against the bytes actually left before anything is allocated
 * for it, and arithmetic on it is overflow-checked.
 */
final class GgufParser {
    static final String ALIGNMENT_KEY = "general.alignment";
    static final int DEFAULT_ALIGNMENT = 32;
    /** ggml's GGML_MAX_DIMS. */
    static final int MAX_DIMS = 4;
    /** Keys are at most 2^16-1 bytes by the spec. */
    static final int MAX_KEY_BYTES = 65_535;
    /** A single string beyond this is not metadata anyone writes; refuse rather than balloon the heap. */
    static final long MAX_STRING_BYTES = 64L << 20;
    /** Largest real arrays (vocabularies, merges) hold a few hundred thousand entries. */
    static final long MAX_ARRAY_ELEMENTS = 1L << 24;
    /** Every metadata value, array elements included, counts against this budget. */
    static final long MAX_TOTAL_VALUES = 1L << 25;
    /** Nested arrays deeper than this are refused before they can exhaust the stack. */
    static final int MAX_ARRAY_DEPTH = 16;

    /** The smallest tensor info: name length, n_dims, one dim, type, offset. */
    private static final int MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8;
    /** The smallest metadata pair: key length, value type, a one-byte value. */
    private static final int MIN_KV_BYTES = 8 + 4 + 1;

    record Parsed(int version, Map<String, Object> metadata, Map<String, GgufValueType> types,
                  Map<String, GgufValueType> arrayTypes, int alignment, long dataStart,
                  List<GgufTensorInfo> tensors) {}

    private final Path file;
    private final SegmentReader in;
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    private long valueBudget = MAX_TOTAL_VALUES;

    private GgufParser(Path file, MemorySegment segment) {
        this.file = file;
        this.in = new SegmentReader(file, segment);
    }

    static Parsed parse(Path file, MemorySegment segment) {
        return new GgufParser(file, segment).parse();
    }

    private Parsed parse() {
        int version = header();
        long tensorCount = in.i64("tensor count");
        long kvCount = in.i64("metadata count");
        checkCount(kvCount, MIN_KV_BYTES, "metadata pairs");

        Map<String, Object> metadata = new LinkedHashMap<>();
        Map<String, GgufValueType> types = new LinkedHashMap<>();
        Map<String, GgufValueType> arrayTypes = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            long keyAt = in.position();
            String key = string("metadata key #" + i, MAX_KEY_BYTES);
            if (key.isEmpty()) throw in.fault("empty metadata key at offset " + keyAt);
            if (metadata.containsKey(key)) throw in.fault("duplicate key: '" + key + "' at offset " + keyAt);
            GgufValueType type = valueType("value type of '" + key + "'");
            types.put(key, type);
            if (type == GgufValueType.ARRAY) {
                long at = in.position();
                GgufValueType elem = valueType("array element type of '" + key + "'");
                arrayTypes.put(key, elem);
                metadata.put(key, arrayBody(key, elem, at, 1));
            } else {
                metadata.put(key, value(key, type, 0));
            }
        }

        int alignment = alignment(metadata, types);
        // Counts come before metadata in the file but tensor infos follow it, so bound the count here.
        checkCount(tensorCount, MIN_TENSOR_INFO_BYTES, "tensor infos");
        List<GgufTensorInfo> tensors = new ArrayList<>((int) Math.min(tensorCount, 1 << 16));
        Set<String> names = new HashSet<>();
        for (long i = 0; i < tensorCount; i++) {
            GgufTensorInfo t = tensorInfo(i, alignment);
            if (!names.add(t.name())) throw in.fault("duplicate tensor name: '" + t.name() + "'");
            tensors.add(t);
        }

        long dataStart = alignUp(in.position(), alignment);
        checkTensorData(tensors, dataStart);
        return new Parsed(version, Collections.unmodifiableMap(metadata), Collections.unmodifiableMap(types),
                Collections.unmodifiableMap(arrayTypes), alignment, dataStart, List.copyOf(tensors));
    }

    private int header() {
        if (in.size() < 4) {
            throw in.fault("truncated: the file has " + in.size() + " bytes, too few for a GGUF header");
        }
        int b0 = in.u8("magic"), b1 = in.u8("magic"), b2 = in.u8("magic"), b3 = in.u8("magic");
        if (b0 != 'G' || b1 != 'G' || b2 != 'U' || b3 != 'F') {
            throw in.fault(String.format("bad magic: expected \"GGUF\" (47 47 55 46), found %02x %02x %02x %02x",
                    b0, b1, b2, b3));
        }
        int version = in.i32("version");
        if (version == 2 || version == 3) return version;
        if (version == 1) {
            throw in.fault("unsupported version 1: GGUF v1 (32-bit counts) predates llama.cpp's current format; "
                    + "flashllm reads v2 and v3, convert the file with a recent llama.cpp");
        }
        if (Integer.reverseBytes(version) == 2 || Integer.reverseBytes(version) == 3) {
            throw in.fault("unsupported version: the file is big-endian GGUF v" + Integer.reverseBytes(version)
                    + "; flashllm reads little-endian GGUF only");
        }
        throw in.fault("unsupported version " + Integer.toUnsignedString(version) + ": flashllm reads GGUF v2 and v3");
    }

    /** Refuses a count whose items could not possibly fit in what is left of the file. */
    private void checkCount(long count, int minBytesEach, String what) {
        long left = in.remaining();
        if (count < 0 || count > left / minBytesEach) {
            throw in.fault("truncated: " + Long.toUnsignedString(count) + " " + what + " need at least "
                    + minBytesEach + " bytes each but only " + left + " bytes are left at offset " + in.position());
        }
    }

    private GgufValueType valueType(String what) {
        long at = in.position();
        long id = Integer.toUnsignedLong(in.i32(what));
        GgufValueType t = GgufValueType.fromId(id);
        if (t == null) throw in.fault("wrong value type: unknown " + what + " " + id + " at offset " + at);
        return t;
    }

    private String string(String what, long maxBytes) {
        long at = in.position();
        long len = in.i64(what + " length");
        if (len < 0 || len > in.remaining()) {
            throw in.fault("truncated: " + what + " claims " + Long.toUnsignedString(len) + " bytes at offset " + at
                    + " but only " + in.remaining() + " bytes are left");
        }
        if (len > maxBytes) {
            throw in.fault(what + " at offset " + at + " is " + len + " bytes long, over the limit of " + maxBytes);
        }
        MemorySegment bytes = in.slice(len, what);
        try {
            CharBuffer chars = utf8.reset().decode(bytes.asByteBuffer());
            return chars.toString();
        } catch (CharacterCodingException e) {
            throw in.fault("invalid UTF-8: " + what + " at offset " + at + " is not valid UTF-8");
        }
    }

    private void spend(long values, String key) {
        valueBudget -= values;
        if (valueBudget < 0) {
            throw in.fault("metadata holds more than " + MAX_TOTAL_VALUES + " values in all (at key '" + key
                    + "'); refusing to load it onto the heap");
        }
    }

    private Object value(String key, GgufValueType type, int depth) {
        String what = "value of '" + key + "'";
        return switch (type) {
            case UINT8 -> in.u8(what);
            case INT8 -> (int) in.i8(what);
            case UINT16 -> Short.toUnsignedInt(in.i16(what));
            case INT16 -> (int) in.i16(what);
            case UINT32 -> Integer.toUnsignedLong(in.i32(what));
            case INT32 -> in.i32(what);
            case FLOAT32 -> Float.intBitsToFloat(in.i32(what));
            case BOOL -> bool(key);
            case STRING -> string(what, MAX_STRING_BYTES);
            case UINT64, INT64 -> in.i64(what);
            case FLOAT64 -> Double.longBitsToDouble(in.i64(what));
            case ARRAY -> {
                long at = in.position();
                yield arrayBody(key, valueType("array element type of '" + key + "'"), at, depth + 1);
            }
        };
    }

    private Boolean bool(String key) {
        long at = in.position();
        int b = in.u8("value of '" + key + "'");
        if (b > 1) throw in.fault("wrong value type: bool '" + key + "' at offset " + at + " holds " + b + ", not 0 or 1");
        return b == 1;
    }

    private List<Object> arrayBody(String key, GgufValueType elem, long at, int depth) {
        if (depth > MAX_ARRAY_DEPTH) {
            throw in.fault("array '" + key + "' at offset " + at + " nests deeper than " + MAX_ARRAY_DEPTH + " levels");
        }
        long count = in.i64("array length of '" + key + "'");
        checkCount(count, elem.minBytes, "elements of array '" + key + "' (" + elem + ")");
        if (count > MAX_ARRAY_ELEMENTS) {
            throw in.fault("array '" + key + "' at offset " + at + " has " + count + " elements, over the limit of "
                    + MAX_ARRAY_ELEMENTS);
        }
        spend(count, key);
        String what = "value of '" + key + "'";
        if (elem == GgufValueType.FLOAT32) {
            float[] floats = new float[(int) count];
            for (int i = 0; i < floats.length; i++) floats[i] = Float.intBitsToFloat(in.i32(what));
            return PrimitiveLists.of(floats);
        }
        if (elem == GgufValueType.INT32) {
            int[] ints = new int[(int) count];
            for (int i = 0; i < ints.length; i++) ints[i] = in.i32(what);
            return PrimitiveLists.of(ints);
        }
        List<Object> values = new ArrayList<>((int) count);
        for (long i = 0; i < count; i++) values.add(value(key, elem, depth));
        return Collections.unmodifiableList(values);
    }

    private int alignment(Map<String, Object> metadata, Map<String, GgufValueType> types) {
        Object a = metadata.get(ALIGNMENT_KEY);
        if (a == null) return DEFAULT_ALIGNMENT;
        if (types.get(ALIGNMENT_KEY) != GgufValueType.UINT32) {
            throw in.fault("wrong value type: " + ALIGNMENT_KEY + " is " + types.get(ALIGNMENT_KEY) + ", expected UINT32");
        }
        long v = (Long) a;
        if (v == 0 || Long.bitCount(v) != 1) {
            throw in.fault("bad alignment: " + ALIGNMENT_KEY + " = " + v + " is not a power of two");
        }
        if (v > 1L << 30) throw in.fault("bad alignment: " + ALIGNMENT_KEY + " = " + v + " is larger than 2^30");
        return (int) v;
    }

    private GgufTensorInfo tensorInfo(long index, int alignment) {
        String name = string("name of tensor #" + index, MAX_KEY_BYTES);
        String what = "tensor '" + name + "'";
        long dimsAt = in.position();
        long nDims = Integer.toUnsignedLong(in.i32("dimension count of " + what));
        if (nDims == 0 || nDims > MAX_DIMS) {
            throw in.fault("impossible shape: " + what + " has " + nDims + " dimensions (at offset " + dimsAt
                    + "); ggml allows 1 to " + MAX_DIMS);
        }
        long[] shape = new long[(int) nDims];
        long elements = 1;
        for (int d = 0; d < nDims; d++) {
            shape[d] = in.i64("dimension " + d + " of " + what);
            if (shape[d] <= 0) {
                throw in.fault("impossible shape: " + what + " dimension " + d + " is "
                        + Long.toUnsignedString(shape[d]) + " (must be positive and below 2^63)");
            }
            try {
                elements = Math.multiplyExact(elements, shape[d]);
            } catch (ArithmeticException e) {
                throw in.fault("impossible shape: " + what + " element count overflows 64 bits");
            }
        }
        long typeAt = in.position();
        long typeId = Integer.toUnsignedLong(in.i32("type of " + what));
        GgmlType type = typeId <= Integer.MAX_VALUE ? GgmlType.fromId((int) typeId) : null;
        if (type == null) {
            String known = GgmlTypeNames.name(typeId);
            throw in.fault(known == null
                    ? "unknown tensor type: " + what + " has ggml type id " + typeId + " (at offset " + typeAt + ")"
                    : "unknown tensor type: " + what + " has ggml type " + known + " (" + typeId
                      + "), which flashllm does not support (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS, MXFP4)");
        }
        if (shape[0] % type.blockSize != 0) {
            throw in.fault("impossible shape: " + what + " rows of " + shape[0] + " elements are not a whole number of "
                    + type + " blocks of " + type.blockSize);
        }
        long bytes = type.bytesFor(elements);
        if (bytes < 0) throw in.fault("impossible shape: " + what + " byte size overflows 64 bits");
        long offset = in.i64("data offset of " + what);
        if (offset < 0) {
            throw in.fault("tensor beyond end of file: " + what + " data offset " + Long.toUnsignedString(offset));
        }
        if (offset % alignment != 0) {
            throw in.fault("bad alignment: " + what + " data offset " + offset + " is not a multiple of " + alignment);
        }
        return new GgufTensorInfo(name, type, shape, offset, bytes);
    }

    private long alignUp(long pos, int alignment) {
        long rem = pos % alignment;
        return rem == 0 ? pos : pos + (alignment - rem);
    }

    private void checkTensorData(List<GgufTensorInfo> tensors, long dataStart) {
        ByteExtents extents = new ByteExtents();
        long size = in.size();
        for (GgufTensorInfo t : tensors) {
            long start = dataStart > Long.MAX_VALUE - t.offset() ? Long.MAX_VALUE : dataStart + t.offset();
            if (start > size || t.byteSize() > size - start) {
                throw in.fault("tensor beyond end of file: '" + t.name() + "' needs " + t.byteSize()
                        + " bytes at data offset " + t.offset() + " (file offset " + dataStart + " + "
                        + t.offset() + ") but the file has " + size + " bytes");
            }
            extents.add(t.name(), start, start + t.byteSize());
        }
        extents.checkDisjoint(file);
    }
}
