package io.flashllm.flashstore.safetensors;

import static io.flashllm.flashstore.safetensors.TestSafetensors.entry;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.WeightTensor;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {
    @TempDir
    Path tmp;

    @Test
    void readsTensorsWithShapeInGgmlOrder() throws IOException {
        String header = "{\"__metadata__\":{\"format\":\"pt\"}," + entry("a.weight", "F32", "[2,3]", 0, 24) + ","
                + entry("b", "BF16", "[4]", 24, 32) + "}   ";
        byte[] data = TestSafetensors.concat(TestSafetensors.f32(0, 1, 2, 3, 4, 5),
                new byte[] {(byte) 0x80, 0x3f, 0, 0x40, 0x40, 0x40, (byte) 0x80, 0x40});
        Path p = tmp.resolve("model.safetensors");
        Files.write(p, TestSafetensors.file(header, data));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertEquals(List.of("a.weight", "b"), f.names());
            assertEquals(Map.of("format", "pt"), f.metadata());
            WeightTensor a = f.tensor("a.weight");
            assertEquals(GgmlType.F32, a.type());
            assertArrayEquals(new long[] {3, 2}, a.shape());
            assertEquals(2, a.rows());
            assertEquals(3, a.cols());
            var f32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            assertEquals(4f, a.row(1).get(f32, 4));
            WeightTensor b = f.tensor("b");
            assertEquals(GgmlType.BF16, b.type());
            assertEquals(8, b.data().byteSize());
            assertEquals(0x3f80, Short.toUnsignedInt(b.data().get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0)));
            assertNull(f.tensor("c"));
        }
    }
}
