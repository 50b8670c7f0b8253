package io.flashllm.server.http;

import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.PromptLogprobs;
import io.flashllm.engine.api.Reasoning;
import io.flashllm.engine.api.ToolCallFormat;
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
    /** A stream's text: thinking apart, and with tools the words stop where a call opens (it goes out whole at the end). */
    private final StreamedText streamed;
    private int textOffset;
    private PromptLogprobs promptScores;

    /**
     * @param thinking a thinking model's tags when its thinking is answered apart, else null
     * @param calls    with tools, how the model's calls look, else null
     */
    OpenAiWire(CompletionRequest req, OpenAiFormat format, String echoText, Reasoning thinking, ToolCallFormat calls) {
        this.req = req;
        this.format = format;
        this.echoText = echoText;
        this.textOffset = echoText == null ? 0 : echoText.length();
        this.streamed = req.stream() ? new StreamedText(thinking, calls) : null;
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
        ReasoningSplitter.Split s = streamed.push(token.text() == null ? "" : token.text());
        String thought = s.reasoning().isEmpty() ? "" : event(Json.write(format.reasoningChunk(s.reasoning())));
        String text = s.content();
        // With logprobs every token has its chunk (empty text while its characters are held), unless it went to the thinking.
        if (text.isEmpty() && (streamed.holdsCalls() || !req.logprobs() || !thought.isEmpty())) {
            return thought.isEmpty() ? null : thought;
        }
        String chunk = event(Json.write(format.textChunk(text, token, textOffset)));
        textOffset += text.length();
        return thought + chunk;
    }

    @Override
    public String closing(GenerationResult result) {
        StringBuilder b = new StringBuilder();
        ToolCallFormat.Answer calls = streamed.holdsCalls() ? format.toolCalls(result) : null;
        ReasoningSplitter.Split rest = streamed.finish(calls != null);
        if (!rest.reasoning().isEmpty()) b.append(event(Json.write(format.reasoningChunk(rest.reasoning()))));
        if (!rest.content().isEmpty()) b.append(event(Json.write(format.textChunk(rest.content(), null, textOffset))));
        if (calls != null) {
            b.append(event(Json.write(format.toolCallsChunk(calls.calls()))));
            b.append(event(Json.write(format.finishChunk(ToolCalls.finishReason(calls)))));
        } else {
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
