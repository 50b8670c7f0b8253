import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.generate.LoadedModel;
import io.flashllm.engine.grammar.Grammar;
import io.flashllm.engine.grammar.JsonSchemaGrammar;
import io.flashllm.engine.grammar.TokenConstraint;
import io.flashllm.engine.grammar.TokenTrie;
import io.flashllm.engine.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.Locale;

/**
 * What structured output costs per token on a model's vocabulary: building the vocabulary trie once, and
 * masking the whole vocabulary under the JSON-object grammar after several prefixes (the slow path a
 * sampler takes only when the model picks a token the grammar refuses), cold and then warm.
 *
 * <pre>java -cp flashllm.jar GrammarMasks.java MODEL [ROUNDS]</pre>
 */
public class GrammarMasks {
    public static void main(String[] args) throws Exception {
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        try (LoadedModel m = (LoadedModel) ModelLoader.load(Path.of(args[0]), LoadOptions.defaults().withThreads(1))) {
            Tokenizer tok = m.tokenizer();
            long t0 = System.nanoTime();
            TokenTrie trie = TokenTrie.of(tok, tok.vocabSize());
            System.out.printf(Locale.ROOT, "vocabulary %,d tokens: trie built in %.1f ms%n", tok.vocabSize(),
                    (System.nanoTime() - t0) / 1e6);
            Grammar g = Grammar.parse(JsonSchemaGrammar.anyJsonObject());
            String[] prefixes = {"", "{", "{\"na", "{\"name\": ", "{\"name\": \"Jo", "{\"a\": [1, 2"};
            float[] logits = new float[tok.vocabSize()];
            System.out.printf(Locale.ROOT, "%-16s %9s %s%n", "after", "allowed", "ms per mask (round 1 .. " + rounds + ")");
            for (String p : prefixes) {
                StringBuilder line = new StringBuilder();
                int allowed = 0;
                for (int r = 0; r < rounds; r++) {
                    // A fresh constraint each round: its mask cache would answer a repeat at once.
                    TokenConstraint c = new TokenConstraint(g, trie);
                    for (char ch : p.toCharArray()) c.accept(singleCharacterToken(tok, c, ch));
                    long a = System.nanoTime();
                    allowed = c.mask(logits);
                    line.append(String.format(Locale.ROOT, " %.2f", (System.nanoTime() - a) / 1e6));
                }
                System.out.printf(Locale.ROOT, "%-16s %9d%s%n", "'" + p + "'", allowed, line);
            }
        }
    }

    /** The vocabulary's piece for one ASCII character, or its byte-fallback token. */
    private static int singleCharacterToken(Tokenizer tok, TokenConstraint c, char ch) {
        int id = tok.tokenId(String.valueOf(ch));
        if (id < 0 || !c.allows(id)) id = tok.tokenId(String.format("<0x%02X>", (int) ch));
        if (id < 0 || !c.allows(id)) throw new IllegalStateException("no single-character token for '" + ch + "'");
        return id;
    }
}
