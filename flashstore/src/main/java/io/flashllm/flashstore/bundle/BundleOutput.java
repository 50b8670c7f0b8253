package io.flashllm.flashstore.bundle;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Sequential writer of one bundle file that hashes what it writes (SHA-256) and forces it to disk
 * on close. Every write of the converter goes through here, which is also where the test-only
 * limits act: a byte limit that fails like a full disk, and a throttle that makes a conversion slow
 * enough to be killed half way.
 */
final class BundleOutput implements AutoCloseable {
    /** Shared across the files of one conversion. */
    static final class Limits {
        final long maxBytes;
        final long bytesPerSecond;
        long written;

        Limits(long maxBytes, long bytesPerSecond) {
            this.maxBytes = maxBytes;
            this.bytesPerSecond = bytesPerSecond;
        }
    }

    private final Path file;
    private final FileChannel ch;
    private final MessageDigest sha = Checksums.sha256();
    private final Limits limits;
    private long position;

    BundleOutput(Path file, Limits limits) throws IOException {
        this.file = file;
        this.limits = limits;
        this.ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    }

    long position() {
        return position;
    }

    void write(MemorySegment s) throws IOException {
        ByteBuffer bb = s.asByteBuffer();
        if (limits.maxBytes >= 0 && limits.written + bb.remaining() > limits.maxBytes) {
            throw new IOException("No space left on device (simulated limit of " + limits.maxBytes + " bytes)");
        }
        if (limits.bytesPerSecond > 0) {
            try {
                Thread.sleep(Math.max(1, bb.remaining() * 1000L / limits.bytesPerSecond));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while writing " + file, e);
            }
        }
        sha.update(bb.duplicate());
        while (bb.hasRemaining()) position += ch.write(bb);
        limits.written += s.byteSize();
    }

    /** Forces the data to disk and returns the file's SHA-256. */
    String finish() throws IOException {
        ch.force(true);
        ch.close();
        return HexFormat.of().formatHex(sha.digest());
    }

    @Override
    public void close() throws IOException {
        if (ch.isOpen()) ch.close();
    }
}
