package io.flashllm.flashstore.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Random-read throughput of the {@link IoEngine} per read size and queue depth, both ways it issues
 * reads (worker threads; Linux native AIO where available), printed next to fio's figure on the
 * same file when fio is installed (same sizes, depth, O_DIRECT, libaio).
 *
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp ... io.flashllm.flashstore.io.IoBench \
 *     [--file F] [--file-size 1G] [--sizes 4k,16k,64k,256k] [--depths 1,32] [--seconds 3] [--no-fio] [--buffered]
 * </pre>
 * Without --file a file of --file-size random bytes is created in the working directory and removed after.
 */
public final class IoBench {
    private IoBench() {}

    public static void main(String[] args) throws Exception {
        Path file = null;
        long fileSize = 1L << 30;
        int[] sizes = {4 << 10, 16 << 10, 64 << 10, 256 << 10};
        int[] depths = {1, 32};
        double seconds = 3;
        boolean fio = true;
        boolean direct = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--file" -> file = Path.of(args[++i]);
                case "--file-size" -> fileSize = parseSize(args[++i]);
                case "--sizes" -> sizes = list(args[++i]);
                case "--depths" -> depths = list(args[++i]);
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--no-fio" -> fio = false;
                case "--buffered" -> direct = false;
                default -> {
                    System.err.println("unknown option " + args[i]);
                    System.exit(2);
                }
            }
        }
        boolean created = file == null;
        if (created) {
            file = Path.of("flashllm-iobench.bin").toAbsolutePath();
            createFile(file, fileSize);
        }
        boolean haveFio = fio && fioInstalled();
        try (BlockFile bf = BlockFile.open(file, direct)) {
            System.out.printf(Locale.ROOT, "file %s, %d MiB, %s reads, %.1f s per point%n", file, bf.size() >> 20,
                    bf.direct() ? "O_DIRECT" : "buffered", seconds);
            boolean aio = IoEngine.nativeAioAvailable();
            System.out.printf(Locale.ROOT, "%8s %6s %14s %14s %14s %12s%n", "size", "depth", "threads", "native AIO", "fio",
                    "best/fio");
            for (int depth : depths) {
                for (int size : sizes) {
                    double threads = measure(bf, size, depth, seconds, false);
                    double native_ = aio ? measure(bf, size, depth, seconds, true) : Double.NaN;
                    double theirs = haveFio ? fio(file, size, depth, seconds, bf.direct()) : Double.NaN;
                    double best = aio ? Math.max(threads, native_) : threads;
                    System.out.printf(Locale.ROOT, "%7dK %6d %8.0f MiB/s %14s %14s %12s%n", size >> 10, depth, threads,
                            aio ? String.format(Locale.ROOT, "%.0f MiB/s", native_) : "n/a",
                            haveFio ? String.format(Locale.ROOT, "%.0f MiB/s", theirs) : "n/a",
                            haveFio ? String.format(Locale.ROOT, "%.2fx", best / theirs) : "");
                }
            }
        } finally {
            if (created) Files.deleteIfExists(file);
        }
    }

    /** MiB/s of random reads of {@code size} bytes with {@code depth} in flight, for about {@code seconds}. */
    static double measure(BlockFile file, int size, int depth, double seconds, boolean nativeAio) {
        long blocks = file.size() / size;
        SplittableRandom rnd = new SplittableRandom(size * 31L + depth);
        int batchReads = depth * 16;
        try (IoEngine io = new IoEngine(depth, size, nativeAio)) {
            // Two batches alternate so the workers never drain: one is refilled while the other runs.
            ReadBatch[] batches = {new ReadBatch(batchReads), new ReadBatch(batchReads)};
            for (ReadBatch b : batches) b.handler((i, data, nanos) -> {});
            long bytes = 0;
            long t0 = System.nanoTime();
            long end = t0 + (long) (seconds * 1e9);
            int k = 0;
            boolean[] pending = new boolean[2];
            while (System.nanoTime() < end) {
                ReadBatch b = batches[k];
                if (pending[k]) {
                    b.await();
                    bytes += (long) batchReads * size;
                }
                b.clear();
                for (int i = 0; i < batchReads; i++) b.add(file, rnd.nextLong(blocks) * size, size);
                io.submit(b);
                pending[k] = true;
                k ^= 1;
            }
            for (int j = 0; j < 2; j++) {
                if (pending[j]) {
                    batches[j].await();
                    bytes += (long) batchReads * size;
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            return bytes / secs / (1 << 20);
        }
    }

    static boolean fioInstalled() {
        try {
            Process p = new ProcessBuilder("fio", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    static double fio(Path file, int size, int depth, double seconds, boolean direct) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("fio", "--name=r", "--filename=" + file, "--rw=randread",
                "--bs=" + size, "--direct=" + (direct ? 1 : 0), "--ioengine=libaio", "--iodepth=" + depth,
                "--runtime=" + Math.max(1, Math.round(seconds)), "--time_based", "--readonly", "--output-format=json"));
        Process p = new ProcessBuilder(cmd).start();
        byte[] out = p.getInputStream().readAllBytes();
        p.waitFor();
        JsonNode root = new ObjectMapper().readTree(out);
        return root.path("jobs").get(0).path("read").path("bw_bytes").asDouble() / (1 << 20);
    }

    private static void createFile(Path file, long size) throws IOException {
        SplittableRandom rnd = new SplittableRandom(1);
        try (Arena arena = Arena.ofConfined();
             FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
            MemorySegment buf = arena.allocate(8 << 20);
            for (long pos = 0; pos < size; pos += buf.byteSize()) {
                for (long i = 0; i < buf.byteSize(); i += 8) buf.set(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i, rnd.nextLong());
                var bb = buf.asSlice(0, Math.min(buf.byteSize(), size - pos)).asByteBuffer();
                while (bb.hasRemaining()) ch.write(bb);
            }
            ch.force(true);
        }
    }

    private static int[] list(String s) {
        String[] parts = s.split(",");
        int[] v = new int[parts.length];
        for (int i = 0; i < parts.length; i++) v[i] = (int) parseSize(parts[i]);
        return v;
    }

    private static long parseSize(String s) {
        return io.flashllm.flashstore.budget.MemorySize.parse(s);
    }
}
