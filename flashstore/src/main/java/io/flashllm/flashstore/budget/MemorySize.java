package io.flashllm.flashstore.budget;

import java.util.Locale;

/** Parses and prints byte sizes the way users write them: {@code 600M}, {@code 1.5G}, {@code 512MiB}, {@code 4096}. */
public final class MemorySize {
    private MemorySize() {}

    /** Binary units (K = 1024). Throws {@link IllegalArgumentException} with the offending text. */
    public static long parse(String text) {
        if (text == null || text.isBlank()) throw new IllegalArgumentException("empty memory size");
        String s = text.trim().toUpperCase(Locale.ROOT);
        if (s.endsWith("IB")) s = s.substring(0, s.length() - 2);
        else if (s.endsWith("B")) s = s.substring(0, s.length() - 1);
        long unit = 1;
        if (!s.isEmpty()) {
            switch (s.charAt(s.length() - 1)) {
                case 'K' -> unit = 1L << 10;
                case 'M' -> unit = 1L << 20;
                case 'G' -> unit = 1L << 30;
                case 'T' -> unit = 1L << 40;
                default -> unit = 1;
            }
            if (unit != 1) s = s.substring(0, s.length() - 1);
        }
        double v;
        try {
            v = Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a memory size: '" + text + "' (examples: 600M, 1.5G, 4096)");
        }
        if (!(v >= 0) || v * unit > Long.MAX_VALUE) throw new IllegalArgumentException("memory size out of range: '" + text + "'");
        return (long) Math.floor(v * unit);
    }

    public static String format(long bytes) {
        if (bytes < 1024) return bytes + " B";
        if (bytes < 1L << 20) return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
        if (bytes < 1L << 30) return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
        if (bytes < 1L << 40) return String.format(Locale.ROOT, "%.2f GiB", bytes / (double) (1L << 30));
        if (bytes < 1L << 50) return String.format(Locale.ROOT, "%.2f TiB", bytes / (double) (1L << 40));
        return String.format(Locale.ROOT, "%.2f PiB", bytes / (double) (1L << 50));
    }
}
