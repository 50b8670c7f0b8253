package io.flashllm.flashstore.gguf;

import static io.flashllm.flashstore.gguf.GgufMetadataTest.assertFault;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.flashstore.ModelFileException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One test per fault class, each on a hand-made broken file: the reader must answer with a
 * {@link ModelFileException} naming the file and the fault, never a raw exception or an OOM.
 */
class GgufFaultTest {
    @TempDir
    Path tmp;

    private void assertOpenFails(TestGguf g, String fault, String detail) throws IOException {
        assertOpenFails(g.bytes(), fault, detail);
    }

    private void assertOpenFails(byte[] bytes, String fault, String detail) throws IOException {
        Path p = tmp.resolve("broken.gguf");
        Files.write(p, bytes);
        assertFault(() -> GgufFile.open(p).close(), fault, detail);
        ModelFileException e = assertThrows(ModelFileException.class, () -> GgufFile.open(p));
        assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
    }

    @Test
    void everyTruncationOfAValidFileIsReported() throws IOException {
        byte[] valid = TestGguf.validFile(3);
        for (int len = 0; len < valid.length; len++) {
            Path p = tmp.resolve("cut" + len + ".gguf");
            Files.write(p, Arrays.copyOf(valid, len));
            ModelFileException e = assertThrows(ModelFileException.class, () -> GgufFile.open(p), "length " + len);
            assertTrue(e.fault().startsWith("truncated") || e.fault().startsWith("tensor beyond end of file"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("cut" + len + ".gguf"));
        }
    }

    @Test
    void emptyFile() throws IOException {
        assertOpenFails(new byte[0], "truncated", "0 bytes");
    }

    @Test
    void badMagic() throws IOException {
        byte[] b = TestGguf.validFile(3);
        b[3] = 'L';
        assertOpenFails(b, "bad magic", "47 47 55 4c");
    }

    @Test
    void unsupportedVersions() throws IOException {
        assertOpenFails(new TestGguf().header(1, 0, 0), "unsupported version 1", "v2 and v3");
        assertOpenFails(new TestGguf().header(4, 0, 0), "unsupported version 4", "v2 and v3");
        assertOpenFails(new TestGguf().header(0x03000000, 0, 0), "unsupported version", "big-endian");
    }

    @Test
    void unknownTensorType() throws IOException {
        assertOpenFails(new TestGguf().header(3, 1, 0).tensorInfo("t", new long[] {32}, 999, 0).pad(32).raw(new byte[64]),
                "unknown tensor type", "999");
        // known to ggml but not computed by flashllm: named in the message
        assertOpenFails(new TestGguf().header(3, 1, 0).tensorInfo("t", new long[] {256}, 16, 0).pad(32).raw(new byte[256]),
                "unknown tensor type", "IQ2_XXS");
    }

    @Test
    void tensorBeyondEndOfFile() throws IOException {
        TestGguf g = new TestGguf().header(3, 1, 0).tensorInfo("t", new long[] {4}, 0, 0).pad(32).f32(1).f32(2).f32(3);
        assertOpenFails(g, "tensor beyond end of file", "'t'");
        // an offset near 2^63 must not wrap around
        assertOpenFails(new TestGguf().header(3, 1, 0).tensorInfo("t", new long[] {1}, 0, Long.MAX_VALUE - 31).pad(32),
                "tensor beyond end of file", "'t'");
        assertOpenFails(new TestGguf().header(3, 1, 0).tensorInfo("t", new long[] {1}, 0, -32).pad(32),
                "tensor beyond end of file", "18446744073709551584");
    }

    @Test
    void overlappingTensors() throws IOException {
        TestGguf g = new TestGguf().header(3, 2, 0)
                .tensorInfo("a", new long[] {16}, 0, 0)
                .tensorInfo("b", new long[] {8}, 0, 32)
                .pad(32).raw(new byte[64]);
        assertOpenFails(g, "overlapping tensors", "'a'");
    }

    @Test
    void impossibleShapes() throws IOException {
        assertOpenFails(new TestGguf().header(3, 1, 0).tensorInfo("t", new long[] {4, 0}, 0, 0).pad(32),
                "impossible shape", "dimension 1 is 0");
        assertOpenFails(new TestGguf().header(3, 1, 0).tensorInfo("t", new long[] {-4}, 0, 0).pad(32),
                "impossible shape", "dimension 0");
        assertOpenFails(new TestGguf().header(3, 1, 0).tensorInfo("t", new long[] {1, 1, 1, 1, 1}, 0, 0).pad(32),
                "impossible shape", "5 dimensions");
        assertOpenFails(new TestGguf().header(3, 1, 0).tensorInfo("t", new long[] {}, 0, 0).pad(32),
                "impossible shape", "0 dimensions");
        assertOpenFails(new TestGguf().header(3, 1, 0).tensorInfo("t", new long[] {1L << 32, 1L << 32}, 0, 0).pad(32),
                "impossible shape", "overflows");
        assertOpenFails(new TestGguf().header(3, 1, 0).tensorInfo("t", new long[] {1L << 31, 1L << 31}, 0, 0).pad(32),
                "impossible shape", "byte size overflows");
        assertOpenFails(new TestGguf().header(3, 1, 0).tensorInfo("t", new long[] {48, 2}, 8, 0).pad(32).raw(new byte[128]),
                "impossible shape", "whole number of Q8_0 blocks");
    }

    @Test
    void duplicateTensorName() throws IOException {
        TestGguf g = new TestGguf().header(3, 2, 0)
                .tensorInfo("w", new long[] {8}, 0, 0)
                .tensorInfo("w", new long[] {8}, 0, 32)
                .pad(32).raw(new byte[64]);
        assertOpenFails(g, "duplicate tensor name", "'w'");
    }

    @Test
    void duplicateKey() throws IOException {
        assertOpenFails(new TestGguf().header(3, 0, 2).kvU32("a.b", 1).kvStr("a.b", "x"), "duplicate key", "'a.b'");
    }

    @Test
    void wrongValueTypes() throws IOException {
        assertOpenFails(new TestGguf().header(3, 0, 1).kv("k", 13, b -> b.u32(0)), "wrong value type", "13");
        assertOpenFails(new TestGguf().header(3, 0, 1).kv("k", TestGguf.ARR, b -> b.u32(77).u64(0)),
                "wrong value type", "77");
        assertOpenFails(new TestGguf().header(3, 0, 1).kv("k", TestGguf.BOOL, b -> b.u8(2)), "wrong value type", "bool");
        assertOpenFails(new TestGguf().header(3, 0, 1).kvStr("general.alignment", "32"), "wrong value type",
                "general.alignment");
    }

    @Test
    void badAlignment() throws IOException {
        assertOpenFails(new TestGguf().header(3, 0, 1).kvU32("general.alignment", 0), "bad alignment", "= 0");
        assertOpenFails(new TestGguf().header(3, 0, 1).kvU32("general.alignment", 24), "bad alignment", "= 24");
        assertOpenFails(new TestGguf().header(3, 0, 1).kvU32("general.alignment", 1L << 31), "bad alignment", "2^30");
        assertOpenFails(new TestGguf().header(3, 1, 0).tensorInfo("t", new long[] {1}, 0, 16).pad(32).raw(new byte[32]),
                "bad alignment", "not a multiple of 32");
    }

    @Test
    void invalidUtf8() throws IOException {
        byte[] bad = {'a', (byte) 0xc3, 'b'}; // a lead byte without its continuation
        assertOpenFails(new TestGguf().header(3, 0, 1).bytesStr(bad).u32(TestGguf.U8).u8(1), "invalid UTF-8", "key");
        assertOpenFails(new TestGguf().header(3, 0, 1).str("k").u32(TestGguf.STR).bytesStr(bad), "invalid UTF-8", "'k'");
        byte[] surrogate = {(byte) 0xed, (byte) 0xa0, (byte) 0x80}; // an encoded UTF-16 surrogate is not UTF-8
        assertOpenFails(new TestGguf().header(3, 1, 0).bytesStr(surrogate).u32(1).u64(1).u32(0).u64(0).pad(32).f32(0),
                "invalid UTF-8", "tensor #0");
    }

    @Test
    void hugeStringLengthIsNotAllocated() throws IOException {
        assertOpenFails(new TestGguf().header(3, 0, 1).str("k").u32(TestGguf.STR).u64(1L << 40).raw(new byte[16]),
                "truncated", "1099511627776");
        assertOpenFails(new TestGguf().header(3, 0, 1).u64(-1L).raw(new byte[16]), "truncated", "18446744073709551615");
    }

    @Test
    void hugeCountsAreNotAllocated() throws IOException {
        assertOpenFails(new TestGguf().header(3, 0, 1).str("k").u32(TestGguf.ARR).u32(TestGguf.U8).u64(1L << 60).raw(new byte[8]),
                "truncated", "1152921504606846976");
        assertOpenFails(new TestGguf().header(3, 0, 1L << 60), "truncated", "metadata pairs");
        assertOpenFails(new TestGguf().header(3, 1L << 60, 0), "truncated", "tensor infos");
        assertOpenFails(new TestGguf().header(3, -1L, 0), "truncated", "18446744073709551615");
    }

    @Test
    void deeplyNestedArraysAreRefused() throws IOException {
        TestGguf g = new TestGguf().header(3, 0, 1).str("deep").u32(TestGguf.ARR);
        for (int i = 0; i < 100; i++) g.u32(TestGguf.ARR).u64(1);
        g.u32(TestGguf.U8).u64(0);
        assertOpenFails(g, "array 'deep'", "nests deeper");
    }

    @Test
    void overlongKeyIsRefused() throws IOException {
        assertOpenFails(new TestGguf().header(3, 0, 1).str("k".repeat(65_536)).u32(TestGguf.U8).u8(0),
                "metadata key #0", "over the limit of 65535");
    }

    @Test
    void emptyKeyIsRefused() throws IOException {
        assertOpenFails(new TestGguf().header(3, 0, 1).str("").u32(TestGguf.U8).u8(0), "empty metadata key", "offset 24");
    }

    @Test
    void missingFileAndDirectory() {
        assertFault(() -> GgufFile.open(tmp.resolve("absent.gguf")), "file not found", "absent.gguf");
        assertFault(() -> GgufFile.open(tmp), "is a directory", tmp.toString());
    }
}
