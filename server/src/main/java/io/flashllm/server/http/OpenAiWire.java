package io.flashllm.server.http;

import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.PromptLogprobs;
import java.util.ArrayList;
import java.util.List;

/** OpenAI's answers: a JSON body, or SSE {@code data:} chunks ending in {@code data: [DONE]}. */
final class OpenAiWire implements AnswerWire {
    private static final String DONE = "data: [DONE]\n\n";

    private final CompletionRequest req;
    private final OpenAiFormat format;
    private final String echoText;
    /** Tokens kept for a whole answer's logprobs. */
    private final List<GeneratedToken> kept = new ArrayList<>();
    /** With tools: streamed words stop where a call opens; the call goes out whole at the end. */
    private final HeldBack held;
    private int textOffset;
    private PromptLogprobs promptScores;

    OpenAiWire(CompletionRequest req, OpenAiFormat format, String echoText) {
        this.req = req;
        this.format = format;
        this.echoText = echoText;
        this.textOffset = echoText == null ? 0 : echoText.length();
        this.held = req.tools() != null && req.stream() ? new HeldBack(ToolCalls.OPEN) : null;
    }

    static String event(String json) {
        return "data: " + json + "\n\n";
    }

    @Override
    public String streamContentType() {
        return "text/event-stream; charset=utf-8";
    }

    @Override
    public String opening() {
        StringBuilder b = new StringBuilder();
        if (req.chat()) b.append(event(Json.write(format.roleChunk())));
        if (echoText != null && !echoText.isEmpty()) b.append(event(Json.write(format.textChunk(echoText, null, 0))));
        return b.toString();
    }

    @Override
    public void promptLogprobs(PromptLogprobs scores) {
        promptScores = scores;
    }

    @Override
    public String piece(GeneratedToken token) {
        if (!req.stream()) {
            if (req.logprobs()) kept.add(token);
            return null;
        }
        String text = token.text() == null ? "" : token.text();
        if (held != null) {
            text = held.push(text);
            if (text.isEmpty()) return null;
        }
        if (text.isEmpty() && !req.logprobs()) return null;
        String chunk = event(Json.write(format.textChunk(text, token, textOffset)));
        textOffset += text.length();
        return chunk;
    }

    @Override
    public String closing(GenerationResult result) {
        StringBuilder b = new StringBuilder();
        ToolCalls.Answer calls = held != null ? format.toolCalls(result) : null;
        if (calls != null) {
            b.append(event(Json.write(format.toolCallsChunk(calls.calls()))));
            b.append(event(Json.write(format.finishChunk(calls.finishReason()))));
        } else {
            String rest = held != null ? held.rest() : "";
            if (!rest.isEmpty()) b.append(event(Json.write(format.textChunk(rest, null, textOffset))));
            b.append(event(Json.write(format.finishChunk(result.finishReason()))));
        }
        if (req.includeUsage()) b.append(event(Json.write(format.usageChunk(result))));
        return b.append(DONE).toString();
    }

    @Override
    public String whole(GenerationResult result) {
        return Json.write(format.full(result, echoText, kept, promptScores));
    }

    @Override
    public String ping() {
        return ": ping\n\n";
    }
}
