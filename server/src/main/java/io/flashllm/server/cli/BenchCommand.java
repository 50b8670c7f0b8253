package io.flashllm.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashllm.engine.api.ExpertStats;
import io.flashllm.engine.api.ExpertStatsSource;
import io.flashllm.engine.api.FlashStats;
import io.flashllm.engine.api.FlashStatsSource;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.api.Session;
import io.flashllm.engine.generate.ModelWarmup;
import io.flashllm.kernels.cpu.Simd;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code flashllm bench}: prompt-processing and decoding speed, like llama-bench's pp/tg figures.
 * A warm-up run comes first; the measured run processes a prompt of exactly the requested length
 * and decodes greedily. A model that stops early (end of sequence) is run again from a fresh
 * session until enough tokens were decoded, and the speeds are totals over all runs.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure prompt processing and decoding speed (tokens/s) and peak memory.")
public final class BenchCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Option(names = "--prompt-tokens", paramLabel = "P", defaultValue = "128",
            description = "Prompt length in tokens (default: ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--gen-tokens", paramLabel = "G", defaultValue = "64",
            description = "Tokens to decode (default: ${DEFAULT-VALUE}).")
    int genTokens;

    @Option(names = "--warmup", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Run a short warm-up first so the JIT has compiled the kernels (default: on).")
    boolean warmup;

    @Option(names = {"-r", "--repetitions"}, paramLabel = "R", defaultValue = "1",
            description = "Measure R times and report mean and standard deviation (default: ${DEFAULT-VALUE}).")
    int repetitions;

    @Option(names = "--parallel", paramLabel = "N", defaultValue = "1",
            description = "Sequences decoding at once, each in its own session as serve's slots (decode steps of four"
                    + " or more run as one batch); the decode figure is their tokens per second together (default: ${DEFAULT-VALUE}).")
    int parallel;

    @Option(names = "--json", description = "Print the figures as one JSON object.")
    boolean json;

    @Spec
    CommandSpec spec;

    private static final String FILLER = "The quick brown fox jumps over the lazy dog while the sun sets behind the hills, "
            + "and a gentle wind carries the smell of rain across the quiet valley. ";

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (promptTokens < 1 || genTokens < 1) {
            throw new CliErrors.UsageException("--prompt-tokens and --gen-tokens must be at least 1");
        }
        if (repetitions < 1) throw new CliErrors.UsageException("--repetitions must be at least 1, got " + repetitions);
        if (parallel < 1 || parallel > MAX_PARALLEL) {
            throw new CliErrors.UsageException("--parallel must be between 1 and " + MAX_PARALLEL + ", got " + parallel);
        }
        Path path = model.model != null ? model.model : DemoModel.ensure(err);
        long t0 = System.nanoTime();
        try (InferenceModel m = model.load(path, parallel)) {
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            int modelContext = m.info().contextLength();
            if ((long) promptTokens + genTokens >= modelContext) {
                throw new CliErrors.UsageException("the model's context holds " + modelContext + " tokens: "
                        + promptTokens + " prompt and " + genTokens + " generated tokens do not fit");
            }
            int context = model.ctx != null ? model.ctx : promptTokens + genTokens + 1;
            if (promptTokens + genTokens > context) {
                throw new CliErrors.UsageException("--ctx " + context + " cannot hold " + promptTokens
                        + " prompt and " + genTokens + " generated tokens");
            }
            int[] prompt = prompt(m, promptTokens);
            if (warmup) ModelWarmup.run(m); // as the server does before /health says ok
            PeakMemory.resetPeaks();
            double[] pps = new double[repetitions], tgs = new double[repetitions];
            int decoded = 0, runs = 0;
            FlashStats flashStats = m instanceof FlashStatsSource src ? src.flashStats().orElse(null) : null;
            FlashFigures flash = FlashFigures.NONE;
            ExpertStats expertStats = m instanceof ExpertStatsSource src ? src.expertStats().orElse(null) : null;
            long[] expertsBefore = expertTotals(expertStats);
            for (int rep = 0; rep < repetitions; rep++) {
                Measured r = parallel == 1 ? measure(m, prompt, context, flashStats)
                        : measureParallel(m, prompt, context, flashStats);
                pps[rep] = r.promptTokS();
                tgs[rep] = r.decodeTokS();
                decoded = r.decoded();
                runs = Math.max(runs, r.runs());
                flash = flash.plus(r.flash());
            }
            double pp = mean(pps), tg = mean(tgs);
            long[] experts = expertTotals(expertStats);
            for (int i = 0; i < experts.length; i++) experts[i] -= expertsBefore[i];
            String kvType = model.loadOptions().kvCacheType().name().toLowerCase(Locale.ROOT);
            long heap = PeakMemory.peakHeapBytes();
            long rss = PeakMemory.peakRssBytes();
            if (json) {
                ObjectNode o = new ObjectMapper().createObjectNode();
                o.put("model", path.toString());
                o.put("architecture", m.info().architecture());
                o.put("parameters", m.info().parameterCount());
                o.put("threads", model.threads());
                o.put("parallel", parallel);
                o.put("vector_bits", Simd.F.vectorBitSize());
                o.put("kv_type", kvType);
                o.put("ctx", context);
                o.put("prompt_tokens", promptTokens);
                o.put("gen_tokens", decoded);
                o.put("runs", runs);
                o.put("load_s", loadSeconds);
                o.put("repetitions", repetitions);
                o.put("prompt_tok_s", pp);
                o.put("decode_tok_s", tg);
                o.put("prompt_tok_s_stddev", stddev(pps));
                o.put("decode_tok_s_stddev", stddev(tgs));
                o.put("peak_heap_bytes", heap);
                o.put("peak_rss_bytes", rss);
                if (flashStats != null && flash.tokens() > 0) {
                    o.put("flash_cache_hit_rate", flash.hitRate());
                    o.put("flash_neurons_needed_per_token", flash.perToken(flash.lookups()));
                    o.put("flash_neurons_read_per_token", flash.perToken(flash.neuronsLoaded()));
                    o.put("flash_neurons_read_ahead_per_token", flash.perToken(flash.readAhead()));
                    o.put("flash_bytes_per_token", flash.perToken(flash.bytesRead()));
                    o.put("flash_reads_per_token", flash.perToken(flash.reads()));
                    o.put("flash_read_ms_mean", flash.meanReadMillis());
                    o.put("ffn_select_ms_per_token", flash.millisPerToken(flash.selectNanos()));
                    o.put("ffn_wait_ms_per_token", flash.millisPerToken(flash.waitNanos()));
                    o.put("ffn_compute_ms_per_token", flash.millisPerToken(flash.computeNanos()));
                }
                if (expertStats != null) {
                    o.put("expert_lookups", experts[0]);
                    o.put("expert_misses", experts[1]);
                    o.put("expert_pageouts", experts[2]);
                    o.put("expert_read_ahead", experts[3]);
                }
                out.println(o);
            } else {
                out.printf(Locale.ROOT, "model        %s (%s, %,d parameters)%n", path, m.info().architecture(),
                        m.info().parameterCount());
                out.printf(Locale.ROOT, "threads      %d%n", model.threads());
                out.printf(Locale.ROOT, "simd         %s%n", Simd.describe());
                out.printf(Locale.ROOT, "kv cache     %s, %d positions%s%n", kvType, context,
                        parallel > 1 ? " for each of " + parallel + " sequences" : "");
                out.printf(Locale.ROOT, "load         %.2f s%n", loadSeconds);
                out.printf(Locale.ROOT, "prompt       %d tokens  %.1f%s tok/s%n", promptTokens, pp,
                        repetitions > 1 ? String.format(Locale.ROOT, " ± %.1f", stddev(pps)) : "");
                out.printf(Locale.ROOT, "decode       %d tokens  %.1f%s tok/s%s%n", decoded, tg,
                        repetitions > 1 ? String.format(Locale.ROOT, " ± %.1f", stddev(tgs)) : "",
                        parallel > 1 ? "  (" + parallel + " sequences at once, all together)"
                                : runs > 1 ? "  (" + runs + " runs: the model stopped early)" : "");
                if (repetitions > 1) out.printf(Locale.ROOT, "repetitions  %d (mean ± standard deviation)%n", repetitions);
                out.printf(Locale.ROOT, "peak heap    %.1f MiB%n", heap / 1048576.0);
                if (rss >= 0) out.printf(Locale.ROOT, "peak RSS     %.1f MiB%n", rss / 1048576.0);
                if (flashStats != null && flash.tokens() > 0) {
                    out.printf(Locale.ROOT, "flash        per decoded token: %,.0f neurons needed, %.1f%% in the DRAM cache, "
                                    + "%,.0f read (%,.0f of them ahead, on a guess) in %,.0f reads (%.1f MiB, %.2f ms mean read)%n",
                            flash.perToken(flash.lookups()), 100 * flash.hitRate(),
                            flash.perToken(flash.neuronsLoaded()), flash.perToken(flash.readAhead()), flash.perToken(flash.reads()),
                            flash.perToken(flash.bytesRead()) / 1048576.0, flash.meanReadMillis());
                    out.printf(Locale.ROOT, "ffn time     per decoded token: %.1f ms choosing neurons, %.1f ms waiting on flash, "
                                    + "%.1f ms computing%n", flash.millisPerToken(flash.selectNanos()),
                            flash.millisPerToken(flash.waitNanos()), flash.millisPerToken(flash.computeNanos()));
                }
                if (expertStats != null) {
                    out.printf(Locale.ROOT, "experts      %,d used (prompts and decode, all layers), %.1f%% in DRAM, %,d read"
                                    + " from the file (%,d of them ahead of the router), %,d paged out%n", experts[0],
                            experts[0] == 0 ? 0.0 : 100.0 * (experts[0] - experts[1]) / experts[0], experts[1], experts[3],
                            experts[2]);
                }
            }
            out.flush();
        }
        return 0;
    }

    /** Experts used, missed, paged out and read ahead so far, all layers; zeros without experts. */
    private static long[] expertTotals(ExpertStats stats) {
        long[] t = new long[4];
        if (stats == null) return t;
        for (int l = 0; l < stats.layers(); l++) {
            t[0] += stats.lookups(l);
            t[1] += stats.misses(l);
            t[2] += stats.pageOuts(l);
            t[3] += stats.readAhead(l);
        }
        return t;
    }

    private record Measured(double promptTokS, double decodeTokS, int decoded, int runs, FlashFigures flash) {}

    /**
     * One measured pass: the prompt, then greedy decoding from fresh sessions until enough tokens came
     * out. With {@code flashStats}, the flash counters are read at every token: the interval from the
     * first token to the last covers the decode steps only (the prompt's batched reads are left out).
     */
    private Measured measure(InferenceModel m, int[] prompt, int context, FlashStats flashStats) {
        long promptNanos = 0, decodeNanos = 0, promptDone = 0;
        int decoded = 0, runs = 0;
        FlashFigures flash = FlashFigures.NONE;
        while (decoded < genTokens) {
            try (Session s = m.openSession(context)) {
                FlashFigures.Snapshot[] firstLast = new FlashFigures.Snapshot[2];
                int[] tokens = {0};
                GenerationResult r = s.generate(prompt, SamplingParams.greedy(genTokens - decoded), t -> {
                    if (flashStats != null) {
                        FlashFigures.Snapshot now = FlashFigures.snapshot(flashStats);
                        if (firstLast[0] == null) firstLast[0] = now;
                        firstLast[1] = now;
                    }
                    tokens[0]++;
                    return true;
                });
                if (firstLast[0] != null) flash = flash.plus(firstLast[1].since(firstLast[0], tokens[0] - 1L));
                promptNanos += r.promptNanos();
                promptDone += r.promptTokens().length;
                decodeNanos += r.generationNanos();
                decoded += r.tokens().length;
                runs++;
                if (r.tokens().length == 0) break;
            }
        }
        return new Measured(TextGeneration.rate((int) promptDone, promptNanos),
                TextGeneration.rate(decoded, decodeNanos), decoded, runs, flash);
    }

    /** A bound on threads and KV caches for a benchmark; serve's batches take up to seven sequences at a time. */
    static final int MAX_PARALLEL = 64;

    /**
     * {@link #parallel} sequences, one thread and session each, prompts first (they take turns on the
     * model; the prompt figure is all of them over the time until the last has its first token),
     * then decoding together from that moment: the decode figure is the tokens after each first
     * one, all sequences together, over the time until the last sequence ends. A sequence that
     * stops early just decodes fewer tokens.
     */
    private Measured measureParallel(InferenceModel m, int[] prompt, int context, FlashStats flashStats) {
        int n = parallel;
        long[] start = new long[1];
        FlashFigures.Snapshot[] atStart = new FlashFigures.Snapshot[1];
        CyclicBarrier decoding = new CyclicBarrier(n, () -> {
            start[0] = System.nanoTime();
            if (flashStats != null) atStart[0] = FlashFigures.snapshot(flashStats);
        });
        long[] end = new long[n];
        int[] after = new int[n];
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread[] threads = new Thread[n];
        long begin = System.nanoTime();
        for (int i = 0; i < n; i++) {
            int id = i;
            threads[i] = Thread.ofPlatform().name("bench-sequence-" + i).start(() -> {
                try (Session s = m.openSession(context)) {
                    int[] count = {0};
                    GenerationResult r = s.generate(prompt, SamplingParams.greedy(genTokens),
                            t -> count[0]++ > 0 || arrive(decoding));
                    if (count[0] == 0) arrive(decoding); // stopped before its first token: the others still start
                    end[id] = System.nanoTime();
                    after[id] = Math.max(0, count[0] - 1);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                    decoding.reset(); // the others stop waiting (and stop decoding)
                }
            });
        }
        try {
            for (Thread t : threads) t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the sequences decoded", e);
        }
        if (failure.get() != null) throw new IllegalStateException("a sequence failed: " + failure.get().getMessage(), failure.get());
        long last = 0;
        int tokens = 0;
        for (int i = 0; i < n; i++) {
            last = Math.max(last, end[i]);
            tokens += after[i];
        }
        FlashFigures flash = flashStats == null || atStart[0] == null ? FlashFigures.NONE
                : FlashFigures.snapshot(flashStats).since(atStart[0], tokens);
        // The prompts take turns on the model: their figure is all of them over the time until the last one is done.
        return new Measured(TextGeneration.rate(n * prompt.length, start[0] - begin), TextGeneration.rate(tokens, last - start[0]),
                tokens, 1, flash);
    }

    /** Waits at the barrier; false (stop decoding) when another sequence failed. */
    private static boolean arrive(CyclicBarrier barrier) {
        try {
            barrier.await();
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (BrokenBarrierException e) {
            return false;
        }
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }

    private static double stddev(double[] v) {
        if (v.length < 2) return 0;
        double m = mean(v), s = 0;
        for (double x : v) s += (x - m) * (x - m);
        return Math.sqrt(s / (v.length - 1));
    }

    /**
     * Exactly {@code n} tokens: BOS (when the model uses one), then the filler text repeated, cut to
     * length. The text doubles until it is long enough, so a long prompt takes a few tokenizer
     * calls, not one per repetition.
     */
    static int[] prompt(InferenceModel m, int n) {
        String text = FILLER;
        int[] ids = m.tokenize(text, true);
        while (ids.length < n) {
            text = text + text;
            ids = m.tokenize(text, true);
        }
        return Arrays.copyOf(ids, n);
    }
}
