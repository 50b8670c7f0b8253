package io.flashllm.tornado;

import org.junit.jupiter.api.Test;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The arithmetic half decoder is exact for every finite half, on the host (the kernels call the same method). */
class HalfsTest {
    @Test
    void decodesEveryFiniteHalfExactly() {
        FloatArray table = Halfs.table();
        for (int bits = 0; bits < 65536; bits++) {
            float expected = Float.float16ToFloat((short) bits);
            if (Float.isNaN(expected) || Float.isInfinite(expected)) continue;
            assertEquals(expected, Halfs.decode((short) bits, table), 0f, "bits " + Integer.toHexString(bits));
        }
    }
}
