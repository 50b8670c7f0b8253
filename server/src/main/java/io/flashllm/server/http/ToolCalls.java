package io.flashllm.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.flashllm.engine.api.ChatTool;
import io.flashllm.engine.api.ToolCallFormat;
import io.flashllm.engine.grammar.Grammar;
import io.flashllm.engine.grammar.GrammarException;
import io.flashllm.engine.grammar.JsonSchemaGrammar;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A request's functions (OpenAI's {@code tools} and {@code tool_choice}), checked. The model's chat format says how
 * they reach the prompt and how its calls look ({@link io.flashllm.engine.api.ToolCallFormat}: the Hermes format
 * for most models, harmony for gpt-oss); its grammar holds every call to its function's schema: from the first
 * token with {@code tool_choice} "required" or a named function, and from the moment the model opens a call with
 * "auto" (before that it may answer in words).
 *
 * @param choice   "auto", "required", or the one function's name that must be called
 * @param parallel whether one answer may hold several calls
 */
record ToolCalls(List<ChatTool> tools, String choice, boolean parallel) {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");

    /** OpenAI's finish reason for an answer that calls functions. */
    static String finishReason(ToolCallFormat.Answer calls) {
        return calls.cut() ? "length" : "tool_calls";
    }

    /** The grammar of the answer under the model's format. */
    Grammar grammar(ToolCallFormat format) {
        return format.grammar(tools, choice, parallel);
    }

    /** The request's tools, or null when it has none or asks for none to be called. */
    static ToolCalls parse(JsonNode body) {
        JsonNode arr = Fields.get(body, "tools");
        JsonNode choiceNode = Fields.get(body, "tool_choice");
        Boolean parallel = Fields.bool(body, "parallel_tool_calls");
        if (arr == null || arr.isEmpty()) {
            if (arr != null && !arr.isArray()) throw ApiError.invalid("tools", "invalid_type", "'tools' must be an array");
            if (choiceNode != null && !(choiceNode.isTextual() && choiceNode.textValue().equals("none"))) {
                throw ApiError.invalid("tool_choice", "'tool_choice' needs 'tools'");
            }
            return null;
        }
        if (!arr.isArray()) throw ApiError.invalid("tools", "invalid_type", "'tools' must be an array");
        List<ChatTool> tools = new ArrayList<>();
        for (int i = 0; i < arr.size(); i++) {
            String where = "tools[" + i + "]";
            JsonNode t = arr.get(i);
            if (!t.isObject() || !"function".equals(Fields.string(t, "type"))) {
                throw ApiError.invalid(where, "'" + where + "' must be {\"type\":\"function\",\"function\":{...}}");
            }
            JsonNode fn = Fields.get(t, "function");
            if (fn == null || !fn.isObject()) throw ApiError.invalid(where + ".function", "missing_field", "'" + where + ".function' is required");
            String name = Fields.string(fn, "name");
            if (name == null || !NAME.matcher(name).matches()) {
                throw ApiError.invalid(where + ".function.name", "function names are 1-64 letters, digits, '_' or '-'");
            }
            for (ChatTool other : tools) {
                if (other.name().equals(name)) throw ApiError.invalid(where + ".function.name", "two tools are named '" + name + "'");
            }
            JsonNode params = Fields.get(fn, "parameters");
            if (params == null) params = F.objectNode().put("type", "object");
            try {
                JsonSchemaGrammar.toGbnf(params);
            } catch (GrammarException e) {
                throw ApiError.invalid(where + ".function.parameters", "invalid_schema",
                        "The parameters schema cannot be followed: " + e.getMessage());
            }
            tools.add(new ChatTool(name, Fields.string(fn, "description"), params));
        }
        String choice = "auto";
        if (choiceNode != null) {
            if (choiceNode.isTextual()) {
                choice = choiceNode.textValue();
                if (choice.equals("none")) return null;
                if (!choice.equals("auto") && !choice.equals("required")) {
                    throw ApiError.invalid("tool_choice", "'tool_choice' must be none, auto, required or a function");
                }
            } else if (choiceNode.isObject()) {
                JsonNode fn = Fields.get(choiceNode, "function");
                String name = fn == null || !fn.isObject() ? null : Fields.string(fn, "name");
                if (name == null || tools.stream().noneMatch(t -> t.name().equals(name))) {
                    throw ApiError.invalid("tool_choice", "'tool_choice' names no function among the tools");
                }
                choice = name;
            } else {
                throw ApiError.invalid("tool_choice", "invalid_type", "'tool_choice' must be a string or an object");
            }
        }
        return new ToolCalls(List.copyOf(tools), choice, parallel == null || parallel);
    }
}
