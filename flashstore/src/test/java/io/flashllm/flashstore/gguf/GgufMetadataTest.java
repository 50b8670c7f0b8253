package io.flashllm.flashstore.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.flashstore.ModelFileException;
import io.flashllm.kernels.WeightTensor;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Happy paths: every value type round-trips, typed getters, alignments, empty files. */
class GgufMetadataTest {
    @TempDir
    Path tmp;

    private GgufFile open(TestGguf g) throws IOException {
        Path p = tmp.resolve("m.gguf");
        Files.write(p, g.bytes());
        return GgufFile.open(p);
    }

    @Test
    void everyValueTypeRoundTrips() throws IOException {
        TestGguf g = new TestGguf().header(3, 0, 18)
                .kv("u8", TestGguf.U8, b -> b.u8(255))
                .kv("i8", TestGguf.I8, b -> b.u8(-128))
                .kv("u16", TestGguf.U16, b -> b.u16(65535))
                .kv("i16", TestGguf.I16, b -> b.u16(-32768))
                .kv("u32", TestGguf.U32, b -> b.u32(4_294_967_295L))
                .kv("i32", TestGguf.I32, b -> b.u32(-7))
                .kv("f32", TestGguf.F32, b -> b.f32(1.5e-5f))
                .kv("t", TestGguf.BOOL, b -> b.u8(1))
                .kv("f", TestGguf.BOOL, b -> b.u8(0))
                .kv("s", TestGguf.STR, b -> b.str("héllo ▁ 🦙"))
                .kv("u64", TestGguf.U64, b -> b.u64(-1L))
                .kv("i64", TestGguf.I64, b -> b.u64(Long.MIN_VALUE))
                .kv("f64", TestGguf.F64, b -> b.f64(-2.25))
                .kv("strs", TestGguf.ARR, b -> b.u32(TestGguf.STR).u64(3).str("a").str("").str("<s>"))
                .kv("floats", TestGguf.ARR, b -> b.u32(TestGguf.F32).u64(2).f32(-1f).f32(0.5f))
                .kv("ints", TestGguf.ARR, b -> b.u32(TestGguf.I32).u64(3).u32(-1).u32(0).u32(Integer.MAX_VALUE))
                .kv("nested", TestGguf.ARR, b -> b.u32(TestGguf.ARR).u64(2)
                        .u32(TestGguf.I16).u64(2).u16(1).u16(-2)
                        .u32(TestGguf.BOOL).u64(0))
                .kv("empty", TestGguf.ARR, b -> b.u32(TestGguf.U64).u64(0));
        try (GgufFile f = open(g)) {
            var m = f.metadata();
            assertEquals(255, m.get("u8"));
            assertEquals(-128, m.get("i8"));
            assertEquals(65535, m.get("u16"));
            assertEquals(-32768, m.get("i16"));
            assertEquals(4_294_967_295L, m.get("u32"));
            assertEquals(-7, m.get("i32"));
            assertEquals(1.5e-5f, m.get("f32"));
            assertEquals(true, m.get("t"));
            assertEquals(false, m.get("f"));
            assertEquals("héllo ▁ 🦙", m.get("s"));
            assertEquals(-1L, m.get("u64"));
            assertEquals(GgufValueType.UINT64, f.valueType("u64"));
            assertEquals(Long.MIN_VALUE, m.get("i64"));
            assertEquals(-2.25, m.get("f64"));
            assertEquals(List.of("a", "", "<s>"), m.get("strs"));
            assertEquals(List.of("a", "", "<s>"), f.requireStringArray("strs"));
            assertEquals(List.of(-1f, 0.5f), m.get("floats"));
            assertEquals(List.of(-1, 0, Integer.MAX_VALUE), m.get("ints"));
            // numeric arrays are held in primitive arrays behind the list; like the others, read-only
            assertThrows(UnsupportedOperationException.class, () -> ((List<?>) m.get("floats")).set(0, null));
            assertThrows(UnsupportedOperationException.class, () -> ((List<?>) m.get("ints")).add(null));
            assertThrows(UnsupportedOperationException.class, () -> ((List<?>) m.get("strs")).add(null));
            assertEquals(List.of(List.of(1, -2), List.of()), m.get("nested"));
            assertEquals(GgufValueType.ARRAY, f.arrayElementType("nested"));
            assertEquals(List.of(), m.get("empty"));
            assertEquals(List.of("u8", "i8", "u16", "i16", "u32", "i32", "f32", "t", "f", "s", "u64", "i64", "f64",
                    "strs", "floats", "ints", "nested", "empty"), List.copyOf(m.keySet()));

            // typed getters convert between integer widths, and refuse what does not fit
            assertEquals(65535, f.requireInt("u16"));
            assertEquals(4_294_967_295L, f.requireLong("u32"));
            assertEquals(Long.MIN_VALUE, f.getLong("i64", 0));
            assertEquals(-2.25f, f.getFloat("f64", 0));
            assertEquals(255f, f.requireFloat("u8"));
            assertTrue(f.getBoolean("t", false));
            assertEquals("dflt", f.getString("nope", "dflt"));
        }
    }

    @Test
    void typedGettersReportWrongTypes() throws IOException {
        TestGguf g = new TestGguf().header(3, 0, 3)
                .kvU32("n", 4_000_000_000L)
                .kvStr("s", "x")
                .kv("big", TestGguf.U64, b -> b.u64(-1L));
        try (GgufFile f = open(g)) {
            assertFault(() -> f.requireInt("n"), "wrong value type", "'n'");
            assertFault(() -> f.getString("n"), "wrong value type", "UINT32");
            assertFault(() -> f.getInt("s", 0), "wrong value type", "STRING");
            assertFault(() -> f.requireLong("big"), "wrong value type", "18446744073709551615");
            assertFault(() -> f.requireArray("s"), "wrong value type", "an array");
            assertFault(() -> f.requireBoolean("n"), "wrong value type", "a bool");
        }
    }

    @Test
    void missingRequiredKeyIsAFault() throws IOException {
        try (GgufFile f = open(new TestGguf().header(3, 0, 0))) {
            assertFault(() -> f.requireString("general.architecture"), "missing required key", "general.architecture");
            assertFault(() -> f.requireInt("llama.block_count"), "missing required key", "llama.block_count");
            assertFault(() -> f.requireTensor("token_embd.weight"), "missing tensor", "token_embd.weight");
            assertEquals(0, f.tensorInfos().size());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 8, 64, 4096})
    void honoursGeneralAlignment(int alignment) throws IOException {
        TestGguf g = new TestGguf().header(3, 2, 1)
                .kvU32("general.alignment", alignment)
                .tensorInfo("a", new long[] {3}, 0, 0)
                .tensorInfo("b", new long[] {2}, 0, align(12, alignment));
        g.pad(alignment);
        long dataStart = g.size();
        g.f32(1).f32(2).f32(3).pad(alignment).f32(4).f32(5);
        try (GgufFile f = open(g)) {
            assertEquals(alignment, f.alignment());
            assertEquals(dataStart, f.dataStart());
            var f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            WeightTensor a = f.tensor("a");
            WeightTensor b = f.tensor("b");
            assertEquals(3f, a.data().get(f32, 8));
            assertEquals(4f, b.data().get(f32, 0));
            assertEquals(5f, b.data().get(f32, 4));
        }
    }

    @Test
    void tensorOrderInFileNeedNotFollowInfoOrder() throws IOException {
        TestGguf g = new TestGguf().header(2, 2, 0)
                .tensorInfo("late", new long[] {1}, 0, 32)
                .tensorInfo("early", new long[] {1}, 0, 0)
                .pad(32);
        g.f32(7).pad(32).f32(9);
        try (GgufFile f = open(g)) {
            var f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            assertEquals(7f, f.tensor("early").data().get(f32, 0));
            assertEquals(9f, f.tensor("late").data().get(f32, 0));
            assertEquals(List.of("late", "early"), f.tensorInfos().stream().map(GgufTensorInfo::name).toList());
        }
    }

    @Test
    void inMemoryImageReadsLikeAFile() {
        byte[] bytes = TestGguf.validFile(3);
        GgufFile f = GgufFile.of(Path.of("mem.gguf"), java.lang.foreign.MemorySegment.ofArray(bytes));
        assertEquals(2, f.tensorInfos().size());
        assertEquals(8, f.tensor("w").elements());
    }

    private static long align(long v, int a) {
        return (v + a - 1) / a * a;
    }

    static void assertFault(org.junit.jupiter.api.function.Executable e, String fault, String detail) {
        ModelFileException ex = assertThrows(ModelFileException.class, e);
        assertTrue(ex.fault().startsWith(fault), () -> "fault '" + ex.fault() + "' should start with '" + fault + "'");
        assertTrue(ex.getMessage().contains(detail), () -> "'" + ex.getMessage() + "' should mention " + detail);
    }
}
