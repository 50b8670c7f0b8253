package io.flashllm.loadtests;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Client-side token timings of one load level, fed from Gatling's SSE receive timestamps:
 * time to first token, gaps between tokens, tokens and wall time per completed stream.
 */
final class TokenTimings {
    final int users;
    private final List<Long> ttftMillis = new ArrayList<>();
    private final List<Long> gapMillis = new ArrayList<>();
    private long tokens;
    private long streams;
    private long incomplete;
    private long firstStart = Long.MAX_VALUE;
    private long lastEnd;

    TokenTimings(int users) {
        this.users = users;
    }

    synchronized void firstToken(long startMillis, long firstMillis) {
        ttftMillis.add(firstMillis - startMillis);
        firstStart = Math.min(firstStart, startMillis);
    }

    synchronized void gap(long millis) {
        gapMillis.add(millis);
    }

    synchronized void finished(long tokensInStream, long endMillis, boolean done) {
        tokens += tokensInStream;
        streams++;
        if (!done) incomplete++;
        lastEnd = Math.max(lastEnd, endMillis);
    }

    private static double percentile(List<Long> values, double p) {
        if (values.isEmpty()) return Double.NaN;
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }

    synchronized long incomplete() {
        return incomplete;
    }

    synchronized long streams() {
        return streams;
    }

    /** One line of the summary table. */
    synchronized String row() {
        double seconds = Math.max(1, lastEnd - firstStart) / 1000.0;
        return String.format(Locale.ROOT, "| %5d | %7d | %10d | %8.1f | %8.1f | %8.1f | %8.1f | %9.1f | %8.2f |",
                users, streams, incomplete, percentile(ttftMillis, 50), percentile(ttftMillis, 99),
                percentile(gapMillis, 50), percentile(gapMillis, 99), tokens / seconds,
                streams == 0 ? 0 : tokens / (double) streams);
    }

    static String header() {
        return "| users | streams | incomplete | TTFT p50 | TTFT p99 | ITL p50  | ITL p99  | tokens/s  | tok/strm |\n"
             + "|------:|--------:|-----------:|---------:|---------:|---------:|---------:|----------:|---------:|";
    }

    /** JSON for scripts (times in milliseconds). */
    synchronized String json() {
        double seconds = Math.max(1, lastEnd - firstStart) / 1000.0;
        return String.format(Locale.ROOT,
                "{\"users\":%d,\"streams\":%d,\"incomplete\":%d,\"ttft_ms_p50\":%.1f,\"ttft_ms_p99\":%.1f,"
                        + "\"itl_ms_p50\":%.1f,\"itl_ms_p99\":%.1f,\"tokens_per_s\":%.2f,\"tokens\":%d}",
                users, streams, incomplete, percentile(ttftMillis, 50), percentile(ttftMillis, 99),
                percentile(gapMillis, 50), percentile(gapMillis, 99), tokens / seconds, tokens);
    }
}
