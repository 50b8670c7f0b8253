package io.flashllm.flashstore.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GgufFileTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void readsV2AndV3(int version) throws IOException {
        Path p = tmp.resolve("m.gguf");
        Files.write(p, TestGguf.validFile(version));
        try (GgufFile f = GgufFile.open(p)) {
            assertEquals(version, f.version());
            assertEquals("llama", f.getString("general.architecture"));
            assertEquals(2, f.getInt("llama.block_count", -1));
            assertEquals(7, f.getInt("absent", 7));
            assertEquals(32, f.alignment());
            assertEquals(2, f.tensorInfos().size());

            WeightTensor w = f.tensor("w");
            assertEquals(GgmlType.F32, w.type());
            assertArrayEquals(new long[] {4, 2}, w.shape());
            assertEquals(2, w.rows());
            assertEquals(4, w.cols());
            for (int i = 0; i < 8; i++) {
                assertEquals(i, w.data().get(ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 4L * i));
            }
            assertTrue(w.data().isNative() && w.data().isReadOnly(), "used in place from the read-only mapping");

            WeightTensor q = f.tensor("q");
            assertEquals(GgmlType.Q8_0, q.type());
            assertEquals(34, q.data().byteSize());
            assertEquals(-16, q.data().get(ValueLayout.JAVA_BYTE, 2));
            assertNull(f.tensor("nope"));
        }
    }

    @Test
    void closeUnmaps() throws IOException {
        Path p = tmp.resolve("m.gguf");
        Files.write(p, TestGguf.validFile(3));
        GgufFile f = GgufFile.open(p);
        WeightTensor w = f.tensor("w");
        f.close();
        f.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> w.data().get(ValueLayout.JAVA_BYTE, 0));
    }
}
