package io.flashllm.flashstore.cache;

import io.flashllm.kernels.GgmlType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RowMatrixTest {
    @Test
    void partsAreAlignedSlicesOfOneAllocationThatRowCopiesKeepApart() {
        // Q8_0 rows of 34 bytes and 3 rows: a part of 102 bytes, so the next part needs padding to its cache line.
        List<RowShape> shapes = List.of(new RowShape("gate", GgmlType.Q8_0, 32), new RowShape("up", GgmlType.Q8_0, 32),
                new RowShape("down", GgmlType.F32, 8));
        try (Arena arena = Arena.ofConfined()) {
            RowMatrix m = new RowMatrix(shapes, 3, arena);
            assertEquals(2 * 102 + 8 * 4 * 3, RowMatrix.bytesFor(shapes, 3), "a budget charges the rows, not the padding");
            assertTrue(m.all().byteSize() >= RowMatrix.bytesFor(shapes, 3)
                    && m.all().byteSize() < RowMatrix.bytesFor(shapes, 3) + 64 * 3);
            long end = 0;
            for (int p = 0; p < m.partCount(); p++) {
                long off = m.partOffset(p);
                assertEquals(0, (m.all().address() + off) % 64, "part " + p + " starts on a cache line");
                assertTrue(off >= end, "parts do not overlap");
                assertEquals(m.all().address() + off, m.part(p).data().address());
                assertEquals(m.rowBytes(p) * 3, m.part(p).data().byteSize());
                end = off + m.rowBytes(p) * 3;
            }
            assertTrue(end <= m.all().byteSize());
            // Row 1 of each part, written through the part, is where all() + partOffset says it is.
            for (int p = 0; p < m.partCount(); p++) {
                MemorySegment row = m.row(p, 1);
                row.fill((byte) (p + 1));
                assertEquals((byte) (p + 1), m.all().get(ValueLayout.JAVA_BYTE, m.partOffset(p) + m.rowBytes(p)));
            }
            m.copyRow(1, 2);
            m.swapRows(0, 2);
            for (int p = 0; p < m.partCount(); p++) {
                assertEquals((byte) (p + 1), m.all().get(ValueLayout.JAVA_BYTE, m.partOffset(p)));
                assertEquals((byte) (p + 1), m.all().get(ValueLayout.JAVA_BYTE, m.partOffset(p) + 2 * m.rowBytes(p) - 1));
                assertEquals(0, m.all().get(ValueLayout.JAVA_BYTE, m.partOffset(p) + 2 * m.rowBytes(p)));
            }
        }
    }
}
