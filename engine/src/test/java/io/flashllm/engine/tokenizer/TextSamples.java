package io.flashllm.engine.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Test texts: fixed tricky cases plus seeded random mixes of words, digits, whitespace runs, accents, scripts and emoji. */
final class TextSamples {
    private TextSamples() {}

    static final List<String> FIXED = List.of(
            "", " ", "  ", "   ", "\n", "\n\n", "\t", " \t\n ", "Hello world", "hello  world", " leading space",
            "trailing space ", "The morning was cold and clear.", "It's we're they've I'm you'll he'd",
            "IT'S WE'RE", "3.14159 and 1234567890 and 12,345", "2026-11-22 07:15", "a\nb\r\nc",
            "caf\u00e9 na\u00efve \u00fcber Stra\u00dfe", "\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440",
            "\u65e5\u672c\u8a9e\u306e\u6587\u7ae0", "\u0645\u0631\u062d\u0628\u0627", "\ud83d\ude00 \ud83d\udc4d\ud83c\udffd",
            "\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67", "x\u00a0y", "tab\tseparated\tvalues",
            "    indented code();", "if (a < b) { return c[i] * 2; }", "!!!???...", "'quoted' \"double\"",
            "e\u0301", "\u00bd \u2153 \u2460 \u0663", "mixed\u2581marker", "\u0120\u010a odd byte chars");

    private static final String[] PARTS = {
        "the", "The", " and", " of", "water", " river", "morning", "program", "people", "island", " ", "  ", "   ",
        "\n", "\n\n", "\t", ",", ".", "!", "?", "'s", "'ll", "-", "(", ")", "\"", "0", "7", "42", "1969", "3.5",
        "100000", "\u00e9", "\u00fc", "\u00df", "\u00f1", "\u0436\u0438\u0437\u043d\u044c", "\u4e16\u754c",
        "\u3053\u3093\u306b\u3061\u306f", "\ud83d\ude80", "\ud83c\udf89", "\u2764\ufe0f", "\u00a0", "\u2003",
        "\u200b", "caf\u00e9", "x", "Q", "zz", "ing", "tion", "\u0394", "\u00c5ngstr\u00f6m",
        // Edge characters for the word-splitting regexes: odd whitespace, other numerals, combining marks.
        "\u000b", "\u000c", "\r", "\r\n", "\u0085", "\u2028", "\u2029", "\u001c", "\u001f", "\u3000", "\u180e",
        "\u1680", "\ufeff", "\u0663\u0664", "\u00b2", "\u2167", "\u0301", "a\u0308", "\u0e01\u0e32", "\u05d0\u05d1"
    };

    /** {@code n} random texts from a fixed seed. */
    static List<String> random(long seed, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            StringBuilder sb = new StringBuilder();
            int parts = 1 + r.nextInt(12);
            for (int k = 0; k < parts; k++) {
                int kind = r.nextInt(10);
                if (kind < 7) {
                    sb.append(PARTS[r.nextInt(PARTS.length)]);
                } else if (kind < 9) {
                    sb.append((char) (' ' + r.nextInt(95)));
                } else {
                    sb.appendCodePoint(randomCodePoint(r));
                }
            }
            out.add(sb.toString());
        }
        return out;
    }

    /** Any assigned, non-surrogate code point from the BMP or the emoji planes. */
    static int randomCodePoint(SplittableRandom r) {
        while (true) {
            int cp = r.nextBoolean() ? r.nextInt(0x80, 0x3000) : r.nextInt(0x1F300, 0x1FAFF);
            if (Character.isDefined(cp) && !Character.isSurrogate((char) cp) && Character.getType(cp) != Character.PRIVATE_USE) {
                return cp;
            }
        }
    }
}
