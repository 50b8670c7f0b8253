package io.flashllm.server.http;

import java.util.List;

/**
 * Streams text while watching for markers: text is passed on as it comes, except a tail that could be the
 * start of a marker; from the first marker on, everything is held (a tool call is sent whole at the end, not
 * as words).
 */
final class HeldBack {
    private final List<String> markers;
    private final StringBuilder held = new StringBuilder();
    private boolean seen;

    HeldBack(List<String> markers) {
        if (markers.isEmpty()) throw new IllegalArgumentException("no marker to watch for");
        this.markers = List.copyOf(markers);
    }

    /** The text that can go out now. */
    String push(String piece) {
        held.append(piece);
        if (seen) return "";
        int at = -1;
        for (String marker : markers) {
            int i = held.indexOf(marker);
            if (i >= 0 && (at < 0 || i < at)) at = i;
        }
        if (at >= 0) {
            seen = true;
            String out = held.substring(0, at);
            held.delete(0, at);
            return out;
        }
        int keep = 0;
        for (String marker : markers) keep = Math.max(keep, partialMarker(held, marker));
        String out = held.substring(0, held.length() - keep);
        held.delete(0, held.length() - keep);
        return out;
    }

    /** The length of the longest tail of {@code text} that could still become {@code marker} with more text. */
    static int partialMarker(CharSequence text, String marker) {
        int n = text.length();
        int keep = Math.min(marker.length() - 1, n);
        while (keep > 0 && !marker.startsWith(text.subSequence(n - keep, n).toString())) keep--;
        return keep;
    }

    /** Whether the marker has appeared. */
    boolean seen() {
        return seen;
    }

    /** What is held, which is no longer held. */
    String rest() {
        String r = held.toString();
        held.setLength(0);
        return r;
    }
}
