package io.flashllm.engine.chat;

import static io.flashllm.engine.chat.HarmonyToolCallsTest.NOW;
import static io.flashllm.engine.chat.HarmonyToolCallsTest.WEATHER;
import static io.flashllm.engine.chat.HarmonyToolCallsTest.accepts;
import static io.flashllm.engine.chat.HarmonyToolCallsTest.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.engine.api.ChatMessage;
import io.flashllm.engine.api.ToolCall;
import io.flashllm.engine.api.ToolCallFormat;
import io.flashllm.engine.grammar.Grammar;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Mistral v0.3's function calling: chosen by its markers, tools, calls and results in the prompt, calls read back. */
class MistralToolCallsTest {
    @Test
    void chosenWhereTheTemplateOrVocabularyHasTheCallMarker() {
        assertSame(MistralToolCalls.TEMPLATE, ChatTemplates.recognize("{{ '[AVAILABLE_TOOLS] ' }}{{ '[INST] ' }}{{ '[TOOL_CALLS] [' }}"));
        assertSame(BuiltinTemplate.MISTRAL, ChatTemplates.recognize("{{ '[INST] ' + message['content'] + ' [/INST]' }}"),
                "older Mistral models know no tool format: Hermes for them");
        assertSame(MistralToolCalls.TEMPLATE, ChatTemplates.forModel(Map.of("tokenizer.ggml.tokens",
                List.of("<s>", "</s>", "[INST]", "[/INST]", "[TOOL_CALLS]", "[AVAILABLE_TOOLS]"))));
        assertEquals("mistral", MistralToolCalls.TEMPLATE.id());
        List<ChatMessage> plain = List.of(new ChatMessage("system", "Be brief."), new ChatMessage("user", "Hi"),
                new ChatMessage("assistant", "Hello."), new ChatMessage("user", "Bye"));
        assertEquals(BuiltinTemplate.MISTRAL.render(plain), MistralToolCalls.TEMPLATE.render(plain), "without tools, Mistral's turns");
    }

    @Test
    void toolsCallsAndResultsInMistralsMarkers() {
        List<ChatMessage> talk = List.of(
                new ChatMessage("system", "Be brief."),
                new ChatMessage("user", "Hi"),
                new ChatMessage("assistant", "Hello."),
                new ChatMessage("user", "Weather in Paris?"),
                ChatMessage.calls(null, null, List.of(new ToolCall("call_1", "get_weather", json("{\"city\": \"Paris\"}")))),
                ChatMessage.toolResult("get_weather", "sunny"));
        String prompt = MistralToolCalls.TEMPLATE.render(talk, true, true, null, List.of(NOW));
        assertEquals("[INST] Be brief.\n\nHi [/INST]Hello.</s>"
                + "[AVAILABLE_TOOLS] [{\"type\":\"function\",\"function\":{\"name\":\"now\",\"parameters\":{\"type\":\"object\"}}}]"
                + "[/AVAILABLE_TOOLS][INST] Weather in Paris? [/INST]"
                + "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\":\"Paris\"}}]</s>"
                + "[TOOL_RESULTS] {\"content\": \"sunny\"}[/TOOL_RESULTS]", prompt,
                "the functions before the last user turn; a result that is not JSON quoted as a string");
        assertTrue(MistralToolCalls.TEMPLATE.render(List.of(ChatMessage.toolResult("f", "{\"t\": 20}")), true, true, null, List.of())
                .contains("{\"content\": {\"t\": 20}}"), "a JSON result as it came");
    }

    @Test
    void theGrammarAndTheReader() {
        ToolCallFormat f = MistralToolCalls.TEMPLATE;
        Grammar auto = f.grammar(List.of(WEATHER, NOW), "auto", true);
        assertEquals("[{\"name\"", auto.trigger());
        assertTrue(accepts(auto, "[{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}]"));
        assertTrue(accepts(auto, "[{\"name\":\"now\",\"arguments\":{}}, {\"name\":\"now\",\"arguments\":{}}]"));
        assertFalse(accepts(auto, "[{\"name\": \"get_weather\", \"arguments\": {}}]"), "city is required");
        assertFalse(accepts(f.grammar(List.of(NOW), "required", false), "[{\"name\":\"now\",\"arguments\":{}}, {\"name\":\"now\",\"arguments\":{}}]"),
                "one call without parallel calls");

        ToolCallFormat.Answer a = f.read(" [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}, {\"name\": \"now\", \"arguments\": {}}]",
                () -> "c");
        assertEquals(List.of("get_weather", "now"), a.calls().stream().map(ToolCall::name).toList());
        assertEquals(json("{\"city\":\"Paris\"}"), a.calls().getFirst().arguments());
        assertNull(a.content());
        assertEquals("Let me check.", f.read("Let me check. [TOOL_CALLS] [{\"name\": \"now\", \"arguments\": {}}]", () -> "c").content());
        assertNull(f.read("[{\"name\": \"now\", \"argum", () -> "c"), "cut: plain text");
        assertNull(f.read("The list [1, 2] is short.", () -> "c"));
    }
}
