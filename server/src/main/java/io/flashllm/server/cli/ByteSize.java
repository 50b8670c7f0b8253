package io.flashllm.server.cli;

import java.util.Locale;

/** Sizes as people type them: 600M, 1.5G, 512KiB, 4096 (bytes). Binary multiples, as memory is counted. */
final class ByteSize {
    private ByteSize() {}

    static long parse(String text, String option) {
        String s = text.trim().toUpperCase(Locale.ROOT).replace("IB", "").replace("B", "");
        long unit = 1;
        if (!s.isEmpty()) {
            switch (s.charAt(s.length() - 1)) {
                case 'K' -> unit = 1L << 10;
                case 'M' -> unit = 1L << 20;
                case 'G' -> unit = 1L << 30;
                case 'T' -> unit = 1L << 40;
                default -> { }
            }
        }
        if (unit > 1) s = s.substring(0, s.length() - 1).trim();
        try {
            double v = Double.parseDouble(s);
            if (!(v >= 0) || Double.isInfinite(v) || v * unit > Long.MAX_VALUE) throw new NumberFormatException();
            return (long) (v * unit);
        } catch (NumberFormatException e) {
            throw new CliErrors.UsageException(option + " takes a size such as 600M, 1.5G or 4096, not '" + text + "'");
        }
    }
}
