package io.flashllm.engine.tokenizer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Plain BPE training over a small word list: repeatedly merge the most frequent adjacent symbol pair (ties by the
 * pair's text, so the result is deterministic). Small corpora only: pair counts are recomputed every step.
 */
final class BpeTrainer {
    /** A learned merge: the two symbols and the piece they make. */
    record Merge(String left, String right) {
        String piece() {
            return left + right;
        }
    }

    private final List<List<String>> words = new ArrayList<>();
    private final List<Integer> counts = new ArrayList<>();

    /** @param wordSymbols each distinct word as its initial symbols, with its frequency */
    BpeTrainer(Map<List<String>, Integer> wordSymbols) {
        for (Map.Entry<List<String>, Integer> e : wordSymbols.entrySet()) {
            words.add(new ArrayList<>(e.getKey()));
            counts.add(e.getValue());
        }
    }

    /**
     * Learns up to {@code maxMerges} merges between symbols in {@code allowed} (grown with every new piece); stops
     * early when no pair is left.
     */
    List<Merge> train(int maxMerges, Set<String> allowed) {
        List<Merge> merges = new ArrayList<>();
        while (merges.size() < maxMerges) {
            Map<Merge, Long> pairs = new HashMap<>();
            for (int w = 0; w < words.size(); w++) {
                List<String> s = words.get(w);
                for (int i = 0; i + 1 < s.size(); i++) {
                    if (allowed.contains(s.get(i)) && allowed.contains(s.get(i + 1))) {
                        pairs.merge(new Merge(s.get(i), s.get(i + 1)), (long) counts.get(w), Long::sum);
                    }
                }
            }
            Merge best = null;
            long bestCount = 0;
            for (Map.Entry<Merge, Long> e : pairs.entrySet()) {
                long c = e.getValue();
                if (c > bestCount || (c == bestCount && compare(e.getKey(), best) < 0)) {
                    best = e.getKey();
                    bestCount = c;
                }
            }
            if (best == null) {
                break;
            }
            merges.add(best);
            allowed.add(best.piece());
            for (List<String> s : words) {
                for (int i = 0; i + 1 < s.size(); i++) {
                    if (s.get(i).equals(best.left()) && s.get(i + 1).equals(best.right())) {
                        s.set(i, best.piece());
                        s.remove(i + 1);
                    }
                }
            }
        }
        return merges;
    }

    private static int compare(Merge a, Merge b) {
        int c = a.left().compareTo(b.left());
        return c != 0 ? c : a.right().compareTo(b.right());
    }

    /** Counts words keeping first-seen order, so training is independent of hash order. */
    static Map<List<String>, Integer> countWords(List<List<String>> words) {
        Map<List<String>, Integer> m = new LinkedHashMap<>();
        for (List<String> w : words) {
            m.merge(w, 1, Integer::sum);
        }
        return m;
    }
}
