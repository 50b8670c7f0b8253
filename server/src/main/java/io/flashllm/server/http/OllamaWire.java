package io.flashllm.server.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashllm.engine.api.FinishReason;
import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.Reasoning;
import io.flashllm.engine.api.ToolCall;
import io.flashllm.engine.api.ToolCallFormat;
import java.time.Instant;

/**
 * Ollama's answers: one JSON object, or one JSON object per line (NDJSON) ending with a {@code "done": true}
 * line that carries the counts and durations (nanoseconds). Chat answers carry {@code message}, generate
 * answers {@code response}. ({@link Responses} writes Ollama's errors, {@code {"error": "..."}}.)
 */
final class OllamaWire implements AnswerWire {
    private final CompletionRequest req;
    private final boolean chat;
    private final String model;
    private final long arrivalNanos;
    /** A thinking model's tags when its thinking is answered apart ({@code thinking}), else null. */
    private final Reasoning thinking;
    /** With tools, how the model's calls look, else null. */
    private final ToolCallFormat calls;
    private final StreamedText streamed;

    /**
     * @param chat     /api/chat (message) rather than /api/generate (response)
     * @param thinking a thinking model's tags when its thinking goes in {@code thinking}, else null
     * @param calls    with tools, how the model's calls look, else null
     */
    OllamaWire(CompletionRequest req, boolean chat, String model, long arrivalNanos, Reasoning thinking,
               ToolCallFormat calls) {
        this.req = req;
        this.chat = chat;
        this.model = model;
        this.arrivalNanos = arrivalNanos;
        this.thinking = thinking;
        this.calls = calls;
        this.streamed = req.stream() ? new StreamedText(thinking, calls) : null;
    }

    private ObjectNode line(String text, String thought) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("model", model);
        o.put("created_at", Instant.now().toString());
        if (chat) {
            ObjectNode m = o.putObject("message");
            m.put("role", "assistant");
            m.put("content", text);
            if (!thought.isEmpty()) m.put("thinking", thought);
        } else {
            o.put("response", text);
            if (!thought.isEmpty()) o.put("thinking", thought);
        }
        return o;
    }

    /** The answer to a request that only loads the model (Ollama's way to preload it). */
    static ObjectNode loaded(String model, boolean chat) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("model", model);
        o.put("created_at", Instant.now().toString());
        if (chat) {
            o.putObject("message").put("role", "assistant").put("content", "");
        } else {
            o.put("response", "");
        }
        o.put("done", true);
        o.put("done_reason", "load");
        return o;
    }

    @Override
    public String streamContentType() {
        return "application/x-ndjson";
    }

    @Override
    public String opening() {
        return "";
    }

    @Override
    public String piece(GeneratedToken token) {
        if (!req.stream()) return null;
        ReasoningSplitter.Split s = streamed.push(token.text() == null ? "" : token.text());
        if (s.content().isEmpty() && s.reasoning().isEmpty()) return null;
        ObjectNode o = line(s.content(), s.reasoning());
        o.put("done", false);
        return Json.write(o) + "\n";
    }

    @Override
    public String closing(GenerationResult result) {
        ToolCallFormat.Answer calls = streamed.holdsCalls() ? this.calls.read(parts(result).content(), () -> null) : null;
        ReasoningSplitter.Split rest = streamed.finish(calls != null);
        return Json.write(last(result, rest.content(), rest.reasoning(), calls)) + "\n";
    }

    @Override
    public String whole(GenerationResult result) {
        ReasoningSplitter.Split parts = parts(result);
        ToolCallFormat.Answer calls = this.calls != null ? this.calls.read(parts.content(), () -> null) : null;
        String text = calls != null ? (calls.content() == null ? "" : calls.content()) : parts.content();
        return Json.write(last(result, text, parts.reasoning(), calls));
    }

    private ReasoningSplitter.Split parts(GenerationResult r) {
        return ReasoningSplitter.whole(thinking, r.text());
    }

    private ObjectNode last(GenerationResult r, String text, String thought, ToolCallFormat.Answer calls) {
        ObjectNode o = line(text, thought);
        if (calls != null) {
            ArrayNode arr = ((ObjectNode) o.get("message")).putArray("tool_calls");
            for (ToolCall c : calls.calls()) {
                ObjectNode fn = arr.addObject().putObject("function");
                fn.put("name", c.name());
                fn.set("arguments", c.arguments());
            }
        }
        o.put("done", true);
        o.put("done_reason", r.finishReason() == FinishReason.LENGTH ? "length" : "stop");
        o.put("total_duration", System.nanoTime() - arrivalNanos);
        o.put("load_duration", 0); // the model is loaded before any request
        o.put("prompt_eval_count", r.promptTokens().length - r.cachedPromptTokens());
        o.put("prompt_eval_duration", r.promptNanos());
        o.put("eval_count", r.tokens().length);
        o.put("eval_duration", r.generationNanos());
        return o;
    }

    @Override
    public String ping() {
        return null;
    }
}
