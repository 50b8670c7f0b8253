package io.flashllm.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashllm.engine.grammar.Grammar;
import io.flashllm.engine.grammar.GrammarException;
import io.flashllm.engine.grammar.JsonSchemaGrammar;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * OpenAI function calling over any chat model, in the Hermes format that Qwen 2.5 and Hermes models are
 * trained on: the tools' signatures go into the system prompt, and a call is a JSON object
 * {@code {"name": ..., "arguments": {...}}} between {@code <tool_call>} and {@code </tool_call>}. A grammar
 * made from the tools' parameter schemas holds every call to its function's schema: from the first token
 * with {@code tool_choice} "required" or a named function, and from the moment the model opens a call with
 * "auto" (before that it may answer in words).
 *
 * @param choice   "auto", "required", or the one function's name that must be called
 * @param parallel whether one answer may hold several calls
 */
record ToolCalls(List<Tool> tools, String choice, boolean parallel) {
    static final String OPEN = "<tool_call>";
    static final String CLOSE = "</tool_call>";
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9_-]{1,64}");

    /** One function: its name, description (may be null) and JSON schema of its arguments. */
    record Tool(String name, String description, JsonNode parameters) {}

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
        List<Tool> tools = new ArrayList<>();
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
            for (Tool other : tools) {
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
            tools.add(new Tool(name, Fields.string(fn, "description"), params));
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

    /** What the system prompt gains: the signatures and how to call them. */
    String systemPrompt() {
        StringBuilder b = new StringBuilder();
        b.append("# Tools\n\nYou may call functions to help with the answer. Their signatures, one JSON object")
                .append(" per line, are between <tools> and </tools>:\n<tools>\n");
        for (Tool t : tools) {
            ObjectNode fn = F.objectNode();
            fn.put("type", "function");
            ObjectNode f = fn.putObject("function");
            f.put("name", t.name());
            if (t.description() != null) f.put("description", t.description());
            f.set("parameters", t.parameters());
            b.append(Json.write(fn)).append('\n');
        }
        b.append("</tools>\n\nTo call a function, answer with a JSON object of its name and its arguments between ")
                .append(OPEN).append(" and ").append(CLOSE).append(" tags:\n").append(OPEN)
                .append("\n{\"name\": <function name>, \"arguments\": <the arguments as a JSON object>}\n").append(CLOSE);
        return b.toString();
    }

    /** The grammar the answer must follow: one call (or several), lazily from the first OPEN with "auto". */
    Grammar grammar() {
        ArrayNode anyOf = F.arrayNode();
        for (Tool t : tools) {
            if (!choice.equals("auto") && !choice.equals("required") && !choice.equals(t.name())) continue;
            ObjectNode call = anyOf.addObject();
            call.put("type", "object");
            ObjectNode props = call.putObject("properties");
            props.putObject("name").put("const", t.name());
            props.set("arguments", t.parameters());
            call.putArray("required").add("name").add("arguments");
        }
        ObjectNode schema = F.objectNode();
        schema.set("anyOf", anyOf);
        String gbnf = "root ::= tool-call" + (parallel ? " (\"\\n\" tool-call)*" : "") + "\n"
                + "tool-call ::= \"" + OPEN + "\\n\" tool-json \"\\n" + CLOSE + "\"\n"
                + JsonSchemaGrammar.toGbnf(schema, "tool-json");
        Grammar g = Grammar.parse(gbnf);
        return choice.equals("auto") ? g.triggeredBy(OPEN) : g;
    }

    /** An assistant turn's calls as the model writes them, for the history sent back to it. */
    static String render(List<Call> calls) {
        StringBuilder b = new StringBuilder();
        for (Call c : calls) {
            if (!b.isEmpty()) b.append('\n');
            b.append(OPEN).append("\n{\"name\": ").append(Json.write(F.textNode(c.name()))).append(", \"arguments\": ")
                    .append(Json.write(c.arguments())).append("}\n").append(CLOSE);
        }
        return b.toString();
    }

    /** One call: the function's name and its arguments (OpenAI sends them as JSON text, Ollama as an object). */
    record Call(String id, String name, JsonNode arguments) {}

    /**
     * An answer split into its words before the first call (null if none) and its whole calls; {@code cut}
     * when a last call was left unfinished (the token limit), which is then dropped.
     */
    record Answer(String content, List<Call> calls, boolean cut) {
        /** OpenAI's finish reason for it. */
        String finishReason() {
            return cut ? "length" : "tool_calls";
        }
    }

    /**
     * The calls in a model's answer, or null when it holds no whole one (then the answer is plain text).
     * A call whose text is not a JSON object with a name and arguments ends the reading there.
     */
    static Answer read(String text, java.util.function.Supplier<String> ids) {
        int first = text.indexOf(OPEN);
        if (first < 0) return null;
        List<Call> calls = new ArrayList<>();
        boolean cut = false;
        for (int at = first; at >= 0; ) {
            int end = text.indexOf(CLOSE, at);
            Call call = end < 0 ? null : call(text.substring(at + OPEN.length(), end), ids);
            if (call == null) {
                cut = true;
                break;
            }
            calls.add(call);
            at = text.indexOf(OPEN, end);
        }
        if (calls.isEmpty()) return null;
        String content = text.substring(0, first).strip();
        return new Answer(content.isEmpty() ? null : content, List.copyOf(calls), cut);
    }

    private static Call call(String json, java.util.function.Supplier<String> ids) {
        JsonNode call;
        try {
            call = Json.MAPPER.readTree(json);
        } catch (java.io.IOException e) {
            return null;
        }
        JsonNode name = call == null ? null : call.get("name");
        JsonNode args = call == null ? null : call.get("arguments");
        if (name == null || !name.isTextual() || args == null) return null;
        return new Call(ids.get(), name.textValue(), args);
    }
}
