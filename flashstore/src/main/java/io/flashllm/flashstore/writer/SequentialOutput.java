package io.flashllm.flashstore.writer;

import java.io.Closeable;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Little-endian output to a file through one large direct buffer, so model files are written with
 * few big sequential writes however small the individual puts are. Producers that fill many bytes
 * (quantizers) can write straight into the buffer via {@link #reserve(int)} and skip a copy.
 */
public final class SequentialOutput implements Closeable {
    /** Big enough that a write call moves megabytes, small enough to be irrelevant next to a model. */
    public static final int DEFAULT_BUFFER_BYTES = 8 << 20;

    private final Path file;
    private final FileChannel channel;
    private final ByteBuffer buffer;
    private long flushed;

    public SequentialOutput(Path file) throws IOException {
        this(file, DEFAULT_BUFFER_BYTES);
    }

    public SequentialOutput(Path file, int bufferBytes) throws IOException {
        this.file = file;
        this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        this.buffer = ByteBuffer.allocateDirect(Math.max(bufferBytes, 4096)).order(ByteOrder.LITTLE_ENDIAN);
    }

    public Path file() {
        return file;
    }

    /** Bytes written so far, buffered ones included. */
    public long position() {
        return flushed + buffer.position();
    }

    /**
     * The internal buffer with at least {@code bytes} bytes free at its position; the caller puts
     * exactly the bytes it means to write (little-endian order is set) and leaves position after them.
     */
    public ByteBuffer reserve(int bytes) throws IOException {
        if (bytes > buffer.capacity()) {
            throw new IllegalArgumentException("cannot reserve " + bytes + " bytes in a buffer of " + buffer.capacity());
        }
        if (buffer.remaining() < bytes) flush();
        return buffer;
    }

    public int bufferCapacity() {
        return buffer.capacity();
    }

    public void putByte(int v) throws IOException {
        reserve(1).put((byte) v);
    }

    public void putShort(int v) throws IOException {
        reserve(2).putShort((short) v);
    }

    public void putInt(int v) throws IOException {
        reserve(4).putInt(v);
    }

    public void putLong(long v) throws IOException {
        reserve(8).putLong(v);
    }

    public void putFloat(float v) throws IOException {
        reserve(4).putFloat(v);
    }

    public void putDouble(double v) throws IOException {
        reserve(8).putDouble(v);
    }

    public void put(byte[] bytes) throws IOException {
        put(ByteBuffer.wrap(bytes));
    }

    /** Writes the remaining bytes of {@code src} (consumed); large sources bypass the buffer. */
    public void put(ByteBuffer src) throws IOException {
        if (src.remaining() <= buffer.remaining()) {
            buffer.put(src);
            return;
        }
        flush();
        if (src.remaining() <= buffer.capacity() / 2) {
            buffer.put(src);
            return;
        }
        while (src.hasRemaining()) flushed += channel.write(src);
    }

    public void put(MemorySegment src) throws IOException {
        put(src.asByteBuffer());
    }

    /** A GGUF-style string: u64 byte length, then the UTF-8 bytes. */
    public void putGgufString(String s) throws IOException {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        putLong(utf8.length);
        put(utf8);
    }

    /** Zero bytes up to the next multiple of {@code alignment}. */
    public void padTo(int alignment) throws IOException {
        long rem = position() % alignment;
        if (rem == 0) return;
        for (long i = rem; i < alignment; i++) putByte(0);
    }

    public void flush() throws IOException {
        buffer.flip();
        while (buffer.hasRemaining()) flushed += channel.write(buffer);
        buffer.clear();
    }

    @Override
    public void close() throws IOException {
        try {
            flush();
        } finally {
            channel.close();
        }
    }
}
