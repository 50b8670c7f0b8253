package io.flashllm.engine.generate;

import java.util.List;

/**
 * Watches generated text for stop strings. Text that could be the start of a stop string is held
 * back until it is known not to be one, so a stop string is never emitted, not even in part.
 * Not thread-safe; one per generation.
 */
final class StopStrings {
    private final List<String> stops;
    private final StringBuilder held = new StringBuilder();
    private boolean stopped;

    StopStrings(List<String> stops) {
        this.stops = stops.stream().filter(s -> !s.isEmpty()).toList();
    }

    /** Adds generated text; returns what may be shown now. After a stop string, returns only the text before it. */
    String push(String text) {
        if (stopped) return "";
        held.append(text);
        if (stops.isEmpty()) return drain(held.length());
        int first = -1;
        for (String s : stops) {
            int i = held.indexOf(s);
            if (i >= 0 && (first < 0 || i < first)) first = i;
        }
        if (first >= 0) {
            stopped = true;
            String out = held.substring(0, first);
            held.setLength(0);
            return out;
        }
        return drain(held.length() - heldBackLength());
    }

    /** True once a stop string appeared; everything after it is dropped. */
    boolean stopped() {
        return stopped;
    }

    /** The text still held back (generation ended without the stop string completing). */
    String flush() {
        return stopped ? "" : drain(held.length());
    }

    /** Length of the longest end of the held text that begins some stop string. */
    private int heldBackLength() {
        int longest = 0;
        for (String s : stops) {
            int max = Math.min(s.length() - 1, held.length());
            for (int n = max; n > longest; n--) {
                if (endsWithPrefix(s, n)) {
                    longest = n;
                    break;
                }
            }
        }
        return longest;
    }

    private boolean endsWithPrefix(String stop, int n) {
        int start = held.length() - n;
        for (int i = 0; i < n; i++) {
            if (held.charAt(start + i) != stop.charAt(i)) return false;
        }
        return true;
    }

    private String drain(int n) {
        if (n <= 0) return "";
        String out = held.substring(0, n);
        held.delete(0, n);
        return out;
    }
}
