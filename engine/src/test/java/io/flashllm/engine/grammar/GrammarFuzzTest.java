package io.flashllm.engine.grammar;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Grammars and schemas come from requests, so from anyone: any GBNF text parses or fails with a
 * {@link GrammarException}, and a parsed grammar follows any bytes without another exception; any JSON
 * schema converts or fails with a {@link GrammarException}, and what it converts to always parses.
 * Plain {@code mvn test} replays the committed inputs under {@code GrammarFuzzTestInputs/<method>}.
 */
class GrammarFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @FuzzTest(maxDuration = "60s")
    void gbnf(FuzzedDataProvider data) {
        String text = data.consumeString(4096);
        byte[] follow = data.consumeRemainingAsBytes();
        Grammar g;
        try {
            g = Grammar.parse(text);
        } catch (GrammarException e) {
            return;
        }
        GrammarMatcher m;
        try {
            m = new GrammarMatcher(g);
            for (byte b : follow) {
                if (!m.acceptBytes(new byte[] {b})) break;
            }
        } catch (GrammarException tooAmbiguous) {
            return;
        }
        m.canEnd();
    }

    @FuzzTest(maxDuration = "60s")
    void schema(byte[] data) {
        JsonNode schema;
        try {
            schema = JSON.readTree(data);
        } catch (java.io.IOException | RuntimeException notJson) {
            return;
        }
        if (schema == null) return;
        String gbnf;
        try {
            gbnf = JsonSchemaGrammar.toGbnf(schema);
        } catch (GrammarException e) {
            return;
        }
        // What the converter writes must always be a grammar: a GrammarException here is a converter bug.
        try {
            new GrammarMatcher(Grammar.parse(gbnf));
        } catch (GrammarException e) {
            throw new AssertionError("the schema " + schema + " became a grammar that does not parse: " + e.getMessage()
                    + "\n" + gbnf, e);
        }
    }
}
