package io.flashllm.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;

/**
 * OpenAI's Responses API body ({@code POST /v1/responses}) as the chat request it amounts to:
 * {@code instructions} and {@code input} (a string, or message, {@code function_call} and
 * {@code function_call_output} items) become the conversation; {@code tools} (function tools),
 * {@code tool_choice}, {@code text.format} (text, json_object, json_schema), {@code max_output_tokens},
 * {@code temperature} and {@code top_p} map to their chat counterparts. The server keeps no responses, so
 * {@code previous_response_id} is refused (send the whole conversation as input, as with chat).
 */
final class ResponsesRequests {
    private ResponsesRequests() {}

    /** The chat request, and the fields echoed in the answer (tools, tool_choice, text as sent). */
    record Parsed(CompletionRequest request, JsonNode echo) {}

    static Parsed parse(JsonNode body, List<String> modelIds) {
        for (String field : new String[] {"previous_response_id", "conversation"}) {
            if (Fields.get(body, field) != null) {
                throw ApiError.unsupported(field, "'" + field + "' is not supported: this server keeps no responses;"
                        + " send the whole conversation as 'input'");
            }
        }
        Boolean background = Fields.bool(body, "background");
        if (background != null && background) throw ApiError.unsupported("background", "background responses are not supported");
        ObjectNode chat = Json.MAPPER.createObjectNode();
        JsonNode model = Fields.get(body, "model");
        if (model != null) chat.set("model", model);
        chat.set("messages", messages(body));
        copy(body, "temperature", chat, "temperature");
        copy(body, "top_p", chat, "top_p");
        copy(body, "max_output_tokens", chat, "max_tokens");
        copy(body, "parallel_tool_calls", chat, "parallel_tool_calls");
        copy(body, "user", chat, "user");
        JsonNode reasoning = Fields.get(body, "reasoning");
        if (reasoning != null) {
            if (!reasoning.isObject()) throw ApiError.invalid("reasoning", "invalid_type", "'reasoning' must be an object");
            copy(reasoning, "effort", chat, "reasoning_effort");
        }
        JsonNode tools = Fields.get(body, "tools");
        if (tools != null) chat.set("tools", tools(tools));
        JsonNode choice = Fields.get(body, "tool_choice");
        if (choice != null) chat.set("tool_choice", toolChoice(choice));
        JsonNode text = Fields.get(body, "text");
        if (text != null) {
            if (!text.isObject()) throw ApiError.invalid("text", "invalid_type", "'text' must be an object");
            JsonNode format = Fields.get(text, "format");
            if (format != null) chat.set("response_format", responseFormat(format));
        }
        Boolean stream = Fields.bool(body, "stream");
        CompletionRequest r = RequestParser.parse(chat, true, modelIds);
        CompletionRequest req = new CompletionRequest(true, null, null, r.messages(), r.maxTokens(), r.temperature(), r.topK(),
                r.topP(), r.minP(), r.repetitionPenalty(), r.presencePenalty(), r.frequencyPenalty(), r.seed(), r.stop(),
                false, 0, false, stream != null && stream, false, r.logitBias(), r.grammar(), r.tools(), r.thinking());
        ObjectNode echo = Json.MAPPER.createObjectNode();
        echo.set("tools", tools == null ? Json.MAPPER.createArrayNode() : tools);
        echo.set("tool_choice", choice == null ? Json.MAPPER.getNodeFactory().textNode("auto") : choice);
        echo.set("text", text == null ? Json.MAPPER.createObjectNode().set("format",
                Json.MAPPER.createObjectNode().put("type", "text")) : text);
        JsonNode instructions = Fields.get(body, "instructions");
        echo.set("instructions", instructions);
        return new Parsed(req, echo);
    }

    private static void copy(JsonNode from, String name, ObjectNode to, String as) {
        JsonNode v = Fields.get(from, name);
        if (v != null) to.set(as, v);
    }

    /** instructions (a system turn first) and input as chat messages. */
    private static ArrayNode messages(JsonNode body) {
        ArrayNode out = Json.MAPPER.createArrayNode();
        String instructions = Fields.string(body, "instructions");
        if (instructions != null && !instructions.isEmpty()) out.addObject().put("role", "system").put("content", instructions);
        JsonNode input = Fields.get(body, "input");
        if (input == null) throw ApiError.invalid("input", "missing_field", "'input' is required");
        if (input.isTextual()) {
            out.addObject().put("role", "user").put("content", input.textValue());
            return out;
        }
        if (!input.isArray()) throw ApiError.invalid("input", "invalid_type", "'input' must be a string or an array of items");
        ObjectNode calling = null; // the assistant turn that consecutive function_call items go into
        for (int i = 0; i < input.size(); i++) {
            JsonNode item = input.get(i);
            String where = "input[" + i + "]";
            if (!item.isObject()) throw ApiError.invalid(where, "invalid_type", "'" + where + "' must be an object");
            String type = Fields.string(item, "type");
            if (type == null) type = "message";
            switch (type) {
                case "message" -> {
                    calling = null;
                    String role = Fields.string(item, "role");
                    if (role == null) throw ApiError.invalid(where + ".role", "missing_field", "'" + where + ".role' is required");
                    out.addObject().put("role", role).put("content", text(item.get("content"), where + ".content"));
                }
                case "function_call" -> {
                    String callId = required(item, "call_id", where);
                    String name = required(item, "name", where);
                    String arguments = required(item, "arguments", where);
                    if (calling == null) {
                        calling = out.addObject().put("role", "assistant");
                        calling.putNull("content");
                        calling.putArray("tool_calls");
                    }
                    ObjectNode call = ((ArrayNode) calling.get("tool_calls")).addObject().put("id", callId).put("type", "function");
                    call.putObject("function").put("name", name).put("arguments", arguments);
                }
                case "function_call_output" -> {
                    calling = null;
                    String callId = required(item, "call_id", where);
                    JsonNode output = Fields.get(item, "output");
                    String text = output == null ? null : output.isTextual() ? output.textValue() : text(output, where + ".output");
                    if (text == null) throw ApiError.invalid(where + ".output", "missing_field", "'" + where + ".output' is required");
                    out.addObject().put("role", "tool").put("tool_call_id", callId).put("content", text);
                }
                case "reasoning" -> calling = null; // reasoning this server never wrote: nothing to give the model
                default -> throw ApiError.unsupported(where + ".type", "input items of type '" + type + "' are not supported");
            }
        }
        if (out.isEmpty()) throw ApiError.invalid("input", "'input' holds no message");
        return out;
    }

    private static String required(JsonNode item, String field, String where) {
        String v = Fields.string(item, field);
        if (v == null) throw ApiError.invalid(where + "." + field, "missing_field", "'" + where + "." + field + "' is required");
        return v;
    }

    /** A string, or content parts of type input_text / output_text / text joined together. */
    private static String text(JsonNode content, String where) {
        if (content == null || content.isNull()) throw ApiError.invalid(where, "missing_field", "'" + where + "' is required");
        if (content.isTextual()) return content.textValue();
        if (!content.isArray()) throw ApiError.invalid(where, "invalid_type", "'" + where + "' must be a string or an array of parts");
        StringBuilder b = new StringBuilder();
        for (JsonNode part : content) {
            String type = part.isObject() ? Fields.string(part, "type") : null;
            if (!"input_text".equals(type) && !"output_text".equals(type) && !"text".equals(type)) {
                throw ApiError.unsupported(where, "Only text content parts are supported (input_text, output_text)");
            }
            String t = Fields.string(part, "text");
            if (t == null) throw ApiError.invalid(where, "missing_field", "text parts need a 'text' string");
            b.append(t);
        }
        return b.toString();
    }

    /** Function tools, flat as the Responses API writes them, nested as chat's. */
    private static ArrayNode tools(JsonNode tools) {
        if (!tools.isArray()) throw ApiError.invalid("tools", "invalid_type", "'tools' must be an array");
        ArrayNode out = Json.MAPPER.createArrayNode();
        for (int i = 0; i < tools.size(); i++) {
            JsonNode t = tools.get(i);
            String type = t.isObject() ? Fields.string(t, "type") : null;
            if (!"function".equals(type)) {
                throw ApiError.unsupported("tools[" + i + "]", "only function tools are supported"
                        + (type == null ? "" : "; not '" + type + "'"));
            }
            ObjectNode fn = out.addObject().put("type", "function").putObject("function");
            for (String f : new String[] {"name", "description", "parameters"}) {
                JsonNode v = Fields.get(t, f);
                if (v != null) fn.set(f, v);
            }
        }
        return out;
    }

    private static JsonNode toolChoice(JsonNode choice) {
        if (choice.isTextual()) return choice;
        if (choice.isObject() && "function".equals(Fields.string(choice, "type"))) {
            ObjectNode c = Json.MAPPER.createObjectNode().put("type", "function");
            JsonNode name = Fields.get(choice, "name");
            if (name != null) c.putObject("function").set("name", name);
            return c;
        }
        throw ApiError.invalid("tool_choice", "'tool_choice' must be none, auto, required or {\"type\":\"function\",\"name\":...}");
    }

    /** text.format as chat's response_format. */
    private static JsonNode responseFormat(JsonNode format) {
        if (!format.isObject()) throw ApiError.invalid("text.format", "invalid_type", "'text.format' must be an object");
        String type = Fields.string(format, "type");
        if (!"json_schema".equals(type)) return format; // text and json_object read the same
        JsonNode schema = Fields.get(format, "schema");
        if (schema == null) throw ApiError.invalid("text.format.schema", "missing_field", "'text.format.schema' is required");
        ObjectNode rf = Json.MAPPER.createObjectNode().put("type", "json_schema");
        ObjectNode js = rf.putObject("json_schema");
        JsonNode name = Fields.get(format, "name");
        js.put("name", name != null && name.isTextual() ? name.textValue() : "answer");
        js.set("schema", schema);
        return rf;
    }
}
