package io.flashllm.engine.tokenizer;

import java.util.function.IntPredicate;

/**
 * Text to id over an array of strings the vocabulary already holds, in one int array. A
 * {@code HashMap<String, Integer>} costs ~60 bytes an entry (node, boxed id, table slot): for a
 * 128k vocabulary ~8 MiB per map, and a tokenizer keeps two or three. Here it is 8 bytes an entry
 * (a table at most half full, open addressing), keys not copied. The heap counts under a memory cap:
 * what the tokenizer does not keep, the neuron cache gets.
 */
final class TextIds {
    private final String[] keys;
    /** Index into {@link #keys} plus one; 0 marks an empty slot. */
    private final int[] slots;
    private final int mask;

    private TextIds(String[] keys, int[] slots) {
        this.keys = keys;
        this.slots = slots;
        this.mask = slots.length - 1;
    }

    /** Every key, its index its id; of equal keys the first wins (llama.cpp's token_to_id does the same). */
    static TextIds of(String[] keys) {
        return of(keys, i -> true);
    }

    /** The keys whose index {@code include} accepts; of equal keys the first accepted wins. */
    static TextIds of(String[] keys, IntPredicate include) {
        int capacity = Integer.highestOneBit(Math.max(4, keys.length) * 2 - 1) << 1; // >= 2 * length, a power of two
        int[] slots = new int[capacity];
        int mask = capacity - 1;
        for (int i = 0; i < keys.length; i++) {
            String k = keys[i];
            if (k == null || !include.test(i)) continue;
            for (int s = spread(k.hashCode()) & mask; ; s = (s + 1) & mask) {
                int held = slots[s];
                if (held == 0) {
                    slots[s] = i + 1;
                    break;
                }
                if (keys[held - 1].equals(k)) break;
            }
        }
        return new TextIds(keys, slots);
    }

    /** The id of {@code text}, or -1 when it has none. */
    int get(String text) {
        for (int s = spread(text.hashCode()) & mask; ; s = (s + 1) & mask) {
            int held = slots[s];
            if (held == 0) return -1;
            if (keys[held - 1].equals(text)) return held - 1;
        }
    }

    /** The id of {@code text}, or {@code absent} when it has none. */
    int getOrDefault(String text, int absent) {
        int id = get(text);
        return id < 0 ? absent : id;
    }

    // String hashes of short texts differ mostly in their low bits' neighbours; mix before masking.
    private static int spread(int h) {
        h *= 0x9E3779B9;
        return h ^ (h >>> 16);
    }
}
