package io.flashllm.kernels;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class GgmlTypeTest {
    @Test
    void idsAndSizesMatchGguf() {
        assertEquals(GgmlType.Q8_0, GgmlType.fromId(8));
        assertEquals(GgmlType.BF16, GgmlType.fromId(30));
        assertNull(GgmlType.fromId(3));
        assertEquals(34 * 2, GgmlType.Q8_0.bytesFor(64));
        assertEquals(-1, GgmlType.Q4_K.bytesFor(100));
        assertEquals(-1, GgmlType.Q8_0.bytesFor(Long.MAX_VALUE - Long.MAX_VALUE % 32));
    }
}
