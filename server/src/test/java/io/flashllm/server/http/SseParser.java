package io.flashllm.server.http;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A small server-sent-events reader per the WHATWG rules that matter here: lines ending in LF,
 * "data:" lines (one optional space after the colon) joined with LF, ":" comment lines, an event
 * ends at a blank line. Comments are kept so tests can see pings.
 */
final class SseParser {
    /** One event: its data, or a comment when {@code comment} is set. */
    record Event(String data, String comment) {}

    private final BufferedReader reader;

    SseParser(InputStream in) {
        this.reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    }

    /** The next event or comment; null at end of stream. Fails on lines a conforming server would not send. */
    Event next() throws IOException {
        StringBuilder data = null;
        String line;
        while ((line = reader.readLine()) != null) {
            if (line.isEmpty()) {
                if (data != null) return new Event(data.toString(), null);
                continue;
            }
            if (line.startsWith(":")) {
                return new Event(null, line.substring(1).trim());
            }
            if (!line.startsWith("data:")) throw new IOException("unexpected SSE line: " + line);
            String value = line.substring(5);
            if (value.startsWith(" ")) value = value.substring(1);
            if (data == null) data = new StringBuilder(value); else data.append('\n').append(value);
        }
        if (data != null) throw new IOException("stream ended inside an event: " + data);
        return null;
    }

    /** Every remaining event, comments included. */
    List<Event> all() throws IOException {
        List<Event> out = new ArrayList<>();
        for (Event e; (e = next()) != null; ) out.add(e);
        return out;
    }

    static List<Event> parse(String text) throws IOException {
        return new SseParser(new java.io.ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8))).all();
    }
}
