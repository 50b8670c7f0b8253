package io.flashllm.engine.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.api.FinishReason;
import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.api.Session;
import io.flashllm.engine.grammar.Grammar;
import io.flashllm.engine.grammar.GrammarMatcher;
import io.flashllm.engine.testutil.TestVocab;
import io.flashllm.engine.testutil.TinyModels;
import io.flashllm.engine.testutil.TinySpec;
import io.flashllm.kernels.GgmlType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real (tiny, random-weight) model generating under a grammar and a logit bias. */
class ConstrainedGenerationTest {
    static final int[] PROMPT = {1, 290, 291, 292, 293, 294};

    @TempDir
    static Path dir;
    static InferenceModel model;

    @BeforeAll
    static void load() throws Exception {
        Path file = new TinyModels(TinySpec.llama(GgmlType.Q8_0)).writeGguf(dir.resolve("tiny.gguf"), TestVocab.spm(320));
        model = ModelLoader.load(file, LoadOptions.defaults().withThreads(2).withMaxContext(64));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static SamplingParams sampling(float temperature, long seed, int maxTokens) {
        return new SamplingParams(temperature, 0, 1f, 0f, 1f, 64, 0f, 0f, seed, maxTokens, List.of(), 0);
    }

    static GenerationResult generate(SamplingParams p, List<GeneratedToken> streamed) {
        try (Session s = model.openSession(64)) {
            return s.generate(PROMPT, p, t -> {
                if (streamed != null) streamed.add(t);
                return true;
            });
        }
    }

    @Test
    void theOutputIsASentenceOfTheGrammarAndEndsWhenItIsComplete() {
        Grammar g = Grammar.parse("root ::= \"{\\\"color\\\": \\\"\" (\"red\" | \"green\" | \"blue\") \"\\\"}\"");
        Set<String> seen = new HashSet<>();
        for (long seed = 1; seed <= 12; seed++) {
            List<GeneratedToken> streamed = new ArrayList<>();
            GenerationResult r = generate(sampling(1f, seed, 40).withGrammar(g), streamed);
            assertTrue(r.text().matches("\\{\"color\": \"(red|green|blue)\"}"), r.text());
            assertEquals(FinishReason.STOP, r.finishReason(), "the grammar ended it, not the token limit");
            StringBuilder joined = new StringBuilder();
            for (GeneratedToken t : streamed) joined.append(t.text());
            assertEquals(r.text(), joined.toString());
            seen.add(r.text());
        }
        assertTrue(seen.size() > 1, "sampling still chooses among the allowed continuations: " + seen);
    }

    @Test
    void greedyFollowsTheGrammarAndRepetitionStaysBounded() {
        Grammar g = Grammar.parse("root ::= [a-z]{2,6} (\" \" [a-z]{2,6}){0,3} \".\"");
        GenerationResult r = generate(sampling(0f, 1, 60).withGrammar(g), null);
        assertTrue(r.text().matches("[a-z]{2,6}( [a-z]{2,6}){0,3}\\."), r.text());
        assertEquals(FinishReason.STOP, r.finishReason());
    }

    @Test
    void charactersSpreadOverByteTokensAreFollowed() {
        // The test vocabulary has no 'é' or 'λ' piece: each comes as two byte-fallback tokens.
        Grammar g = Grammar.parse("root ::= (\"é\" | \"λ\") \"!\"");
        List<GeneratedToken> streamed = new ArrayList<>();
        GenerationResult r = generate(sampling(0f, 1, 10).withGrammar(g), streamed);
        assertTrue(r.text().equals("é!") || r.text().equals("λ!"), r.text());
        assertEquals(3, r.tokens().length, "two bytes and '!'");
        assertEquals("", streamed.get(0).text(), "half a character is held back");
    }

    @Test
    void theTokenLimitCutsASentenceShortAndSaysSo() {
        Grammar g = Grammar.parse("root ::= \"a\"{20} \"!\"");
        GenerationResult r = generate(sampling(0f, 1, 5).withGrammar(g), null);
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals("aaaaa", r.text());
    }

    @Test
    void aLazyGrammarLetsTextRunFreeUntilItsTriggerThenHoldsTheRest() {
        // Ids of the pieces "a" and "b" in the test vocabulary (after <unk>, <s>, </s>, 256 bytes and "▁").
        int a = 260, b = 261;
        Grammar g = Grammar.parse("root ::= \"ab\" [c-z]{2} \"!\"").triggeredBy("ab");
        int triggered = 0;
        for (long seed = 1; seed <= 12; seed++) {
            // Raising a and b makes "ab" likely somewhere in the free text.
            SamplingParams p = sampling(1f, seed, 40).withLogitBias(Map.of(a, 8f, b, 8f)).withGrammar(g);
            GenerationResult r = generate(p, null);
            int at = r.text().indexOf("ab");
            if (at < 0) continue;
            triggered++;
            String held = r.text().substring(at);
            if (r.finishReason() == FinishReason.STOP) {
                assertTrue(held.matches("ab[c-z]{2}!"), r.text());
            } else {
                assertEquals(FinishReason.LENGTH, r.finishReason());
                assertTrue(new GrammarMatcher(g).acceptText(held), "cut short, but on the grammar's way: " + r.text());
            }
        }
        assertTrue(triggered >= 3, triggered + " outputs reached the trigger; raise the bias");
    }

    @Test
    void logitBiasBansAndForcesTokens() {
        GenerationResult plain = generate(sampling(0f, 1, 4), null);
        int first = plain.tokens()[0];
        GenerationResult banned = generate(sampling(0f, 1, 4).withLogitBias(Map.of(first, -100f)), null);
        assertNotEquals(first, banned.tokens()[0]);
        int forced = 300;
        GenerationResult pushed = generate(sampling(0f, 1, 4).withLogitBias(Map.of(forced, 100f)), null);
        for (int t : pushed.tokens()) assertEquals(forced, t);
        // A bias beyond the vocabulary changes nothing (OpenAI accepts any id; the model has no such token).
        GenerationResult beyond = generate(sampling(0f, 1, 4).withLogitBias(Map.of(99_999, 100f)), null);
        assertEquals(plain.text(), beyond.text());
    }
}
