package io.flashllm.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.engine.api.ChatMessage;
import io.flashllm.engine.grammar.Grammar;
import io.flashllm.engine.grammar.GrammarException;
import io.flashllm.engine.grammar.JsonSchemaGrammar;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ollama's /api/generate and /api/chat bodies as a {@link CompletionRequest}, with Ollama's defaults
 * (streamed; temperature 0.8, top_k 40, top_p 0.9, repeat_penalty 1.1; generating until the context is
 * full). Sampling settings come in {@code options}; {@code format} is "json" or a JSON schema.
 */
final class OllamaRequests {
    private OllamaRequests() {}

    /** "name" and "name:latest" both name the model, as Ollama's tags do. */
    static String modelName(JsonNode body, List<String> modelIds) {
        String model = Fields.string(body, "model");
        if (model == null || model.isEmpty()) throw ApiError.invalid("model", "missing_field", "model is required");
        String bare = model.endsWith(":latest") ? model.substring(0, model.length() - ":latest".length()) : model;
        if (!modelIds.contains(bare)) throw ApiError.modelNotFound(404, model);
        return bare;
    }

    /** Whether the body asks for nothing but loading the model (no prompt, no messages). */
    static boolean onlyLoads(JsonNode body, boolean chat) {
        JsonNode what = body.get(chat ? "messages" : "prompt");
        return what == null || what.isNull() || (what.isTextual() && what.textValue().isEmpty())
                || (what.isArray() && what.isEmpty());
    }

    static CompletionRequest parse(JsonNode body, boolean chat) {
        JsonNode o = Fields.get(body, "options");
        if (o != null && !o.isObject()) throw ApiError.invalid("options", "invalid_type", "'options' must be an object");
        JsonNode opts = o != null ? o : Json.MAPPER.createObjectNode();
        Long numPredict = Fields.integer(opts, "num_predict", -2, Integer.MAX_VALUE);
        Integer maxTokens = numPredict == null || numPredict <= 0 ? PromptPreparer.UNTIL_CONTEXT_FULL : numPredict.intValue();
        Double temperature = Fields.number(opts, "temperature", 0, 2);
        Long topK = Fields.integer(opts, "top_k", 0, Integer.MAX_VALUE);
        Double topP = Fields.number(opts, "top_p", 0, 1);
        Double minP = Fields.number(opts, "min_p", 0, 1);
        Double repeat = Fields.number(opts, "repeat_penalty", 0.01, 10);
        Double presence = Fields.number(opts, "presence_penalty", -2, 2);
        Double frequency = Fields.number(opts, "frequency_penalty", -2, 2);
        Long seed = Fields.integer(opts, "seed", Long.MIN_VALUE, Long.MAX_VALUE);
        List<String> stop = Fields.strings(opts, "stop", RequestParser.MAX_STOP);
        Boolean stream = Fields.bool(body, "stream");
        for (String unsupported : new String[] {"images", "context", "suffix", "template"}) {
            JsonNode n = Fields.get(body, unsupported);
            boolean empty = n == null || (n.isTextual() && n.textValue().isEmpty()) || (n.isArray() && n.isEmpty());
            if (!empty) {
                throw ApiError.unsupported(unsupported, "'" + unsupported + "' is not supported"
                        + (unsupported.equals("context") ? "; send the conversation to /api/chat instead" : ""));
            }
        }
        Grammar grammar = format(Fields.get(body, "format"));
        ToolCalls tools = null;
        String promptText = null;
        List<ChatMessage> messages = null;
        boolean render = true;
        if (chat) {
            tools = ToolCalls.parse(body);
            messages = RequestParser.messages(body);
            if (tools != null && grammar != null) {
                throw ApiError.invalid("tools", "'tools' and 'format' both shape the answer; give one");
            }
        } else {
            promptText = Fields.string(body, "prompt");
            Boolean raw = Fields.bool(body, "raw");
            if (raw == null || !raw) {
                // Ollama puts a plain prompt through the model's chat template, as a user turn.
                List<ChatMessage> m = new ArrayList<>();
                String system = Fields.string(body, "system");
                if (system != null && !system.isEmpty()) m.add(new ChatMessage("system", system));
                m.add(new ChatMessage("user", promptText));
                messages = List.copyOf(m);
                promptText = null;
            } else {
                render = false;
            }
        }
        long s = seed != null ? seed : ThreadLocalRandom.current().nextLong();
        return new CompletionRequest(render, promptText, null, messages, maxTokens,
                temperature == null ? 0.8f : temperature.floatValue(), topK == null ? 40 : topK.intValue(),
                topP == null ? 0.9f : topP.floatValue(), minP == null ? 0f : minP.floatValue(),
                repeat == null ? 1.1f : repeat.floatValue(), presence == null ? 0f : presence.floatValue(),
                frequency == null ? 0f : frequency.floatValue(), s, stop, false, 0, false,
                stream == null || stream, false, Map.of(), grammar, tools, ThinkingChoice.ollama(body));
    }

    /** {@code format}: "json" (any JSON object) or a JSON schema. */
    private static Grammar format(JsonNode f) {
        if (f == null || (f.isTextual() && f.textValue().isEmpty())) return null;
        try {
            if (f.isTextual() && f.textValue().equals("json")) return Grammar.parse(JsonSchemaGrammar.answerObject());
            if (f.isObject()) return Grammar.parse(JsonSchemaGrammar.answer(f));
        } catch (GrammarException e) {
            throw ApiError.invalid("format", "invalid_schema", "The JSON schema cannot be followed: " + e.getMessage());
        }
        throw ApiError.invalid("format", "'format' must be \"json\" or a JSON schema object");
    }
}
