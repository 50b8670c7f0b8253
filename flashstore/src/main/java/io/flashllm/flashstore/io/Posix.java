package io.flashllm.flashstore.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Locale;
import java.util.Map;

/**
 * The libc file calls {@link BlockFile} reads with — {@code open(2)}, {@code pread(2)},
 * {@code lseek(2)}, {@code close(2)} — and the paging calls of {@link PageAdvice} ({@code madvise(2)},
 * {@code posix_fadvise(2)}, {@code mincore(2)}) and of {@link MemoryLock} ({@code mlock(2)}), through the FFM API, errno captured with
 * {@link Linker.Option#captureCallState}. This is how bundle files get O_DIRECT without naming
 * {@code com.sun.nio.file.ExtendedOpenOption} (jdk.unsupported, which draws a javac warning that
 * cannot be suppressed) and without reflection.
 *
 * <p>Linux on x86-64 and AArch64 only (the O_DIRECT flag differs between them); elsewhere, or where
 * the JVM refuses native access, {@link #unavailable()} says why and files are read through
 * {@link java.nio.channels.FileChannel}.
 */
final class Posix {
    private Posix() {}

    static final int EINTR = 4, EAGAIN = 11, EINVAL = 22;
    private static final int O_RDONLY = 0, O_CLOEXEC = 0x80000, SEEK_END = 2;

    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final int O_DIRECT;
    private static final MethodHandle OPEN, PREAD, LSEEK, CLOSE, MADVISE, FADVISE, MINCORE, MLOCK;
    private static final long PAGE_SIZE;
    private static final String UNAVAILABLE;

    static {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String cpu = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        int oDirect = cpu.equals("amd64") || cpu.equals("x86_64") ? 0x4000 : cpu.equals("aarch64") ? 0x10000 : 0;
        MethodHandle open = null, pread = null, lseek = null, close = null, madvise = null, fadvise = null, mincore = null, mlock = null;
        long pageSize = 0;
        String why = null;
        if (!os.startsWith("linux")) {
            why = "not Linux";
        } else if (oDirect == 0) {
            why = "no O_DIRECT flag known for " + cpu;
        } else {
            try {
                Linker linker = Linker.nativeLinker();
                Linker.Option errno = Linker.Option.captureCallState("errno");
                open = downcall(linker, "open", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), Linker.Option.firstVariadicArg(2), errno);
                pread = downcall(linker, "pread", FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                        ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), errno);
                lseek = downcall(linker, "lseek", FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT), errno);
                close = downcall(linker, "close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), errno);
                madvise = downcall(linker, "madvise", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT), errno);
                fadvise = downcall(linker, "posix_fadvise", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT));
                mlock = downcall(linker, "mlock", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_LONG), errno);
                mincore = downcall(linker, "mincore", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_LONG, ValueLayout.ADDRESS), errno);
                pageSize = (int) downcall(linker, "getpagesize", FunctionDescriptor.of(ValueLayout.JAVA_INT)).invokeExact();
            } catch (Throwable e) {
                why = "no native access: " + e;
                open = pread = lseek = close = madvise = fadvise = mincore = mlock = null;
            }
        }
        O_DIRECT = oDirect;
        OPEN = open;
        PREAD = pread;
        LSEEK = lseek;
        CLOSE = close;
        MADVISE = madvise;
        FADVISE = fadvise;
        MINCORE = mincore;
        MLOCK = mlock;
        PAGE_SIZE = pageSize;
        UNAVAILABLE = why;
    }

    /** Why the native file calls cannot be used here, or null when they can. */
    static String unavailable() {
        return UNAVAILABLE;
    }

    /** A segment for the errno of one call at a time, from {@code arena}. */
    static MemorySegment newCallState(Arena arena) {
        return arena.allocate(CAPTURE);
    }

    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /**
     * Opens {@code path} read-only and close-on-exec, with O_DIRECT when {@code direct}; returns the
     * descriptor or throws an error naming the file and the errno (EINTR is retried).
     */
    static int open(String path, boolean direct) throws IOException {
        int flags = O_RDONLY | O_CLOEXEC | (direct ? O_DIRECT : 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            MemorySegment name = a.allocateFrom(path);
            while (true) {
                int fd = (int) OPEN.invokeExact(state, name, flags, 0);
                if (fd >= 0) return fd;
                int errno = errno(state);
                if (errno == EINTR) continue;
                throw new IOException(path + ": open(" + (direct ? "O_RDONLY|O_DIRECT" : "O_RDONLY") + ") failed: "
                        + describe(errno));
            }
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * One {@code pread(2)} of up to {@code count} bytes at file {@code offset} into {@code buf} (a
     * native segment of at least {@code count} bytes): the bytes read, 0 at end of file, or -1 with
     * the errno in {@code state}.
     */
    static long pread(int fd, MemorySegment buf, long count, long offset, MemorySegment state) {
        try {
            return (long) PREAD.invokeExact(state, fd, buf, count, offset);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The size of the open file, from {@code lseek(fd, 0, SEEK_END)}; -1 with the errno in {@code state}. */
    static long size(int fd, MemorySegment state) {
        try {
            return (long) LSEEK.invokeExact(state, fd, 0L, SEEK_END);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Closes {@code fd}; 0, or the errno. Never retried: Linux releases the descriptor even when
     * close reports EINTR, and a retry could close a descriptor another thread has just opened.
     */
    static int close(int fd) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            int r = (int) CLOSE.invokeExact(state, fd);
            return r == 0 ? 0 : errno(state);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static final int MADV_RANDOM = 1, MADV_WILLNEED = 3, MADV_PAGEOUT = 21, POSIX_FADV_DONTNEED = 4;

    static long pageSize() {
        return PAGE_SIZE;
    }

    private static long pageStart(long address) {
        return address & -PAGE_SIZE;
    }

    private static long pageEnd(long address) {
        return (address + PAGE_SIZE - 1) & -PAGE_SIZE;
    }

    /** {@code posix_fadvise(2)} on the open file {@code fd}; 0, or the error number (it returns it, errno is untouched). */
    static int fadvise(int fd, long offset, long length, int advice) {
        try {
            return (int) FADVISE.invokeExact(fd, offset, length, advice);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * {@code mincore(2)} over the pages that hold {@code [address, address + length)}: how many of
     * them are in memory, or -1 when the call fails.
     */
    static long residentPages(long address, long length) {
        long start = pageStart(address);
        long pages = (pageEnd(address + length) - start) / PAGE_SIZE;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            MemorySegment vec = a.allocate(pages);
            int r = (int) MINCORE.invokeExact(state, MemorySegment.ofAddress(start), pages * PAGE_SIZE, vec);
            if (r != 0) return -1;
            long n = 0;
            for (long i = 0; i < pages; i++) n += vec.get(ValueLayout.JAVA_BYTE, i) & 1;
            return n;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Whether the page holding {@code address} is in memory (1), not (0), or unknown (-1), through {@code mincore(2)}
     * with the caller's buffers ({@link #newCallState} and one byte): nothing allocated, for a per-token probe.
     */
    static int pageResident(long address, MemorySegment state, MemorySegment vec) {
        try {
            int r = (int) MINCORE.invokeExact(state, MemorySegment.ofAddress(pageStart(address)), PAGE_SIZE, vec);
            return r != 0 ? -1 : vec.get(ValueLayout.JAVA_BYTE, 0) & 1;
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * {@code madvise(2)} over the pages that hold {@code [address, address + length)} (the range is
     * widened to whole pages, as the call requires); 0, or the errno.
     */
    static int madvise(long address, long length, int advice) {
        long start = pageStart(address);
        long end = pageEnd(address + length);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            int r = (int) MADVISE.invokeExact(state, MemorySegment.ofAddress(start), end - start, advice);
            return r == 0 ? 0 : errno(state);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** {@code mlock(2)} over the pages that hold {@code [address, address + length)}; 0, or the errno. */
    static int mlock(long address, long length) {
        long start = pageStart(address);
        long end = pageEnd(address + length);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            int r = (int) MLOCK.invokeExact(state, MemorySegment.ofAddress(start), end - start);
            return r == 0 ? 0 : errno(state);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Linux's errno numbers (the same on x86-64 and AArch64) for the errors file reads meet. */
    private static final Map<Integer, String> ERRNO_NAMES = Map.ofEntries(
            Map.entry(1, "EPERM (Operation not permitted)"),
            Map.entry(2, "ENOENT (No such file or directory)"),
            Map.entry(4, "EINTR (Interrupted system call)"),
            Map.entry(5, "EIO (Input/output error)"),
            Map.entry(6, "ENXIO (No such device or address)"),
            Map.entry(9, "EBADF (Bad file descriptor)"),
            Map.entry(11, "EAGAIN (Resource temporarily unavailable)"),
            Map.entry(12, "ENOMEM (Cannot allocate memory)"),
            Map.entry(13, "EACCES (Permission denied)"),
            Map.entry(14, "EFAULT (Bad address)"),
            Map.entry(16, "EBUSY (Device or resource busy)"),
            Map.entry(19, "ENODEV (No such device)"),
            Map.entry(20, "ENOTDIR (Not a directory)"),
            Map.entry(21, "EISDIR (Is a directory)"),
            Map.entry(22, "EINVAL (Invalid argument)"),
            Map.entry(23, "ENFILE (Too many open files in system)"),
            Map.entry(24, "EMFILE (Too many open files)"),
            Map.entry(26, "ETXTBSY (Text file busy)"),
            Map.entry(27, "EFBIG (File too large)"),
            Map.entry(29, "ESPIPE (Illegal seek)"),
            Map.entry(36, "ENAMETOOLONG (File name too long)"),
            Map.entry(38, "ENOSYS (no such system call)"),
            Map.entry(40, "ELOOP (Too many levels of symbolic links)"),
            Map.entry(61, "ENODATA (No data available)"),
            Map.entry(75, "EOVERFLOW (Value too large for defined data type)"),
            Map.entry(95, "EOPNOTSUPP (Operation not supported)"),
            Map.entry(110, "ETIMEDOUT (Connection timed out)"),
            Map.entry(116, "ESTALE (Stale file handle)"),
            Map.entry(117, "EUCLEAN (Structure needs cleaning)"),
            Map.entry(121, "EREMOTEIO (Remote I/O error)"),
            Map.entry(125, "ECANCELED (Operation canceled)"));

    /** {@code errno} as its name and meaning, e.g. "EINVAL (Invalid argument)"; "errno N" for others. */
    static String describe(int errno) {
        return ERRNO_NAMES.getOrDefault(errno, "errno " + errno);
    }

    private static MethodHandle downcall(Linker linker, String name, FunctionDescriptor descriptor,
                                         Linker.Option... options) {
        MemorySegment function = linker.defaultLookup().find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return downcall(linker, function, descriptor, options);
    }

    /**
     * {@code Linker.downcallHandle}, a restricted method: the launcher grants native access
     * ({@code --enable-native-access=ALL-UNNAMED}), so javac's warning is answered here once. Where
     * the JVM denies native access this throws, and {@link #unavailable()} says so.
     */
    @SuppressWarnings("restricted")
    static MethodHandle downcall(Linker linker, MemorySegment function, FunctionDescriptor descriptor,
                                 Linker.Option... options) {
        return linker.downcallHandle(function, descriptor, options);
    }
}
