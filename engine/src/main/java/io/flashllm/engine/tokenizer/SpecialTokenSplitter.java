package io.flashllm.engine.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Cuts text into raw fragments and whole special tokens, the way llama.cpp does: special tokens are tried longest
 * text first and every occurrence of one is cut out before shorter ones are looked for. User-defined tokens are
 * always recognised; control and unknown tokens only when special-token parsing is asked for.
 */
final class SpecialTokenSplitter {
    /** A fragment is either raw text (token == -1) or one special token. */
    record Fragment(String text, int token) {
        boolean isToken() {
            return token >= 0;
        }
    }

    private final int[] ids;
    private final String[] texts;
    private final boolean[] controlLike;

    SpecialTokenSplitter(String[] tokens, int[] types) {
        List<Integer> specials = new ArrayList<>();
        for (int i = 0; i < tokens.length; i++) {
            int t = types[i];
            if ((t == TokenType.CONTROL || t == TokenType.USER_DEFINED || t == TokenType.UNKNOWN) && !tokens[i].isEmpty()) {
                specials.add(i);
            }
        }
        // Longest first; ties by id so the order is deterministic.
        specials.sort(Comparator.<Integer>comparingInt(i -> -tokens[i].length()).thenComparingInt(i -> i));
        ids = specials.stream().mapToInt(Integer::intValue).toArray();
        texts = Arrays.stream(ids).mapToObj(i -> tokens[i]).toArray(String[]::new);
        controlLike = new boolean[ids.length];
        for (int k = 0; k < ids.length; k++) {
            controlLike[k] = types[ids[k]] != TokenType.USER_DEFINED;
        }
    }

    List<Fragment> split(String text, boolean parseSpecial) {
        List<Fragment> frags = new ArrayList<>();
        if (text.isEmpty()) {
            return frags;
        }
        frags.add(new Fragment(text, -1));
        for (int k = 0; k < ids.length; k++) {
            if (controlLike[k] && !parseSpecial) {
                continue;
            }
            String special = texts[k];
            List<Fragment> next = null;
            for (int f = 0; f < frags.size(); f++) {
                Fragment frag = frags.get(f);
                int at = frag.isToken() ? -1 : frag.text().indexOf(special);
                if (at < 0) {
                    if (next != null) {
                        next.add(frag);
                    }
                    continue;
                }
                if (next == null) {
                    next = new ArrayList<>(frags.subList(0, f));
                }
                String raw = frag.text();
                int from = 0;
                while (at >= 0) {
                    if (at > from) {
                        next.add(new Fragment(raw.substring(from, at), -1));
                    }
                    next.add(new Fragment(special, ids[k]));
                    from = at + special.length();
                    at = raw.indexOf(special, from);
                }
                if (from < raw.length()) {
                    next.add(new Fragment(raw.substring(from), -1));
                }
            }
            if (next != null) {
                frags = next;
            }
        }
        return frags;
    }
}
