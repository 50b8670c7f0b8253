package io.flashllm.flashstore.writer;

import io.flashllm.kernels.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class GgufWriterTest {
    @TempDir
    Path dir;

    /** Reads the file back field by field, as the GGUF v3 specification lays it out. */
    private static final class Cursor {
        final ByteBuffer b;

        Cursor(byte[] bytes) {
            b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }

        int u32() { return b.getInt(); }
        long u64() { return b.getLong(); }

        String str() {
            int n = Math.toIntExact(b.getLong());
            byte[] s = new byte[n];
            b.get(s);
            return new String(s, StandardCharsets.UTF_8);
        }
    }

    private static float[] floats(int n, float base) {
        float[] f = new float[n];
        for (int i = 0; i < n; i++) f[i] = base + i;
        return f;
    }

    @Test
    void writesHeaderEveryValueTypeTensorInfosAndAlignedData() throws IOException {
        Path file = dir.resolve("m.gguf");
        float[] a = floats(6, 0.5f);          // F32 [3, 2]
        float[] q = floats(64, -32f);         // Q8_0 [64, 1]
        GgufWriter w = new GgufWriter(file);
        w.putString("general.architecture", "llama");
        w.put("k.u8", GgufValue.u8(200));
        w.put("k.i8", GgufValue.i8(-5));
        w.put("k.u16", GgufValue.u16(60000));
        w.put("k.i16", GgufValue.i16(-30000));
        w.putU32("k.u32", 4_000_000_000L);
        w.putI32("k.i32", -7);
        w.putF32("k.f32", 1.5f);
        w.putBool("k.bool", true);
        w.put("k.u64", GgufValue.u64(1L << 40));
        w.put("k.i64", GgufValue.i64(-(1L << 40)));
        w.put("k.f64", GgufValue.f64(0.25));
        w.putArray("k.strs", GgufValueType.STRING, List.of("a", "ü€"));
        w.putArray("k.f32s", GgufValueType.FLOAT32, List.of(1f, -2f));
        w.put("k.nested", GgufValue.array(GgufValueType.ARRAY,
                List.of(GgufValue.array(GgufValueType.INT32, List.of(1, 2)))));
        w.addTensor("a", GgmlType.F32, new long[] {3, 2}, out -> { for (float v : a) out.putFloat(v); });
        w.addTensor("blk.0.q", GgmlType.Q8_0, new long[] {64, 1},
                out -> out.put(Quantizer.quantize(GgmlType.Q8_0, q)));
        w.write();

        byte[] bytes = Files.readAllBytes(file);
        Cursor c = new Cursor(bytes);
        assertEquals('G', bytes[0]);
        assertEquals('F', bytes[3]);
        assertEquals(0x46554747, c.u32());
        assertEquals(3, c.u32());
        assertEquals(2, c.u64());
        assertEquals(15, c.u64());

        assertEquals("general.architecture", c.str());
        assertEquals(8, c.u32());
        assertEquals("llama", c.str());
        assertEquals("k.u8", c.str()); assertEquals(0, c.u32()); assertEquals(200, c.b.get() & 0xFF);
        assertEquals("k.i8", c.str()); assertEquals(1, c.u32()); assertEquals(-5, c.b.get());
        assertEquals("k.u16", c.str()); assertEquals(2, c.u32()); assertEquals(60000, c.b.getShort() & 0xFFFF);
        assertEquals("k.i16", c.str()); assertEquals(3, c.u32()); assertEquals(-30000, c.b.getShort());
        assertEquals("k.u32", c.str()); assertEquals(4, c.u32()); assertEquals(4_000_000_000L, c.u32() & 0xFFFFFFFFL);
        assertEquals("k.i32", c.str()); assertEquals(5, c.u32()); assertEquals(-7, c.u32());
        assertEquals("k.f32", c.str()); assertEquals(6, c.u32()); assertEquals(1.5f, c.b.getFloat());
        assertEquals("k.bool", c.str()); assertEquals(7, c.u32()); assertEquals(1, c.b.get());
        assertEquals("k.u64", c.str()); assertEquals(10, c.u32()); assertEquals(1L << 40, c.u64());
        assertEquals("k.i64", c.str()); assertEquals(11, c.u32()); assertEquals(-(1L << 40), c.u64());
        assertEquals("k.f64", c.str()); assertEquals(12, c.u32()); assertEquals(0.25, c.b.getDouble());
        assertEquals("k.strs", c.str()); assertEquals(9, c.u32());
        assertEquals(8, c.u32()); assertEquals(2, c.u64()); assertEquals("a", c.str()); assertEquals("ü€", c.str());
        assertEquals("k.f32s", c.str()); assertEquals(9, c.u32());
        assertEquals(6, c.u32()); assertEquals(2, c.u64()); assertEquals(1f, c.b.getFloat()); assertEquals(-2f, c.b.getFloat());
        assertEquals("k.nested", c.str()); assertEquals(9, c.u32());
        assertEquals(9, c.u32()); assertEquals(1, c.u64());
        assertEquals(5, c.u32()); assertEquals(2, c.u64()); assertEquals(1, c.u32()); assertEquals(2, c.u32());

        assertEquals("a", c.str());
        assertEquals(2, c.u32());
        assertEquals(3, c.u64()); assertEquals(2, c.u64());
        assertEquals(0, c.u32());
        assertEquals(0, c.u64());
        assertEquals("blk.0.q", c.str());
        assertEquals(2, c.u32());
        assertEquals(64, c.u64()); assertEquals(1, c.u64());
        assertEquals(8, c.u32());
        assertEquals(32, c.u64()); // 24 bytes of F32 padded up to 32

        int dataStart = (c.b.position() + 31) / 32 * 32;
        for (int i = c.b.position(); i < dataStart; i++) assertEquals(0, bytes[i]);
        for (int i = 0; i < 6; i++) assertEquals(a[i], c.b.getFloat(dataStart + 4 * i));
        float[] dq = TestDecode.decode(GgmlType.Q8_0,
                java.util.Arrays.copyOfRange(bytes, dataStart + 32, dataStart + 32 + 68), 64);
        for (int i = 0; i < 64; i++) assertEquals(q[i], dq[i], 0.2f);
        assertEquals(dataStart + 32 + 68 + 28, bytes.length); // last tensor padded to the alignment too
    }

    @Test
    void floatArrayTensorsAreEncodedToTheirType() throws IOException {
        Path file = dir.resolve("f.gguf");
        float[] v = floats(32, -16f);
        new GgufWriter(file).addTensor("q", GgmlType.Q8_0, new long[] {32}, v).write();
        byte[] bytes = Files.readAllBytes(file);
        byte[] data = java.util.Arrays.copyOfRange(bytes, bytes.length - 64, bytes.length - 30);
        assertArrayEquals(Quantizer.quantize(GgmlType.Q8_0, v), data);
        assertThrows(IllegalArgumentException.class,
                () -> new GgufWriter(file).addTensor("bad", GgmlType.F32, new long[] {3}, new float[2]));
    }

    @Test
    void customAlignmentIsRecordedAndUsed() throws IOException {
        Path file = dir.resolve("a.gguf");
        GgufWriter w = new GgufWriter(file).alignment(64);
        w.addTensor("x", GgmlType.F32, new long[] {3}, out -> { out.putFloat(1); out.putFloat(2); out.putFloat(3); });
        w.addTensor("y", GgmlType.F16, new long[] {2}, out -> { out.putShort(Float.floatToFloat16(4)); out.putShort(Float.floatToFloat16(5)); });
        w.write();
        Cursor c = new Cursor(Files.readAllBytes(file));
        c.u32(); c.u32();
        assertEquals(2, c.u64());
        assertEquals(1, c.u64());
        assertEquals("general.alignment", c.str());
        assertEquals(4, c.u32());
        assertEquals(64, c.u32());
        assertEquals("x", c.str()); c.u32(); c.u64(); c.u32(); assertEquals(0, c.u64());
        assertEquals("y", c.str()); c.u32(); c.u64(); assertEquals(1, c.u32()); assertEquals(64, c.u64());
        int dataStart = (c.b.position() + 63) / 64 * 64;
        assertEquals(3f, c.b.getFloat(dataStart + 8));
        assertEquals(5f, Float.float16ToFloat(c.b.getShort(dataStart + 64 + 2)));
    }

    @Test
    void inferredValuesUseTheTypesAReaderReturns() {
        Map<String, GgufValue> v = GgufValue.inferAll(new java.util.LinkedHashMap<>(Map.of(
                "i", 3, "l", 7L, "big", -1L, "f", 1f, "s", "x", "arr", List.of(1L, 2L), "b", true)));
        assertEquals(GgufValueType.INT32, v.get("i").type());
        assertEquals(GgufValueType.UINT32, v.get("l").type());
        assertEquals(GgufValueType.INT64, v.get("big").type());
        assertEquals(GgufValueType.FLOAT32, v.get("f").type());
        assertEquals(GgufValueType.STRING, v.get("s").type());
        assertEquals(GgufValueType.UINT32, v.get("arr").elementType());
        assertEquals(GgufValueType.BOOL, v.get("b").type());
    }

    @Test
    void rejectsBadDeclarationsAndValues() {
        GgufWriter w = new GgufWriter(dir.resolve("bad.gguf"));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("q", GgmlType.Q8_0, new long[] {33, 2}, out -> {}));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("z", GgmlType.F32, new long[] {0}, out -> {}));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("5d", GgmlType.F32, new long[] {1, 1, 1, 1, 1}, out -> {}));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("n".repeat(64), GgmlType.F32, new long[] {1}, out -> {}));
        w.addTensor("t", GgmlType.F32, new long[] {1}, out -> out.putFloat(1));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("t", GgmlType.F32, new long[] {1}, out -> {}));
        assertThrows(IllegalArgumentException.class, () -> GgufValue.u8(256));
        assertThrows(IllegalArgumentException.class, () -> GgufValue.u32(-1));
        assertThrows(IllegalArgumentException.class, () -> GgufValue.array(GgufValueType.STRING, List.of(1)));
        assertThrows(IllegalArgumentException.class, () -> w.alignment(24));
    }

    @Test
    void aSourceWritingTheWrongByteCountFailsAndLeavesNoFile() throws IOException {
        Path file = dir.resolve("short.gguf");
        GgufWriter w = new GgufWriter(file);
        w.addTensor("t", GgmlType.F32, new long[] {4}, out -> out.putFloat(1));
        IllegalStateException e = assertThrows(IllegalStateException.class, w::write);
        assertTrue(e.getMessage().contains("16 bytes"), e.getMessage());
        assertFalse(Files.exists(file));
        try (var left = Files.list(dir)) {
            assertEquals(List.of(), left.toList());
        }
    }

    @Test
    void largeTensorsStreamThroughTheBufferInOrder() throws IOException {
        Path file = dir.resolve("big.gguf");
        int n = 3 << 20; // 12 MiB of F32: larger than the output buffer
        GgufWriter w = new GgufWriter(file);
        w.addTensor("big", GgmlType.F32, new long[] {1024, n / 1024}, out -> {
            ByteBuffer chunk = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                if (!chunk.hasRemaining()) { chunk.flip(); out.put(chunk); chunk.clear(); }
                chunk.putFloat(i);
            }
            chunk.flip();
            out.put(chunk);
        });
        w.write();
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int dataStart = bytes.length - 4 * n;
        assertEquals(0, dataStart % 32);
        for (int i = 0; i < n; i += 4099) assertEquals((float) i, b.getFloat(dataStart + 4 * i));
        assertEquals((float) (n - 1), b.getFloat(bytes.length - 4));
    }
    @Test
    void refusesAFileLargerThanTheFreeSpaceBeforeWritingAnything() throws IOException {
        Path file = dir.resolve("huge.gguf");
        GgufWriter w = new GgufWriter(file).addTensor("t", GgmlType.F32, new long[] {1L << 20, 1L << 22},
                out -> fail("no tensor data is written"));
        IOException e = assertThrows(IOException.class, w::write);
        assertTrue(e.getMessage().contains("16.00 TiB") && e.getMessage().contains("free")
                && e.getMessage().contains("huge.gguf"), e.getMessage());
        try (var s = Files.list(dir)) {
            assertEquals(List.of(), s.toList(), "no partial file");
        }
    }

    @Test
    void sigtermMidWriteRemovesThePartialFile() throws Exception {
        Path file = dir.resolve("slow.gguf");
        Path log = dir.resolve("child.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                WriteChild.class.getName(), file.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Path partial = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (partial == null && System.nanoTime() < deadline && p.isAlive()) {
            try (var s = Files.list(dir)) {
                for (Path f : s.filter(f -> f.getFileName().toString().endsWith(".partial")).toList()) {
                    if (Files.size(f) > 256 * 1024) partial = f;
                }
            }
            Thread.sleep(20);
        }
        assertNotNull(partial, "child started writing: " + Files.readString(log));
        p.destroy(); // SIGTERM
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertFalse(Files.exists(partial), "partial file removed on SIGTERM");
        assertFalse(Files.exists(file), "the target never appears");
    }
}
