package io.flashllm.engine.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.flashllm.engine.api.ChatMessage;
import io.flashllm.engine.api.ChatTool;
import io.flashllm.engine.api.ToolCall;
import io.flashllm.engine.api.ToolCallFormat;
import io.flashllm.engine.grammar.Grammar;
import io.flashllm.engine.grammar.GrammarMatcher;
import io.flashllm.engine.grammar.TokenConstraint;
import io.flashllm.engine.grammar.TokenTrie;
import io.flashllm.engine.tokenizer.Tokenizer;
import io.flashllm.engine.tokenizer.Tokenizers;
import io.flashllm.engine.tokenizer.VocabBuilder;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** gpt-oss's function calling: tools, calls and results in the harmony prompt, the grammar of a call, calls read back. */
class HarmonyToolCallsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HarmonyTemplate HARMONY =
            new HarmonyTemplate(Clock.fixed(Instant.parse("2026-11-25T10:00:00Z"), ZoneOffset.UTC));
    static final ChatTool WEATHER = new ChatTool("get_weather", "Gets the current weather in a city.", json(
            "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\",\"description\":\"The city, e.g. Paris\"},"
                    + "\"unit\":{\"type\":\"string\",\"enum\":[\"celsius\",\"fahrenheit\"],\"default\":\"celsius\"}},"
                    + "\"required\":[\"city\"]}"));
    static final ChatTool NOW = new ChatTool("now", null, json("{\"type\":\"object\"}"));

    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    private static final String SYSTEM = "<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\n"
            + "Knowledge cutoff: 2024-06\nCurrent date: 2026-11-25\n\nReasoning: medium\n\n"
            + "# Valid channels: analysis, commentary, final. Channel must be included for every message.\n"
            + "Calls to these tools must go to the commentary channel: 'functions'.<|end|>";
    private static final String DEVELOPER = "<|start|>developer<|message|># Instructions\n\nBe brief.\n\n# Tools\n\n"
            + "## functions\n\nnamespace functions {\n\n"
            + "// Gets the current weather in a city.\ntype get_weather = (_: {\n// The city, e.g. Paris\ncity: string,\n"
            + "unit?: \"celsius\" | \"fahrenheit\", // default: celsius\n}) => any;\n\n"
            + "type now = () => any;\n\n} // namespace functions<|end|>";

    @Test
    void toolsCallsAndResultsAreWrittenAsHarmonyMessages() {
        ToolCall call = new ToolCall("call_1", "get_weather", json("{\"city\": \"Paris\"}"));
        List<ChatMessage> talk = List.of(
                new ChatMessage("system", "Be brief."),
                new ChatMessage("user", "Weather in Paris?"),
                ChatMessage.calls(null, "They want Paris's weather. Call get_weather.", List.of(call)),
                ChatMessage.toolResult("get_weather", "{\"sunny\": true}"));
        String calling = "<|start|>user<|message|>Weather in Paris?<|end|>"
                + "<|start|>assistant<|channel|>analysis<|message|>They want Paris's weather. Call get_weather.<|end|>"
                + "<|start|>assistant to=functions.get_weather<|channel|>commentary json<|message|>{\"city\":\"Paris\"}<|call|>"
                + "<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>{\"sunny\": true}<|end|>";
        assertEquals(SYSTEM + DEVELOPER + calling + "<|start|>assistant", HARMONY.render(talk, true, true, null, List.of(WEATHER, NOW)),
                "the call's analysis stays while its answer is still to come");

        List<ChatMessage> answered = new java.util.ArrayList<>(talk);
        answered.add(new ChatMessage("assistant", "Sunny in Paris."));
        answered.add(new ChatMessage("user", "Thanks"));
        String after = HARMONY.render(answered, true, true, null, List.of(WEATHER, NOW));
        assertFalse(after.contains("<|channel|>analysis"), "once answered, the call's analysis is dropped: " + after);
        assertTrue(after.endsWith("<|call|><|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>"
                + "{\"sunny\": true}<|end|><|start|>assistant<|channel|>final<|message|>Sunny in Paris.<|end|>"
                + "<|start|>user<|message|>Thanks<|end|><|start|>assistant"), after);

        // A result without its function's name answers the call before it; with no call before it, it cannot be written.
        List<ChatMessage> unnamed = List.of(new ChatMessage("user", "x"), ChatMessage.calls("Checking.", null, List.of(call)),
                ChatMessage.toolResult(null, "rain"));
        String r = HARMONY.render(unnamed, true, true, null, List.of(WEATHER));
        assertTrue(r.contains("<|start|>assistant<|channel|>analysis<|message|>Checking.<|end|>"), "the call's words as its analysis");
        assertTrue(r.contains("<|start|>functions.get_weather to=assistant"), r);
        assertThrows(IllegalArgumentException.class,
                () -> HARMONY.render(List.of(new ChatMessage("user", "x"), ChatMessage.toolResult(null, "rain")), true, true, null, List.of()));

        String plain = HARMONY.render(List.of(new ChatMessage("user", "Hi")), true, true, null, List.of());
        assertFalse(plain.contains("Calls to these tools") || plain.contains("developer"), "no tools, no declaration: " + plain);
        assertEquals(plain, HARMONY.render(List.of(new ChatMessage("user", "Hi"))));
    }

    @Test
    void otherFormatsGetCallsAndResultsAsHermesTurns() {
        ToolCall call = new ToolCall(null, "now", json("{}"));
        List<ChatMessage> talk = List.of(new ChatMessage("user", "Time?"), ChatMessage.calls("", "hmm", List.of(call)),
                ChatMessage.toolResult("now", "12:00"));
        String chatml = BuiltinTemplate.CHATML.render(talk, true, true, null, List.of(NOW));
        assertTrue(chatml.startsWith("<|im_start|>system\n# Tools\n"), chatml);
        assertTrue(chatml.contains("<|im_start|>assistant\n<tool_call>\n{\"name\": \"now\", \"arguments\": {}}\n</tool_call><|im_end|>"),
                chatml);
        assertTrue(chatml.contains("<|im_start|>user\n<tool_response>\n12:00\n</tool_response><|im_end|>"), chatml);
        assertFalse(chatml.contains("hmm"), "the Hermes format keeps no thinking of earlier turns");
        assertEquals(HermesToolCalls.INSTANCE, BuiltinTemplate.CHATML.toolCalls());
        assertEquals(HarmonyToolCalls.INSTANCE, HARMONY.toolCalls());
    }

    @Test
    void schemasBecomeTypeScriptTypes() {
        assertEquals("string", HarmonyToolCalls.type(json("{\"type\":\"string\"}")));
        assertEquals("string | null", HarmonyToolCalls.type(json("{\"type\":\"string\",\"nullable\":true}")));
        assertEquals("\"a\" | \"b\"", HarmonyToolCalls.type(json("{\"type\":\"string\",\"enum\":[\"a\",\"b\"]}")));
        assertEquals("number", HarmonyToolCalls.type(json("{\"type\":\"integer\"}")));
        assertEquals("boolean[]", HarmonyToolCalls.type(json("{\"type\":\"array\",\"items\":{\"type\":\"boolean\"}}")));
        assertEquals("number[]", HarmonyToolCalls.type(json("{\"type\":\"array\",\"items\":{\"type\":\"integer\"}}")));
        assertEquals("any[]", HarmonyToolCalls.type(json("{\"type\":\"array\"}")));
        assertEquals("string | number", HarmonyToolCalls.type(json("{\"type\":[\"string\",\"number\"]}")));
        assertEquals("string | null", HarmonyToolCalls.type(json("{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]}")),
                "an optional field as pydantic writes it");
        assertEquals("any", HarmonyToolCalls.type(json("{\"oneOf\":[{\"type\":\"object\"},{\"type\":\"string\"}]}")));
        assertEquals("{\nx: number,\ny?: string\n}",
                HarmonyToolCalls.type(json("{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"number\"},\"y\":{\"type\":\"string\"}},"
                        + "\"required\":[\"x\"]}")));
        assertEquals("object", HarmonyToolCalls.type(json("{\"type\":\"object\"}")));
        assertEquals("any", HarmonyToolCalls.type(json("{}")));
        assertTrue(HarmonyToolCalls.namespace(List.of(new ChatTool("f", "d", json(
                "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\",\"default\":3}}}")))).contains("n?: number, // default: 3\n"));
    }

    @Test
    void theGrammarHoldsACallToItsFunctionsSchema() {
        ToolCallFormat f = HarmonyToolCalls.INSTANCE;
        Grammar auto = f.grammar(List.of(WEATHER, NOW), "auto", true);
        assertEquals(" to=functions.", auto.trigger(), "auto: words, or a call from its recipient on");
        assertTrue(accepts(auto, " to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Oslo\"}"),
                "the recipient after the channel, as the model writes it");
        assertTrue(accepts(auto, " to=functions.get_weather<|channel|>commentary json<|message|>{\"city\":\"Oslo\",\"unit\":\"celsius\"}"),
                "the recipient in the header, as earlier calls are written back");
        assertTrue(accepts(auto, " to=functions.now<|message|>{}"));
        assertFalse(accepts(auto, " to=functions.get_weather<|message|>{}"), "city is required");
        assertFalse(accepts(auto, " to=functions.get_weather<|message|>{\"city\":\"Oslo\",\"unit\":\"kelvin\"}"));
        assertFalse(accepts(auto, " to=functions.other<|message|>{}"));

        Grammar required = f.grammar(List.of(WEATHER, NOW), "required", true);
        assertEquals("<|start|>assistant", required.trigger(), "after the analysis, the next message must be a call");
        assertTrue(accepts(required, "<|start|>assistant<|channel|>commentary to=functions.now <|constrain|>json<|message|>{}"));
        assertTrue(accepts(required, "<|start|>assistant to=functions.now<|channel|>commentary json<|message|>{}"));
        assertFalse(accepts(required, "<|start|>assistant<|channel|>final<|message|>It is noon."), "no answer in words");
        Grammar named = f.grammar(List.of(WEATHER, NOW), "now", true);
        assertTrue(accepts(named, "<|start|>assistant to=functions.now<|message|>{}"));
        assertFalse(accepts(named, "<|start|>assistant to=functions.get_weather<|message|>{\"city\":\"Oslo\"}"), "only the named one");
    }

    /**
     * The grammar over gpt-oss's tokens, as the sampler applies it: the markers are tokens whose text the grammar
     * reads, and {@code <|end|>}, a control token no grammar lets through, closes the analysis while the required
     * call's grammar still sleeps.
     */
    @Test
    void theSamplerHoldsARequiredCallOverTheVocabularysTokens() {
        Tokenizer tok = Tokenizers.fromGguf(VocabBuilder.build(VocabBuilder.Style.HARMONY, 500).ggufMetadata());
        TokenTrie trie = TokenTrie.of(tok, tok.vocabSize());
        Grammar required = HarmonyToolCalls.INSTANCE.grammar(List.of(WEATHER, NOW), "required", true);
        String analysis = "<|channel|>analysis<|message|>They ask the time.<|end|><|start|>assistant";
        TokenConstraint c = new TokenConstraint(required, trie);
        for (int id : tok.encode(analysis + "<|channel|>commentary to=functions.now <|constrain|>json<|message|>{}", false, true)) {
            assertTrue(c.allows(id), "token " + id + " '" + tok.decode(new int[] {id}) + "'");
            c.accept(id);
        }
        assertTrue(c.active());
        assertTrue(c.allows(tok.tokenId("<|call|>")), "the whole call may end the reply");

        TokenConstraint d = new TokenConstraint(required, trie);
        for (int id : tok.encode(analysis, false, true)) d.accept(id);
        assertTrue(d.active(), "the next message has started");
        int[] answer = tok.encode("<|channel|>final<|message|>It is noon.", false, true);
        d.accept(answer[0]);
        for (int i = 1; i < answer.length; i++) {
            if (!d.allows(answer[i])) return;
            d.accept(answer[i]);
        }
        throw new AssertionError("a final answer instead of the required call was let through");
    }

    /** Whether {@code text} is a whole sentence of {@code g}. */
    static boolean accepts(Grammar g, String text) {
        GrammarMatcher m = new GrammarMatcher(g);
        return m.acceptText(text) && m.canEnd();
    }

    @Test
    void callsAreReadBackInEitherHeaderOrder() {
        ToolCallFormat f = HarmonyToolCalls.INSTANCE;
        ToolCallFormat.Answer a = f.read("<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Paris\"}",
                () -> "call_1");
        assertEquals(List.of(new ToolCall("call_1", "get_weather", json("{\"city\":\"Paris\"}"))), a.calls());
        assertNull(a.content());
        assertFalse(a.cut());
        ToolCallFormat.Answer b = f.read(" to=functions.now<|channel|>commentary json<|message|>{}<|call|>", () -> "call_2");
        assertEquals(List.of(new ToolCall("call_2", "now", json("{}"))), b.calls());
        ToolCallFormat.Answer preamble = f.read("<|channel|>commentary<|message|>Let me check the weather.<|start|>assistant"
                + "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Rome\"}", () -> "c");
        assertEquals("Let me check the weather.", preamble.content(), "a preamble's words, without their markers");
        assertNull(f.read("It is sunny.", () -> "x"));
        assertNull(f.read("<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{\"city\":\"Pa", () -> "x"),
                "arguments cut by the token limit: plain text");
        assertNull(f.read("<|channel|>commentary to=functions.get_weather <|constrain|>json", () -> "x"));
    }
}
