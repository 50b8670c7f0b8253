package io.flashllm.flashstore.gguf;

import io.flashllm.flashstore.ModelFileException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * A little-endian cursor over a mapped file that checks every read against the end of the file,
 * so a lying length or count surfaces as "truncated" instead of an IndexOutOfBoundsException.
 */
final class SegmentReader {
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final MemorySegment segment;
    private final long size;
    private long pos;

    SegmentReader(Path file, MemorySegment segment) {
        this.file = file;
        this.segment = segment;
        this.size = segment.byteSize();
    }

    long position() {
        return pos;
    }

    long remaining() {
        return size - pos;
    }

    long size() {
        return size;
    }

    ModelFileException fault(String fault) {
        return new ModelFileException(file, fault);
    }

    /** Fails unless {@code n} more bytes exist; {@code n} may be any long, including a negative one read as unsigned. */
    void need(long n, String what) {
        if (n < 0 || n > size - pos) {
            throw fault("truncated: " + what + " needs " + (n < 0 ? Long.toUnsignedString(n) : Long.toString(n))
                    + " bytes at offset " + pos + " but the file has " + size + " bytes");
        }
    }

    int u8(String what) {
        need(1, what);
        return Byte.toUnsignedInt(segment.get(ValueLayout.JAVA_BYTE, pos++));
    }

    byte i8(String what) {
        need(1, what);
        return segment.get(ValueLayout.JAVA_BYTE, pos++);
    }

    short i16(String what) {
        need(2, what);
        short v = segment.get(U16, pos);
        pos += 2;
        return v;
    }

    int i32(String what) {
        need(4, what);
        int v = segment.get(U32, pos);
        pos += 4;
        return v;
    }

    long i64(String what) {
        need(8, what);
        long v = segment.get(U64, pos);
        pos += 8;
        return v;
    }

    /** A slice of the next {@code n} bytes (no copy). */
    MemorySegment slice(long n, String what) {
        need(n, what);
        MemorySegment s = segment.asSlice(pos, n);
        pos += n;
        return s;
    }
}
