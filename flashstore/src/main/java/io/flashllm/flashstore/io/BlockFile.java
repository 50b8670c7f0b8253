package io.flashllm.flashstore.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Set;

/**
 * A file opened for positional reads, with O_DIRECT when the file system allows it so reads bypass
 * the page cache and DRAM use stays what the budget says. Where O_DIRECT is refused (tmpfs, some
 * network file systems) the file is read through the page cache and that is logged once per file
 * system type.
 *
 * <p>Direct reads need the buffer address, file offset and length to be multiples of
 * {@link #ALIGNMENT}; bundle files are laid out that way and {@link IoEngine} buffers are aligned.
 */
public final class BlockFile implements AutoCloseable {
    /** Alignment of every direct read (offset, length, buffer address). */
    public static final int ALIGNMENT = 4096;

    private static final System.Logger LOG = System.getLogger(BlockFile.class.getName());
    private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();
    /**
     * {@code com.sun.nio.file.ExtendedOpenOption.DIRECT}, looked up by name: the class lives in
     * jdk.unsupported, and naming it in source draws an "internal proprietary API" warning that
     * javac cannot suppress. Null when the JDK lacks it (then reads are buffered).
     */
    private static final OpenOption DIRECT = directOption();

    private static OpenOption directOption() {
        try {
            return (OpenOption) Class.forName("com.sun.nio.file.ExtendedOpenOption").getField("DIRECT").get(null);
        } catch (ReflectiveOperationException | ClassCastException e) {
            return null;
        }
    }

    private final Path path;
    private final FileChannel channel;
    private final boolean direct;
    private final long size;

    private BlockFile(Path path, FileChannel channel, boolean direct) throws IOException {
        this.path = path;
        this.channel = channel;
        this.direct = direct;
        this.size = channel.size();
    }

    /** Opens {@code path} for reading, direct if {@code preferDirect} and the file system allows. */
    public static BlockFile open(Path path, boolean preferDirect) throws IOException {
        return open(path, preferDirect, BlockFile::openDirect);
    }

    /** How a direct channel is obtained; tests substitute one that refuses, as some file systems do. */
    @FunctionalInterface
    interface DirectOpener {
        FileChannel open(Path path) throws IOException;
    }

    static BlockFile open(Path path, boolean preferDirect, DirectOpener opener) throws IOException {
        if (preferDirect) {
            String refusal;
            try {
                int block = blockSize(path);
                if (ALIGNMENT % block == 0) {
                    FileChannel ch = opener.open(path);
                    // Some file systems accept O_DIRECT at open and refuse it at the first read.
                    String probe = probe(ch);
                    if (probe == null) return new BlockFile(path, ch, true);
                    ch.close();
                    refusal = probe;
                } else {
                    refusal = "file system block size " + block + " does not divide " + ALIGNMENT;
                }
            } catch (UnsupportedOperationException | IOException e) {
                if (!Files.isRegularFile(path)) throw e instanceof IOException io ? io : new IOException(e);
                refusal = String.valueOf(e.getMessage());
            }
            String fsType = fileStoreType(path);
            if (WARNED.add(fsType)) {
                LOG.log(System.Logger.Level.WARNING, "O_DIRECT refused on " + fsType + " file system (" + path + ": "
                        + refusal + "); reading through the page cache, which then counts against DRAM");
            }
        }
        return new BlockFile(path, FileChannel.open(path, StandardOpenOption.READ), false);
    }

    private static FileChannel openDirect(Path path) throws IOException {
        if (DIRECT == null) throw new UnsupportedOperationException("this JDK has no O_DIRECT open option");
        return FileChannel.open(path, StandardOpenOption.READ, DIRECT);
    }

    /**
     * Reads the first block directly; returns why that failed, or null when direct reads work. An
     * aligned read at offset 0 is legal on a file shorter than a block (it returns fewer bytes), so
     * short files are probed too.
     */
    private static String probe(FileChannel ch) {
        try (Arena arena = Arena.ofConfined()) {
            ch.read(arena.allocate(ALIGNMENT, ALIGNMENT).asByteBuffer(), 0);
            return null;
        } catch (IOException e) {
            return "direct read failed: " + e.getMessage();
        }
    }

    /** File system types that refused O_DIRECT and were logged (each once). */
    static Set<String> warnedFileSystems() {
        return Set.copyOf(WARNED);
    }

    private static int blockSize(Path path) throws IOException {
        long b = Files.getFileStore(path).getBlockSize();
        return b <= 0 || b > Integer.MAX_VALUE ? ALIGNMENT : (int) b;
    }

    private static String fileStoreType(Path path) {
        try {
            return Files.getFileStore(path).type();
        } catch (IOException e) {
            return "unknown";
        }
    }

    public Path path() {
        return path;
    }

    public boolean direct() {
        return direct;
    }

    public long size() {
        return size;
    }

    /**
     * Reads exactly {@code dst.remaining()} bytes at {@code offset}. For a direct file the buffer,
     * offset and length must be aligned to {@link #ALIGNMENT}.
     */
    public void readFully(ByteBuffer dst, long offset) {
        checkRange(offset, dst.remaining());
        long pos = offset;
        try {
            while (dst.hasRemaining()) {
                int n = channel.read(dst, pos);
                if (n < 0) throw new IOException(path + ": unexpected end of file at offset " + pos);
                pos += n;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(path + ": read at offset " + pos + " failed: " + e.getMessage(), e);
        }
    }

    /** Throws the error a read of {@code length} bytes at {@code offset} past the end of the file gets. */
    void checkRange(long offset, long length) {
        if (offset < 0 || offset + length > size) {
            throw new UncheckedIOException(new IOException(path + ": read of " + length + " bytes at offset " + offset
                    + " runs past the end of the file (" + size + " bytes); the file is truncated"));
        }
    }

    /** The error of a native read that failed with {@code errno} or came back {@code got} bytes short. */
    UncheckedIOException readFailed(long offset, int length, long result) {
        String what = result < 0 ? "failed: errno " + (-result) : "returned " + result + " of " + length + " bytes";
        return new UncheckedIOException(new IOException(path + ": read at offset " + offset + " " + what));
    }

    private int nativeFd = -1;

    /**
     * A native descriptor of the same file with the same direct-ness, for {@link IoEngine}'s native
     * AIO; opened on first use, closed with this file.
     */
    synchronized int nativeFd() {
        if (closed) throw new IllegalStateException(path + " is closed");
        if (nativeFd < 0) nativeFd = LinuxAio.open(path.toString(), direct);
        return nativeFd;
    }

    private boolean closed;

    @Override
    public synchronized void close() throws IOException {
        closed = true;
        if (nativeFd >= 0) {
            LinuxAio.close(nativeFd);
            nativeFd = -1;
        }
        channel.close();
    }
}
