package io.flashllm.engine.chat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashllm.engine.api.ChatMessage;
import io.flashllm.engine.api.ChatTool;
import io.flashllm.engine.api.ToolCall;
import io.flashllm.engine.api.ToolCallFormat;
import io.flashllm.engine.grammar.Grammar;
import io.flashllm.engine.grammar.JsonSchemaGrammar;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Function calling for any chat format without a syntax of its own, in the Hermes format that Qwen 2.5 and Hermes
 * models are trained on: the tools' signatures go into the system prompt, a call is a JSON object
 * {@code {"name": ..., "arguments": {...}}} between {@code <tool_call>} and {@code </tool_call>}, and results go back
 * as a user turn between {@code <tool_response>} tags (consecutive ones together).
 */
public final class HermesToolCalls implements ToolCallFormat {
    public static final HermesToolCalls INSTANCE = new HermesToolCalls();
    public static final String OPEN = "<tool_call>";
    public static final String CLOSE = "</tool_call>";
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    static final ObjectMapper JSON = JsonMapper.builder().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    private HermesToolCalls() {}

    /**
     * The conversation with its tools, calls and results written out as Hermes turns, for a chat format that knows
     * only system, user and assistant turns.
     */
    public static List<ChatMessage> inline(List<ChatMessage> messages, List<ChatTool> tools) {
        List<ChatMessage> out = new ArrayList<>();
        StringBuilder results = null;
        for (ChatMessage m : messages) {
            if ("tool".equals(m.role())) {
                results = results == null ? new StringBuilder() : results.append('\n');
                results.append("<tool_response>\n").append(m.content()).append("\n</tool_response>");
                continue;
            }
            if (results != null) {
                out.add(new ChatMessage("user", results.toString()));
                results = null;
            }
            if (m.toolCalls().isEmpty() && m.reasoning() == null && m.toolName() == null) {
                out.add(m);
            } else {
                String text = m.content() == null ? "" : m.content();
                if (!m.toolCalls().isEmpty()) text = (text.isEmpty() ? "" : text + "\n") + render(m.toolCalls());
                out.add(new ChatMessage(m.role(), text));
            }
        }
        if (results != null) out.add(new ChatMessage("user", results.toString()));
        if (tools != null && !tools.isEmpty()) {
            if (!out.isEmpty() && "system".equals(out.get(0).role())) {
                out.set(0, new ChatMessage("system", out.get(0).content() + "\n\n" + systemPrompt(tools)));
            } else {
                out.add(0, new ChatMessage("system", systemPrompt(tools)));
            }
        }
        return out;
    }

    /** What the system prompt gains: the signatures and how to call them. */
    static String systemPrompt(List<ChatTool> tools) {
        StringBuilder b = new StringBuilder();
        b.append("# Tools\n\nYou may call functions to help with the answer. Their signatures, one JSON object")
                .append(" per line, are between <tools> and </tools>:\n<tools>\n");
        for (ChatTool t : tools) b.append(write(definition(t))).append('\n');
        b.append("</tools>\n\nTo call a function, answer with a JSON object of its name and its arguments between ")
                .append(OPEN).append(" and ").append(CLOSE).append(" tags:\n").append(OPEN)
                .append("\n{\"name\": <function name>, \"arguments\": <the arguments as a JSON object>}\n").append(CLOSE);
        return b.toString();
    }

    /** A tool as the API describes it: {@code {"type": "function", "function": {name, description, parameters}}}. */
    static ObjectNode definition(ChatTool t) {
        ObjectNode fn = F.objectNode();
        fn.put("type", "function");
        ObjectNode f = fn.putObject("function");
        f.put("name", t.name());
        if (t.description() != null) f.put("description", t.description());
        f.set("parameters", t.parameters());
        return fn;
    }

    /** An assistant turn's calls as the model writes them. */
    static String render(List<ToolCall> calls) {
        StringBuilder b = new StringBuilder();
        for (ToolCall c : calls) {
            if (!b.isEmpty()) b.append('\n');
            b.append(OPEN).append('\n').append(CallJson.write(c, "arguments")).append('\n').append(CLOSE);
        }
        return b.toString();
    }

    @Override
    public List<String> openers() {
        return List.of(OPEN);
    }

    /** One call (or several), lazily from the first {@link #OPEN} with "auto". */
    @Override
    public Grammar grammar(List<ChatTool> tools, String choice, boolean parallel) {
        ArrayNode anyOf = F.arrayNode();
        for (ChatTool t : ToolChoice.callable(tools, choice)) {
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
        return choice.equals(ToolChoice.AUTO) ? g.triggeredBy(OPEN) : g;
    }

    /** A call whose text is not a JSON object with a name and arguments ends the reading there. */
    @Override
    public Answer read(String text, Supplier<String> ids) {
        int first = text.indexOf(OPEN);
        if (first < 0) return null;
        List<ToolCall> calls = new ArrayList<>();
        boolean cut = false;
        for (int at = first; at >= 0; ) {
            int end = text.indexOf(CLOSE, at);
            ToolCall call = end < 0 ? null : call(text.substring(at + OPEN.length(), end), ids);
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

    private static ToolCall call(String json, Supplier<String> ids) {
        JsonNode call = parse(json);
        JsonNode name = call == null ? null : call.get("name");
        JsonNode args = call == null ? null : call.get("arguments");
        if (name == null || !name.isTextual() || args == null) return null;
        return new ToolCall(ids.get(), name.textValue(), args);
    }

    /** JSON text as a tree, or null when it is not one JSON value. */
    static JsonNode parse(String json) {
        try {
            return JSON.readTree(json);
        } catch (java.io.IOException e) {
            return null;
        }
    }

    static String write(JsonNode node) {
        try {
            return JSON.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a JsonNode always serializes", e);
        }
    }
}
