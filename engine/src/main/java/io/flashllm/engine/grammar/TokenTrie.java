package io.flashllm.engine.grammar;

import io.flashllm.engine.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The vocabulary's token texts (UTF-8 bytes) as a byte trie, so that a constraint walks each shared prefix
 * once and a refused prefix skips every token below it. Built once per tokenizer and vocabulary size and
 * shared by all requests (immutable).
 */
public final class TokenTrie {
    private static final Map<Tokenizer, TokenTrie> BUILT = new WeakHashMap<>();

    final int vocab;
    final byte[][] bytes;        // token id -> its text; empty for control tokens
    final boolean[] endsGeneration;
    // Nodes: node 0 is the root. Children are a linked list (first child, next sibling).
    final int[] firstChild;
    final int[] nextSibling;
    final byte[] label;
    final int[] firstToken;      // the tokens whose text ends at this node: a linked list through nextToken
    final int[] nextToken;

    private TokenTrie(Tokenizer tokenizer, int vocab) {
        this.vocab = vocab;
        bytes = new byte[vocab][];
        endsGeneration = new boolean[vocab];
        int total = 1;
        for (int t = 0; t < vocab; t++) {
            bytes[t] = tokenizer.isControl(t) ? new byte[0] : tokenizer.tokenBytes(t);
            endsGeneration[t] = tokenizer.isEog(t);
            total += bytes[t].length;
        }
        int[] first = new int[total], sibling = new int[total], tokenHead = new int[total];
        byte[] labels = new byte[total];
        Arrays.fill(first, -1);
        Arrays.fill(sibling, -1);
        Arrays.fill(tokenHead, -1);
        nextToken = new int[vocab];
        Arrays.fill(nextToken, -1);
        int nodes = 1;
        for (int t = 0; t < vocab; t++) {
            if (bytes[t].length == 0) continue;
            int node = 0;
            for (byte b : bytes[t]) {
                int child = first[node];
                while (child >= 0 && labels[child] != b) child = sibling[child];
                if (child < 0) {
                    child = nodes++;
                    labels[child] = b;
                    sibling[child] = first[node];
                    first[node] = child;
                }
                node = child;
            }
            nextToken[t] = tokenHead[node];
            tokenHead[node] = t;
        }
        firstChild = Arrays.copyOf(first, nodes);
        nextSibling = Arrays.copyOf(sibling, nodes);
        label = Arrays.copyOf(labels, nodes);
        firstToken = Arrays.copyOf(tokenHead, nodes);
    }

    /** The trie of the first {@code vocab} tokens of {@code tokenizer} (ids a sampler may pick). */
    public static TokenTrie of(Tokenizer tokenizer, int vocab) {
        synchronized (BUILT) {
            TokenTrie t = BUILT.get(tokenizer);
            if (t == null || t.vocab != vocab) {
                t = new TokenTrie(tokenizer, vocab);
                BUILT.put(tokenizer, t);
            }
            return t;
        }
    }
}
