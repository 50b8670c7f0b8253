package io.flashllm.flashstore.bundle;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.Objects;
import java.util.zip.CRC32C;

/** CRC32C per section (hardware-accelerated, cheap enough to check on every read) and SHA-256 per file. */
public final class Checksums {
    private Checksums() {}

    public static int crc32c(MemorySegment s) {
        return crc32c(s, 0, s.byteSize());
    }

    /**
     * CRC32C of {@code length} bytes at {@code offset}. Called for every neuron group read from
     * flash, so for a native segment of at most 1 GiB it allocates nothing: each thread keeps one
     * CRC32C and a ByteBuffer view of each segment it has checked (the I/O engine hands out the
     * same read-buffer views again and again), positioned on the range before each update. Heap
     * segments are not kept: a view would hold their array.
     */
    public static int crc32c(MemorySegment s, long offset, long length) {
        if (s.isNative() && s.byteSize() <= MAX_VIEW) return SCRATCH.get().crc(s, offset, length);
        CRC32C c = new CRC32C();
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            long n = Math.min(end - pos, 1L << 30);
            c.update(s.asSlice(pos, n).asByteBuffer());
            pos += n;
        }
        return (int) c.getValue();
    }

    private static final long MAX_VIEW = 1L << 30;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** One thread's CRC32C and buffer views; the views are dropped once more than a few hundred segments were seen. */
    private static final class Scratch {
        private static final int MAX_VIEWS = 512;
        private final CRC32C crc = new CRC32C();
        private final IdentityHashMap<MemorySegment, ByteBuffer> views = new IdentityHashMap<>();

        int crc(MemorySegment s, long offset, long length) {
            ByteBuffer view = views.get(s);
            if (view == null) {
                if (views.size() >= MAX_VIEWS) views.clear();
                view = s.asByteBuffer();
                views.put(s, view);
            }
            Objects.checkFromIndexSize(offset, length, s.byteSize());
            view.limit((int) (offset + length)).position((int) offset);
            crc.reset();
            crc.update(view);
            return (int) crc.getValue();
        }
    }

    public static String hex(int crc) {
        return String.format("%08x", crc);
    }

    /** CRC32C of a byte range of a file, read sequentially. */
    public static int crc32c(FileChannel ch, long offset, long length) throws IOException {
        CRC32C c = new CRC32C();
        try (Arena arena = Arena.ofConfined()) {
            ByteBuffer buf = readBuffer(arena);
            long pos = offset;
            long end = offset + length;
            while (pos < end) {
                buf.clear().limit((int) Math.min(buf.capacity(), end - pos));
                int n = ch.read(buf, pos);
                if (n < 0) throw new IOException("end of file at " + pos + " inside a " + length + "-byte section");
                buf.flip();
                c.update(buf);
                pos += n;
            }
        }
        return (int) c.getValue();
    }

    /** A 1 MiB native read buffer freed with {@code arena} (a direct ByteBuffer would wait for GC). */
    private static ByteBuffer readBuffer(Arena arena) {
        return arena.allocate(1 << 20).asByteBuffer();
    }

    public static String sha256(Path file) throws IOException {
        MessageDigest md = sha256();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            ByteBuffer buf = readBuffer(arena);
            while (ch.read(buf.clear()) >= 0) {
                buf.flip();
                md.update(buf);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 missing from the JDK", e);
        }
    }
}
