package io.flashllm.server.http;

import io.flashllm.engine.api.ChatMessage;
import io.flashllm.engine.grammar.Grammar;
import java.util.List;
import java.util.Map;

/**
 * A validated /v1/completions or /v1/chat/completions request. Exactly one of promptText,
 * promptTokens (completions) or messages (chat) is set. Sampling values are already defaulted;
 * {@code grammar} (structured output, or the tools' calls) is null when the output is free text;
 * {@code tools} is null unless the model may call functions (chat with tools, tool_choice not "none");
 * {@code thinking} is what the request says about a thinking model's thinking.
 */
record CompletionRequest(
        boolean chat,
        String promptText,
        int[] promptTokens,
        List<ChatMessage> messages,
        Integer maxTokens,
        float temperature,
        int topK,
        float topP,
        float minP,
        float repetitionPenalty,
        float presencePenalty,
        float frequencyPenalty,
        long seed,
        List<String> stop,
        boolean logprobs,
        int topLogprobs,
        boolean echo,
        boolean stream,
        boolean includeUsage,
        Map<Integer, Float> logitBias,
        Grammar grammar,
        ToolCalls tools,
        ThinkingChoice thinking) {}
