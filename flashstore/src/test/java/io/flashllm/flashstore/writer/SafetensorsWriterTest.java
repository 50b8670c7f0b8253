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

import static org.junit.jupiter.api.Assertions.*;

class SafetensorsWriterTest {
    @TempDir
    Path dir;

    private static TensorSource f32(float... v) {
        return out -> { for (float f : v) out.putFloat(f); };
    }

    @Test
    void singleFileHasPaddedHeaderAndContiguousData() throws IOException {
        Path file = dir.resolve("t.safetensors");
        new SafetensorsWriter()
                .addTensor("w", GgmlType.F32, new long[] {2, 3}, f32(1, 2, 3, 4, 5, 6))
                .addTensor("b\"x", GgmlType.BF16, new long[] {2}, out -> {
                    out.putShort(Quantizer.toBf16(1.5f));
                    out.putShort(Quantizer.toBf16(-2f));
                })
                .writeFile(file);
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong(0);
        assertEquals(0, (8 + n) % 8);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertEquals("{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                + "\"b\\\"x\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[24,28]}}", header.stripTrailing());
        assertTrue(header.substring(header.stripTrailing().length()).chars().allMatch(ch -> ch == ' '));
        int data = (int) (8 + n);
        assertEquals(data + 28, bytes.length);
        assertEquals(6f, b.getFloat(data + 20));
        assertEquals(1.5f, Float.intBitsToFloat((b.getShort(data + 24) & 0xFFFF) << 16));
        assertEquals(-2f, Float.intBitsToFloat((b.getShort(data + 26) & 0xFFFF) << 16));
    }

    @Test
    void smallModelGoesIntoOneModelSafetensors() throws IOException {
        List<Path> files = new SafetensorsWriter()
                .addTensor("a", GgmlType.F16, new long[] {4}, out -> { for (int i = 0; i < 4; i++) out.putShort(0); })
                .writeModel(dir, 1 << 20);
        assertEquals(List.of(dir.resolve("model.safetensors")), files);
        assertFalse(Files.exists(dir.resolve("model.safetensors.index.json")));
    }

    @Test
    void shardedModelWritesShardsAndIndex() throws IOException {
        SafetensorsWriter w = new SafetensorsWriter()
                .addTensor("l0", GgmlType.F32, new long[] {4}, f32(1, 2, 3, 4))
                .addTensor("l1", GgmlType.F32, new long[] {2}, f32(5, 6))
                .addTensor("l2", GgmlType.F32, new long[] {4}, f32(7, 8, 9, 10));
        List<Path> files = w.writeModel(dir, 24); // l0+l1 fit (24 bytes), l2 starts a new shard
        assertEquals(3, files.size());
        Path s1 = dir.resolve("model-00001-of-00002.safetensors");
        Path s2 = dir.resolve("model-00002-of-00002.safetensors");
        assertTrue(Files.exists(s1) && Files.exists(s2));
        String index = Files.readString(dir.resolve("model.safetensors.index.json"));
        assertTrue(index.contains("\"total_size\": 40"), index);
        assertTrue(index.contains("\"l0\": \"model-00001-of-00002.safetensors\""), index);
        assertTrue(index.contains("\"l1\": \"model-00001-of-00002.safetensors\""), index);
        assertTrue(index.contains("\"l2\": \"model-00002-of-00002.safetensors\""), index);

        byte[] b2 = Files.readAllBytes(s2);
        ByteBuffer b = ByteBuffer.wrap(b2).order(ByteOrder.LITTLE_ENDIAN);
        long n = b.getLong(0);
        String header = new String(b2, 8, (int) n, StandardCharsets.UTF_8).strip();
        assertTrue(header.contains("\"l2\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}"), header);
        assertEquals(10f, b.getFloat(b2.length - 4));
    }

    @Test
    void rejectsQuantizedDtypesAndDuplicates() {
        SafetensorsWriter w = new SafetensorsWriter();
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("q", GgmlType.Q8_0, new long[] {32}, out -> {}));
        w.addTensor("a", GgmlType.F32, new long[] {1}, f32(1));
        assertThrows(IllegalArgumentException.class, () -> w.addTensor("a", GgmlType.F32, new long[] {1}, f32(1)));
    }
}
