package io.flashllm.engine.chat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import io.flashllm.engine.api.ChatTool;
import io.flashllm.engine.api.ToolCall;
import io.flashllm.engine.grammar.JsonSchemaGrammar;
import java.util.LinkedHashMap;
import java.util.List;

/**
 * A call as a JSON object {@code {"name": "f", "<key>": {...}}}, the shape the Hermes, Llama 3, Mistral and Granite
 * formats share (the key is {@code arguments}, or {@code parameters} for Llama 3): written into a prompt, and its
 * grammar, each function's name paired with its own argument schema.
 */
final class CallJson {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private CallJson() {}

    /** An earlier call as the model writes it. */
    static String write(ToolCall call, String argsKey) {
        return "{\"name\": " + HermesToolCalls.write(F.textNode(call.name())) + ", \"" + argsKey + "\": "
                + HermesToolCalls.write(call.arguments()) + "}";
    }

    /** Calls written one after another with {@code separator} between them. */
    static String writeAll(List<ToolCall> calls, String argsKey, String separator) {
        StringBuilder b = new StringBuilder();
        for (ToolCall c : calls) b.append(b.isEmpty() ? "" : separator).append(write(c, argsKey));
        return b.toString();
    }

    /**
     * GBNF whose rule {@code rule} is one call of one of {@code callable}: its name, then arguments that follow that
     * function's schema (a space allowed after each colon and comma, as models write them).
     */
    static String grammar(String rule, List<ChatTool> callable, String argsKey) {
        LinkedHashMap<String, JsonNode> args = new LinkedHashMap<>();
        StringBuilder g = new StringBuilder(rule).append(" ::= \"{\\\"name\\\"\" \" \"? \":\" \" \"? (");
        for (int i = 0; i < callable.size(); i++) {
            String argsRule = "args-" + i;
            g.append(i == 0 ? "" : " | ").append("\"\\\"").append(callable.get(i).name()).append("\\\"\" \" \"? \",\" \" \"? \"\\\"")
                    .append(argsKey).append("\\\"\" \" \"? \":\" \" \"? ").append(argsRule);
            args.put(argsRule, callable.get(i).parameters());
        }
        return g.append(") \" \"? \"}\"\n").append(JsonSchemaGrammar.toGbnf(args)).toString();
    }
}
