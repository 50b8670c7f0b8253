package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.engine.api.ChatMessage;
import io.flashllm.engine.api.SamplingParams;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Defaults and mappings from OpenAI fields to sampling parameters, and how prompts are fitted to the context. */
class RequestParserTest {
    private static final List<String> IDS = List.of("m");

    private static CompletionRequest parse(String json, boolean chat) throws Exception {
        return RequestParser.parse(TestServer.JSON.readTree(json), chat, IDS);
    }

    @Test
    void openAiDefaults() throws Exception {
        CompletionRequest r = parse("{\"prompt\":\"x\"}", false);
        assertEquals(1f, r.temperature());
        assertEquals(1f, r.topP());
        assertEquals(0, r.topK());
        assertEquals(0f, r.presencePenalty());
        assertEquals(1f, r.repetitionPenalty());
        assertNull(r.maxTokens());
        assertFalse(r.stream());
        assertFalse(r.logprobs());
        assertTrue(r.stop().isEmpty());
    }

    @Test
    void extensionsAndSpecialCases() throws Exception {
        CompletionRequest r = parse("{\"prompt\":[1,2,3],\"top_p\":0,\"top_k\":5,\"min_p\":0.1,\"repeat_penalty\":1.1,"
                + "\"n_predict\":7,\"seed\":-3,\"stop\":\"\\n\",\"logprobs\":0,\"temperature\":0}", false);
        assertArrayEquals(new int[] {1, 2, 3}, r.promptTokens());
        assertArrayEquals(new int[] {4, 5}, parse("{\"prompt\":[[4,5]]}", false).promptTokens(), "a list of one token-id prompt");
        ApiError several = assertThrows(ApiError.class, () -> parse("{\"prompt\":[[4,5],[6]]}", false));
        assertEquals("unsupported_parameter", several.code);
        assertEquals("'prompt' must be a string, an array of one string, an array of token ids, or an array of one such array",
                assertThrows(ApiError.class, () -> parse("{\"prompt\":[[4,\"x\"]]}", false)).getMessage());
        assertEquals(1, r.topK(), "top_p 0 keeps only the most likely token");
        assertEquals(0.1f, r.minP(), 1e-6);
        assertEquals(1.1f, r.repetitionPenalty(), 1e-6);
        assertEquals(7, r.maxTokens());
        assertEquals(-3L, r.seed());
        assertEquals(List.of("\n"), r.stop());
        assertTrue(r.logprobs());
        assertEquals(0, r.topLogprobs());
        CompletionRequest both = parse("{\"prompt\":\"x\",\"max_tokens\":5,\"max_completion_tokens\":9}", false);
        assertEquals(9, both.maxTokens());
        CompletionRequest chat = parse("{\"messages\":[{\"role\":\"developer\",\"content\":\"a\"},"
                + "{\"role\":\"assistant\",\"content\":null},{\"role\":\"user\",\"content\":\"b\"}],\"model\":\"m\"}", true);
        assertEquals(List.of(new ChatMessage("system", "a"), new ChatMessage("assistant", ""), new ChatMessage("user", "b")),
                chat.messages());
    }

    @Test
    void responseFormatsAndBiases() throws Exception {
        String chat = "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]";
        assertNull(parse("{" + chat + ",\"response_format\":{\"type\":\"text\"}}", true).grammar(), "text is free");
        assertNull(parse("{" + chat + "}", true).grammar());
        var anyObject = parse("{" + chat + ",\"response_format\":{\"type\":\"json_object\"}}", true).grammar();
        assertTrue(accepts(anyObject, "{\"a\": [1, {\"b\": null}]}"));
        assertFalse(accepts(anyObject, "[1]"), "json_object: an object at the top");
        // OpenAI's wrapper with a name, and llama.cpp's schema in its place: the same grammar.
        var wrapped = parse("{" + chat + ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"n\","
                + "\"schema\":{\"type\":\"boolean\"}}}}", true).grammar();
        var bare = parse("{" + chat + ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"type\":\"boolean\"}}}",
                true).grammar();
        for (var g : List.of(wrapped, bare)) {
            assertTrue(accepts(g, "true"));
            assertFalse(accepts(g, "1"));
        }
        var completions = parse("{\"prompt\":\"x\",\"json_schema\":{\"enum\":[\"a\",\"b\"]},\"logit_bias\":{\"7\":-100,\"9\":2.5}}",
                false);
        assertTrue(accepts(completions.grammar(), "\"b\""));
        assertEquals(java.util.Map.of(7, -100f, 9, 2.5f), completions.logitBias());
    }

    private static boolean accepts(io.flashllm.engine.grammar.Grammar g, String text) {
        var m = new io.flashllm.engine.grammar.GrammarMatcher(g);
        return m.acceptText(text) && m.canEnd();
    }

    @Test
    void budgetsFitTheContext() throws Exception {
        FakeModel model = new FakeModel(0, 0, 64);
        Prepared p = PromptPreparer.prepare(parse("{\"prompt\":\"abc\"}", false), model, 64, 0, PromptPreparer.ThinkingDefaults.SETTINGS);
        assertEquals(PromptPreparer.COMPLETIONS_DEFAULT_MAX_TOKENS, p.params().maxTokens());
        Prepared c = PromptPreparer.prepare(parse("{\"messages\":[{\"role\":\"user\",\"content\":\"abc\"}]}", true), model, 64, 0, PromptPreparer.ThinkingDefaults.SETTINGS);
        assertEquals(64 - c.promptTokens().length, c.params().maxTokens(), "chat without max_tokens may fill the context");
        Prepared exact = PromptPreparer.prepare(parse("{\"prompt\":\"abc\",\"max_tokens\":60}", false), model, 64, 0, PromptPreparer.ThinkingDefaults.SETTINGS);
        SamplingParams sp = exact.params();
        assertEquals(60, sp.maxTokens());
        ApiError e = assertThrows(ApiError.class,
                () -> PromptPreparer.prepare(parse("{\"prompt\":\"abc\",\"max_tokens\":61}", false), model, 64, 0, PromptPreparer.ThinkingDefaults.SETTINGS));
        assertEquals("context_length_exceeded", e.code);
        ApiError limit = assertThrows(ApiError.class,
                () -> PromptPreparer.prepare(parse("{\"prompt\":\"abcdefghij\"}", false), model, 64, 8, PromptPreparer.ThinkingDefaults.SETTINGS));
        assertTrue(limit.getMessage().contains("at most 8"), limit.getMessage());
    }
}
