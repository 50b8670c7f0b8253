package io.flashllm.engine.testutil;

import io.flashllm.engine.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A vocabulary written out as its pieces, for tests of what sits on top of a tokenizer (sampling,
 * grammars): token i is {@code pieces[i]}, and one more token at the end is the end-of-generation
 * control token. Encoding takes the longest piece at each point.
 */
public final class PieceTokenizer implements Tokenizer {
    private final List<String> pieces;

    public PieceTokenizer(String... pieces) {
        this.pieces = List.of(pieces);
    }

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        int[] out = new int[text.length()];
        int n = 0;
        for (int at = 0; at < text.length(); ) {
            int best = -1;
            for (int i = 0; i < pieces.size(); i++) {
                if (text.startsWith(pieces.get(i), at) && (best < 0 || pieces.get(i).length() > pieces.get(best).length())) best = i;
            }
            if (best < 0) throw new IllegalArgumentException("no piece for '" + text.substring(at) + "'");
            out[n++] = best;
            at += pieces.get(best).length();
        }
        return java.util.Arrays.copyOf(out, n);
    }

    @Override
    public String decode(int[] ids) {
        StringBuilder b = new StringBuilder();
        for (int id : ids) if (id < pieces.size()) b.append(pieces.get(id));
        return b.toString();
    }

    @Override
    public byte[] tokenBytes(int id) {
        return id < pieces.size() ? pieces.get(id).getBytes(StandardCharsets.UTF_8) : new byte[0];
    }

    @Override
    public String tokenText(int id) {
        return id < pieces.size() ? pieces.get(id) : "</s>";
    }

    @Override
    public int tokenId(String tokenText) {
        return tokenText.equals("</s>") ? pieces.size() : pieces.indexOf(tokenText);
    }

    @Override
    public int bos() {
        return -1;
    }

    @Override
    public int eos() {
        return pieces.size();
    }

    @Override
    public int[] eogTokens() {
        return new int[] {pieces.size()};
    }

    @Override
    public boolean isControl(int id) {
        return id == pieces.size();
    }

    @Override
    public int vocabSize() {
        return pieces.size() + 1;
    }
}
