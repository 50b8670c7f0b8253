package io.flashllm.kernels.bench;

import io.flashllm.kernels.GgmlType;
import io.flashllm.kernels.MatVec;
import io.flashllm.kernels.Parallel;
import io.flashllm.kernels.WeightTensor;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Matvec throughput per weight type, with a memory-bandwidth probe in the same run. Each
 * benchmark reports {@code bytes} as an auxiliary counter, so JMH prints bytes/s next to ops/s
 * (GB/s = bytes score / 1e9). Run (after {@code test-compile}):
 * <pre>
 * java --add-modules jdk.incubator.vector -cp kernels/target/test-classes:kernels/target/classes:$(cat cp.txt) \
 *     org.openjdk.jmh.Main MatVecBenchmark -p threads=2
 * </pre>
 * where {@code cp.txt} comes from {@code ./mvnw -pl kernels dependency:build-classpath -Dmdep.outputFile=cp.txt}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector",
        "-XX:+UnlockDiagnosticVMOptions", "-XX:+IncrementalInlineForceCleanup", "-XX:CompileCommand=quiet", "-XX:CompileCommand=inline,io.flashllm.kernels.cpu.VectorMath::exp", "-XX:CompileCommand=inline,io.flashllm.kernels.cpu.VectorMath::tanh"})
@State(Scope.Benchmark)
public class MatVecBenchmark {

    @Param({"F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q6_K"})
    public String type;
    @Param({"2048"})
    public int rows;
    @Param({"8192"})
    public int cols;
    @Param({"2"})
    public int threads;
    /** Working set per benchmark, larger than the last-level cache so weights come from DRAM. */
    @Param({"1024"})
    public int workingSetMb;

    private Arena arena;
    private Parallel pool;
    private WeightTensor[] ws;
    private int next;
    private float[] x;
    private float[] out;
    private long matrixBytes;
    private MemorySegment probe;

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Bytes {
        public long bytes;

        @Setup(Level.Iteration)
        public void reset() {
            bytes = 0;
        }
    }

    @Setup
    public void setUp() {
        GgmlType t = GgmlType.valueOf(type);
        arena = Arena.ofShared();
        pool = Parallel.create(threads);
        matrixBytes = t.bytesFor((long) rows * cols);
        int copies = (int) Math.max(1, ((long) workingSetMb << 20) / matrixBytes);
        ws = BenchTensors.matrices(arena, t, rows, cols, copies, 7);
        Random rnd = new Random(3);
        x = new float[cols];
        for (int i = 0; i < cols; i++) x[i] = (float) rnd.nextGaussian();
        out = new float[rows];
        probe = arena.allocate((long) workingSetMb << 20, 4096);
        probe.fill((byte) 1);
    }

    @TearDown
    public void tearDown() {
        pool.close();
        arena.close();
    }

    @Benchmark
    public float matvec(Bytes b) {
        WeightTensor w = ws[next];
        next = next + 1 == ws.length ? 0 : next + 1;
        MatVec.matvec(pool, w, x, out);
        b.bytes += matrixBytes;
        return out[0];
    }

    /** Streaming read of the same working-set size with the same threads: the bandwidth ceiling. */
    @Benchmark
    public float memoryRead(Bytes b) {
        float[] partial = new float[pool.threads() * 16];
        long chunk = probe.byteSize() / partial.length / 64 * 64;
        pool.forRange(partial.length, (from, to) -> {
            for (int c = from; c < to; c++) partial[c] = MemoryProbe.sumRange(probe, c * chunk, chunk);
        });
        b.bytes += chunk * partial.length;
        return partial[0];
    }
}
