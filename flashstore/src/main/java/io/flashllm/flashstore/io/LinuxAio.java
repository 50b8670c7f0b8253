package io.flashllm.flashstore.io;

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

/**
 * Linux native asynchronous I/O (io_setup / io_submit / io_getevents) through the FFM API, no
 * native library of our own. With O_DIRECT these reads are truly asynchronous: one thread keeps
 * dozens in flight with one system call per batch, where blocking {@code pread}s need a thread per
 * read in flight. On this machine kind fio reads 8 KiB blocks at 90k IOPS that way against 69k
 * from 16 {@code pread} threads (docs/benchmarks.md §4, session 3).
 *
 * <p>Chosen over io_uring because Docker's default seccomp profile allows these calls and refuses
 * io_uring's. The system calls have no glibc wrappers, so they go through {@code syscall(2)} with
 * the numbers of x86-64 and AArch64; on any other platform {@link #unavailable()} says why not.
 */
final class LinuxAio {
    private LinuxAio() {}

    static final int IOCB_CMD_PREAD = 0;
    static final int IOCB_BYTES = 64;
    static final int EVENT_BYTES = 32;
    static final int EAGAIN = 11, EINTR = 4;

    private record Arch(long ioSetup, long ioDestroy, long ioGetevents, long ioSubmit) {}

    // Linux's generic syscall table (asm-generic/unistd.h) for AArch64; x86-64 has its own.
    private static final Arch X86_64 = new Arch(206, 207, 208, 209);
    private static final Arch AARCH64 = new Arch(0, 1, 4, 2);

    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final Arch ARCH;
    private static final MethodHandle SYSCALL2, SYSCALL3, SYSCALL5;
    private static final String UNAVAILABLE;

    static {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String cpu = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        Arch arch = cpu.equals("amd64") || cpu.equals("x86_64") ? X86_64 : cpu.equals("aarch64") ? AARCH64 : null;
        MethodHandle s2 = null, s3 = null, s5 = null;
        String why = null;
        if (!os.startsWith("linux")) {
            why = "not Linux";
        } else if (arch == null) {
            why = "no system call table for " + cpu;
        } else {
            try {
                Linker linker = Linker.nativeLinker();
                MemorySegment syscall = linker.defaultLookup().find("syscall").orElseThrow();
                Linker.Option errno = Linker.Option.captureCallState("errno");
                s2 = downcall(linker, syscall, FunctionDescriptor.of(ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
                        Linker.Option.firstVariadicArg(1), errno);
                s3 = downcall(linker, syscall, FunctionDescriptor.of(ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG),
                        Linker.Option.firstVariadicArg(1), errno);
                s5 = downcall(linker, syscall, FunctionDescriptor.of(ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG), Linker.Option.firstVariadicArg(1), errno);
            } catch (RuntimeException | Error e) {
                why = "no native linker: " + e;
            }
        }
        if (why == null) why = probe(arch, s2, s3);
        ARCH = arch;
        SYSCALL2 = s2;
        SYSCALL3 = s3;
        SYSCALL5 = s5;
        UNAVAILABLE = why;
    }

    /** Sets up and destroys a context once: seccomp (containers) or a kernel without AIO refuse here. */
    private static String probe(Arch arch, MethodHandle s2, MethodHandle s3) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ctx = a.allocate(ValueLayout.JAVA_LONG);
            MemorySegment state = a.allocate(CAPTURE);
            long r = (long) s3.invokeExact(state, arch.ioSetup, 1L, ctx.address(), 0L);
            if (r < 0) return "io_setup refused: errno " + errno(state);
            long destroyed = (long) s2.invokeExact(state, arch.ioDestroy, ctx.get(ValueLayout.JAVA_LONG, 0), 0L);
            return destroyed < 0 ? "io_destroy failed: errno " + errno(state) : null;
        } catch (Throwable t) {
            return "io_setup failed: " + t;
        }
    }

    /** Why native AIO cannot be used here, or null when it can. */
    static String unavailable() {
        return UNAVAILABLE;
    }

    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    static MemorySegment newCallState(Arena arena) {
        return arena.allocate(CAPTURE);
    }

    /**
     * A context for up to {@code events} reads in flight; returns its id, or throws with the errno
     * (EAGAIN when the system-wide limit fs.aio-max-nr is used up).
     */
    static long setup(int events) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = a.allocate(CAPTURE);
            MemorySegment ctx = a.allocate(ValueLayout.JAVA_LONG);
            long r = call3(state, ARCH.ioSetup, events, ctx.address(), 0);
            if (r < 0) throw new IllegalStateException("io_setup(" + events + ") failed: errno " + errno(state));
            return ctx.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    static void destroy(long ctx, MemorySegment state) {
        call2(state, ARCH.ioDestroy, ctx);
    }

    /**
     * Submits {@code n} iocbs whose addresses sit in {@code pointers} from its {@code first}-th on;
     * how many went in, or -1 (errno in state).
     */
    static long submit(long ctx, long n, MemorySegment pointers, long first, MemorySegment state) {
        return call3(state, ARCH.ioSubmit, ctx, n, pointers.address() + first * Long.BYTES);
    }

    /** Waits for at least {@code min} and takes at most {@code max} completions; their count, or -1. */
    static long getEvents(long ctx, long min, long max, MemorySegment events, MemorySegment state) {
        try {
            return (long) SYSCALL5.invokeExact(state, ARCH.ioGetevents, ctx, min, max, events.address(), 0L);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Fills the iocb at byte {@code at} of {@code iocbs} with a read of {@code length} bytes at {@code offset} into {@code buffer}. */
    static void prepareRead(MemorySegment iocbs, long at, long data, int fd, long buffer, long length, long offset) {
        // Every field written, the reserved ones as zero: no slice or fill per read.
        iocbs.set(ValueLayout.JAVA_LONG, at, data);
        iocbs.set(ValueLayout.JAVA_LONG, at + 8, 0L);                    // aio_key, aio_rw_flags
        iocbs.set(ValueLayout.JAVA_SHORT, at + 16, (short) IOCB_CMD_PREAD);
        iocbs.set(ValueLayout.JAVA_SHORT, at + 18, (short) 0);           // aio_reqprio
        iocbs.set(ValueLayout.JAVA_INT, at + 20, fd);
        iocbs.set(ValueLayout.JAVA_LONG, at + 24, buffer);
        iocbs.set(ValueLayout.JAVA_LONG, at + 32, length);
        iocbs.set(ValueLayout.JAVA_LONG, at + 40, offset);
        iocbs.set(ValueLayout.JAVA_LONG, at + 48, 0L);                   // aio_reserved2
        iocbs.set(ValueLayout.JAVA_LONG, at + 56, 0L);                   // aio_flags, aio_resfd
    }

    private static long call2(MemorySegment state, long nr, long a) {
        try {
            return (long) SYSCALL2.invokeExact(state, nr, a, 0L);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static long call3(MemorySegment state, long nr, long a, long b, long c) {
        try {
            return (long) SYSCALL3.invokeExact(state, nr, a, b, c);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private static MethodHandle downcall(Linker linker, MemorySegment function, FunctionDescriptor descriptor,
                                         Linker.Option... options) {
        return Posix.downcall(linker, function, descriptor, options);
    }
}
