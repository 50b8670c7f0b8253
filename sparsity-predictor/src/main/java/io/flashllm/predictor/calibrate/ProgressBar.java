package io.flashllm.predictor.calibrate;

import java.io.PrintStream;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A one-line progress bar on a terminal stream (stderr): done/total, percentage, rate and time
 * left, redrawn in place at most five times a second. When the stream is not a terminal (a log
 * file, a container's output) it prints a plain line at each tenth of the work instead, so logs
 * stay readable. With a null stream it only counts.
 */
public final class ProgressBar implements AutoCloseable {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final String label;
    private final long total;
    private final String unit;
    private final AtomicLong done = new AtomicLong();
    private final long start = System.nanoTime();
    private volatile String status = "";
    private final boolean interactive;
    private long lastDraw;
    private long lastTenth = -1;

    public ProgressBar(PrintStream out, String label, long total, String unit) {
        this(out, label, total, unit, System.console() != null && System.console().isTerminal());
    }

    /** {@code interactive}: redraw in place (a terminal) or print a line per tenth (a log). */
    public ProgressBar(PrintStream out, String label, long total, String unit, boolean interactive) {
        this.interactive = interactive;
        this.out = out;
        this.label = label;
        this.total = Math.max(1, total);
        this.unit = unit;
    }

    public void advance(long n) {
        done.addAndGet(n);
        draw(false);
    }

    /** Short text after the bar (e.g. the current layer). */
    public void status(String s) {
        status = s;
        draw(true);
    }

    public long done() {
        return done.get();
    }

    private synchronized void draw(boolean force) {
        if (out == null) return;
        long now = System.nanoTime();
        long d = Math.min(done.get(), total);
        if (!interactive) {
            long tenth = 10 * d / total;
            if (tenth == lastTenth) return;
            lastTenth = tenth;
        } else {
            if (!force && now - lastDraw < 200_000_000L && done.get() < total) return;
            lastDraw = now;
        }
        int filled = (int) (WIDTH * d / total);
        double secs = (now - start) / 1e9;
        double rate = secs > 0 ? d / secs : 0;
        String eta = rate > 0 && d < total ? " ETA " + duration((total - d) / rate) : "";
        String line = label + " [" + "#".repeat(filled) + "-".repeat(WIDTH - filled) + "] "
                + String.format("%3d%% %d/%d %s %.1f/s", 100 * d / total, d, total, unit, rate) + eta + " " + status;
        if (interactive) {
            out.print("\r" + line + "\033[K");
        } else {
            out.println(line.stripTrailing());
        }
        out.flush();
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 60 ? (s / 60) + "m" + String.format("%02d", s % 60) + "s" : s + "s";
    }

    /** Final redraw and newline. */
    @Override
    public void close() {
        if (out == null) return;
        draw(true);
        if (interactive) out.println();
        out.flush();
    }
}
