package io.flashllm.engine.chat;

import static io.flashllm.engine.chat.HarmonyToolCallsTest.NOW;
import static io.flashllm.engine.chat.HarmonyToolCallsTest.WEATHER;
import static io.flashllm.engine.chat.HarmonyToolCallsTest.accepts;
import static io.flashllm.engine.chat.HarmonyToolCallsTest.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.engine.api.ChatMessage;
import io.flashllm.engine.api.ToolCall;
import io.flashllm.engine.api.ToolCallFormat;
import io.flashllm.engine.grammar.Grammar;
import io.flashllm.engine.grammar.TokenConstraint;
import io.flashllm.engine.grammar.TokenTrie;
import io.flashllm.engine.tokenizer.Tokenizer;
import io.flashllm.engine.tokenizer.Tokenizers;
import io.flashllm.engine.tokenizer.VocabBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Llama 3.1-3.3's function calling: tools, calls and results in the prompt, the grammar of a call, calls read back. */
class Llama3ToolCallsTest {
    private static final ChatTemplate LLAMA3 = BuiltinTemplate.LLAMA3;

    @Test
    void toolsCallsAndResultsAreWrittenAsLlama31Does() {
        List<ChatMessage> talk = List.of(
                new ChatMessage("system", "Be brief."),
                new ChatMessage("user", "Weather in Paris?"),
                ChatMessage.calls(null, null, List.of(new ToolCall("call_1", "get_weather", json("{\"city\": \"Paris\"}")))),
                ChatMessage.toolResult("get_weather", "{\"sunny\": true}"));
        String prompt = LLAMA3.render(talk, true, true, null, List.of(NOW));
        String expected = "<|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython\n\nBe brief.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\n" + Llama3ToolCalls.INSTRUCTION
                + "{\n    \"type\": \"function\",\n    \"function\": {\n        \"name\": \"now\",\n        \"parameters\": {\n"
                + "            \"type\": \"object\"\n        }\n    }\n}\n\nWeather in Paris?<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n{\"name\": \"get_weather\", \"parameters\": {\"city\":\"Paris\"}}<|eot_id|>"
                + "<|start_header_id|>ipython<|end_header_id|>\n\n{\"sunny\": true}<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n";
        assertEquals(expected, prompt);
        String noSystem = LLAMA3.render(List.of(new ChatMessage("user", "Hi")), true, true, null, List.of(NOW));
        assertTrue(noSystem.startsWith("<|start_header_id|>system<|end_header_id|>\n\nEnvironment: ipython<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\n" + Llama3ToolCalls.INSTRUCTION), noSystem);
        assertEquals(LLAMA3.render(List.of(new ChatMessage("user", "Hi"))),
                LLAMA3.render(List.of(new ChatMessage("user", "Hi")), true, true, null, List.of()), "no tools: the plain prompt");
        assertEquals(Llama3ToolCalls.INSTANCE, LLAMA3.toolCalls());
    }

    @Test
    void theGrammarHoldsACallToItsFunctionsSchema() {
        ToolCallFormat f = Llama3ToolCalls.INSTANCE;
        Grammar auto = f.grammar(List.of(WEATHER, NOW), "auto", true);
        assertEquals("{\"name\"", auto.trigger());
        assertTrue(accepts(auto, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}"));
        assertTrue(accepts(auto, "{\"name\":\"now\",\"parameters\":{}}"));
        assertFalse(accepts(auto, "{\"name\": \"get_weather\", \"parameters\": {}}"), "city is required");
        assertFalse(accepts(auto, "{\"name\": \"other\", \"parameters\": {}}"));
        Grammar named = f.grammar(List.of(WEATHER, NOW), "now", true);
        assertNull(named.trigger(), "a named function: a call from the first token");
        assertFalse(accepts(named, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}"));
        assertTrue(accepts(named, "{\"name\": \"now\", \"parameters\": {}}"));
    }

    @Test
    void theSamplerLetsACallThroughOverLlama3sTokens() {
        Tokenizer tok = Tokenizers.fromGguf(VocabBuilder.build(VocabBuilder.Style.LLAMA3, 600).ggufMetadata());
        TokenConstraint c = new TokenConstraint(Llama3ToolCalls.INSTANCE.grammar(List.of(WEATHER, NOW), "auto", true),
                TokenTrie.of(tok, tok.vocabSize()));
        for (int id : tok.encode("Sure. {\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}", false, true)) {
            assertTrue(c.allows(id), "token '" + tok.decode(new int[] {id}) + "'");
            c.accept(id);
        }
        assertTrue(c.active(), "the call opened the grammar");
        assertTrue(c.allows(tok.tokenId("<|eot_id|>")), "the whole call may end the turn");
    }

    @Test
    void callsAreReadBack() {
        ToolCallFormat f = Llama3ToolCalls.INSTANCE;
        int[] n = {0};
        ToolCallFormat.Answer a = f.read("{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}", () -> "call_" + ++n[0]);
        assertEquals(List.of(new ToolCall("call_1", "get_weather", json("{\"city\":\"Paris\"}"))), a.calls());
        assertNull(a.content());
        ToolCallFormat.Answer two = f.read("Checking. {\"name\": \"now\", \"arguments\": {}}; {\"name\": \"get_weather\", "
                + "\"parameters\": {\"city\": \"Rome\"}}", () -> "c");
        assertEquals("Checking.", two.content());
        assertEquals(List.of("now", "get_weather"), two.calls().stream().map(ToolCall::name).toList());
        assertFalse(two.cut());
        ToolCallFormat.Answer cut = f.read("{\"name\": \"now\", \"parameters\": {}} {\"name\": \"get_w", () -> "c");
        assertEquals(1, cut.calls().size());
        assertTrue(cut.cut(), "a last call cut by the token limit");
        assertNull(f.read("{\"name\": \"get_weather\", \"parameters\": {\"ci", () -> "c"), "cut before a whole call: plain text");
        assertNull(f.read("My name is {\"name\": \"Bob\"}", () -> "c"), "an object without parameters is no call");
        assertNull(f.read("It is sunny.", () -> "c"));
    }
}
