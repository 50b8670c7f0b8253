package io.flashllm.flashstore.writer;

import java.util.List;
import java.util.Map;

/**
 * A GGUF metadata value with its exact on-disk type. Java's types alone cannot say whether 7 is a
 * u32 or an i32, and llama.cpp checks the type of every key it reads, so the writer takes typed values.
 * For arrays {@code elementType} names the element type and {@code value} is a {@link List}
 * (elements of an array of arrays are themselves array {@code GgufValue}s).
 */
public record GgufValue(GgufValueType type, Object value, GgufValueType elementType) {

    public GgufValue {
        if (type == GgufValueType.ARRAY) {
            if (elementType == null) throw new IllegalArgumentException("array value needs an element type");
            if (!(value instanceof List<?> list)) throw new IllegalArgumentException("array value must be a List");
            value = List.copyOf(list);
            for (Object e : (List<?>) value) checkScalar(elementType, e);
        } else {
            if (elementType != null) throw new IllegalArgumentException("only arrays have an element type");
            checkScalar(type, value);
        }
    }

    public static GgufValue u8(int v) { return new GgufValue(GgufValueType.UINT8, v, null); }
    public static GgufValue i8(int v) { return new GgufValue(GgufValueType.INT8, v, null); }
    public static GgufValue u16(int v) { return new GgufValue(GgufValueType.UINT16, v, null); }
    public static GgufValue i16(int v) { return new GgufValue(GgufValueType.INT16, v, null); }
    public static GgufValue u32(long v) { return new GgufValue(GgufValueType.UINT32, v, null); }
    public static GgufValue i32(int v) { return new GgufValue(GgufValueType.INT32, v, null); }
    public static GgufValue u64(long v) { return new GgufValue(GgufValueType.UINT64, v, null); }
    public static GgufValue i64(long v) { return new GgufValue(GgufValueType.INT64, v, null); }
    public static GgufValue f32(float v) { return new GgufValue(GgufValueType.FLOAT32, v, null); }
    public static GgufValue f64(double v) { return new GgufValue(GgufValueType.FLOAT64, v, null); }
    public static GgufValue bool(boolean v) { return new GgufValue(GgufValueType.BOOL, v, null); }
    public static GgufValue string(String v) { return new GgufValue(GgufValueType.STRING, v, null); }

    public static GgufValue array(GgufValueType elementType, List<?> values) {
        return new GgufValue(GgufValueType.ARRAY, values, elementType);
    }

    /**
     * The GGUF value for a plain Java value, mirroring what a GGUF reader hands back: Integer → i32,
     * Long → u32 when it fits (the type llama.cpp uses for counts and token ids) else i64,
     * Float → f32, Double → f64, Boolean → bool, String → string, List → array typed by its first
     * element (an empty list becomes an empty i32 array). A GgufValue is returned unchanged.
     */
    public static GgufValue infer(Object v) {
        return switch (v) {
            case GgufValue g -> g;
            case Integer i -> i32(i);
            case Long l -> (l >= 0 && l <= 0xFFFF_FFFFL) ? u32(l) : i64(l);
            case Short s -> i16(s);
            case Byte b -> i8(b);
            case Float f -> f32(f);
            case Double d -> f64(d);
            case Boolean b -> bool(b);
            case String s -> string(s);
            case List<?> list -> inferArray(list);
            case null -> throw new IllegalArgumentException("GGUF has no null value");
            default -> throw new IllegalArgumentException("no GGUF type for " + v.getClass().getName());
        };
    }

    /** Infers every value of a map, keeping its order. */
    public static Map<String, GgufValue> inferAll(Map<String, ?> entries) {
        var out = new java.util.LinkedHashMap<String, GgufValue>();
        entries.forEach((k, v) -> out.put(k, infer(v)));
        return out;
    }

    private static GgufValue inferArray(List<?> list) {
        if (list.isEmpty()) return array(GgufValueType.INT32, list);
        GgufValueType et = infer(list.getFirst()).type();
        if (et == GgufValueType.UINT32) {
            // One element that fits u32 says nothing about the rest; pick from the whole list.
            boolean allU32 = list.stream().allMatch(e -> e instanceof Long l && l >= 0 && l <= 0xFFFF_FFFFL);
            et = allU32 ? GgufValueType.UINT32 : GgufValueType.INT64;
        }
        if (et == GgufValueType.ARRAY) {
            return array(et, list.stream().map(GgufValue::infer).toList());
        }
        return array(et, list);
    }

    private static void checkScalar(GgufValueType t, Object v) {
        String bad = switch (t) {
            case UINT8 -> rangeFault(v, 0, 0xFF);
            case INT8 -> rangeFault(v, Byte.MIN_VALUE, Byte.MAX_VALUE);
            case UINT16 -> rangeFault(v, 0, 0xFFFF);
            case INT16 -> rangeFault(v, Short.MIN_VALUE, Short.MAX_VALUE);
            case UINT32 -> rangeFault(v, 0, 0xFFFF_FFFFL);
            case INT32 -> rangeFault(v, Integer.MIN_VALUE, Integer.MAX_VALUE);
            case UINT64, INT64 -> v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte
                    ? null : "an integer";
            case FLOAT32, FLOAT64 -> v instanceof Number ? null : "a number";
            case BOOL -> v instanceof Boolean ? null : "a Boolean";
            case STRING -> v instanceof String ? null : "a String";
            case ARRAY -> v instanceof GgufValue g && g.type() == GgufValueType.ARRAY ? null : "an array GgufValue";
        };
        if (bad != null) throw new IllegalArgumentException("GGUF " + t + " value must be " + bad + ", got " + v);
    }

    private static String rangeFault(Object v, long min, long max) {
        if (!(v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte)) return "an integer";
        long l = ((Number) v).longValue();
        return l < min || l > max ? "in [" + min + ", " + max + "]" : null;
    }
}
