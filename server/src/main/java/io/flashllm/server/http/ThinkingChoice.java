package io.flashllm.server.http;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What a request says about a thinking model's thinking (Qwen3, QwQ, DeepSeek R1, gpt-oss): whether the model
 * thinks before it answers, and whether its thinking comes apart from the answer ({@code reasoning_content},
 * Ollama's {@code thinking}) or inside the answer's text, tags and all. Null: the server's setting
 * ({@code reasoning-budget}, {@code reasoning-format}). Models that do not think ignore both. {@code effort}
 * ("low", "medium", "high", or null) is the level gpt-oss's harmony format states; the others have one level.
 */
record ThinkingChoice(Boolean think, Boolean separate, String effort) {
    static final ThinkingChoice DEFAULT = new ThinkingChoice(null, null, null);

    ThinkingChoice(Boolean think, Boolean separate) {
        this(think, separate, null);
    }

    /**
     * The OpenAI-style names clients send: {@code chat_template_kwargs.enable_thinking} (llama.cpp, vLLM),
     * {@code reasoning_effort} ("none" turns thinking off; any other level leaves it on, and low, medium and
     * high, minimal as low, are gpt-oss's effort), Ollama's {@code think}, and llama.cpp's
     * {@code reasoning_format} ("none" keeps the thinking in the text; "deepseek" and "auto" take it apart).
     */
    static ThinkingChoice openAi(JsonNode body) {
        Boolean think = null;
        JsonNode kwargs = Fields.get(body, "chat_template_kwargs");
        if (kwargs != null) {
            if (!kwargs.isObject()) {
                throw ApiError.invalid("chat_template_kwargs", "invalid_type", "'chat_template_kwargs' must be an object");
            }
            think = Fields.bool(kwargs, "enable_thinking");
        }
        String effort = Fields.string(body, "reasoning_effort");
        if (think == null && effort != null) think = !effort.equals("none");
        String level = effort == null ? null : switch (effort) {
            case "minimal", "low" -> "low";
            case "medium", "high" -> effort;
            default -> null;
        };
        if (think == null) think = ollamaThink(body);
        if (level == null) level = ollamaLevel(body);
        return new ThinkingChoice(think, format(Fields.string(body, "reasoning_format")), level);
    }

    /** Ollama's {@code think}: true or false, or a level ("low", "medium", "high"), which means on, at that effort. */
    static ThinkingChoice ollama(JsonNode body) {
        return new ThinkingChoice(ollamaThink(body), null, ollamaLevel(body));
    }

    private static String ollamaLevel(JsonNode body) {
        JsonNode t = Fields.get(body, "think");
        if (t == null || !t.isTextual()) return null;
        return switch (t.textValue()) {
            case "low", "medium", "high" -> t.textValue();
            default -> null;
        };
    }

    private static Boolean ollamaThink(JsonNode body) {
        JsonNode t = Fields.get(body, "think");
        if (t == null) return null;
        if (t.isBoolean()) return t.booleanValue();
        if (t.isTextual() && (t.textValue().equals("low") || t.textValue().equals("medium") || t.textValue().equals("high"))) {
            return true;
        }
        throw ApiError.invalid("think", "invalid_type", "'think' must be true, false, \"low\", \"medium\" or \"high\"");
    }

    private static Boolean format(String f) {
        if (f == null) return null;
        return switch (f) {
            case "none" -> false;
            case "deepseek", "auto" -> true;
            default -> throw ApiError.invalid("reasoning_format", "'reasoning_format' must be none, deepseek or auto");
        };
    }

    /** Whether the model thinks: the request's word, else none under a grammar of its own, else the server's. */
    boolean thinks(boolean serverDefault, boolean constrained) {
        if (think != null) return think;
        // A grammar (a JSON schema) holds the answer from its first token: the model answers without thinking.
        return serverDefault && !constrained;
    }

    boolean separates(boolean serverDefault) {
        return separate != null ? separate : serverDefault;
    }
}
