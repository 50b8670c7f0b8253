package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.select.Selection;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * For studying the neuron cache offline: with {@code -Dflashllm.recordSelections=FILE} the
 * selection of every layer for every token run on its own (decode steps, and prompt tokens whose
 * batch does not fit the cache; a batch read as one union is not recorded) is appended to FILE as a line
 * {@code layer:id id id ...}. {@code scripts/cache-replay.py} replays such a file through cache
 * rules. Off unless the property is set; nothing on the hot path then but a null check.
 */
final class SelectionLog {
    private static final BufferedWriter OUT = open(System.getProperty("flashllm.recordSelections"));

    private SelectionLog() {}

    static void record(int layer, Selection sel) {
        if (OUT == null) return;
        String line = line(layer, sel);
        synchronized (OUT) {
            try {
                OUT.write(line);
                OUT.flush();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the selection log", e);
            }
        }
    }

    /** {@code layer:id id id\n}, the ids ascending as the selection holds them. */
    static String line(int layer, Selection sel) {
        StringBuilder line = new StringBuilder(8 + 6 * sel.count()).append(layer).append(':');
        int[] ids = sel.neurons();
        for (int i = 0; i < sel.count(); i++) {
            if (i > 0) line.append(' ');
            line.append(ids[i]);
        }
        return line.append('\n').toString();
    }

    private static BufferedWriter open(String file) {
        if (file == null || file.isEmpty()) return null;
        try {
            return Files.newBufferedWriter(Path.of(file));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the selection log " + file, e);
        }
    }
}
