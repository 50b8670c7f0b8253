package io.flashllm.engine.chat;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.engine.api.ChatTool;
import io.flashllm.engine.api.ToolCall;
import io.flashllm.engine.api.ToolCallFormat;
import io.flashllm.engine.grammar.Grammar;
import io.flashllm.engine.grammar.JsonSchemaGrammar;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Function calling as gpt-oss was trained to do it (OpenAI's harmony format): the tools are declared to the model
 * as a TypeScript namespace {@code functions} in the developer message, and a call is a message on the commentary
 * channel addressed to the function, its body the arguments as JSON, ended by {@code <|call|>} (which ends the
 * reply: one call per reply). The model writes the recipient after the channel
 * ({@code <|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{...}}) or before it
 * ({@code <|start|>assistant to=functions.get_weather<|channel|>commentary json<|message|>{...}}, as the chat
 * template writes earlier calls back); both are read.
 */
public final class HarmonyToolCalls implements ToolCallFormat {
    public static final HarmonyToolCalls INSTANCE = new HarmonyToolCalls();
    /** What comes before the function's name in a call's header. */
    static final String RECIPIENT = " to=functions.";
    static final String COMMENTARY = HarmonyTemplate.CHANNEL + "commentary";
    /** What opens the model's next message. */
    static final String NEXT_MESSAGE = HarmonyTemplate.START + "assistant";
    private static final Pattern CALL = Pattern.compile("to=functions\\.([A-Za-z0-9_-]+)");
    /** Markers around the words of a commentary preamble, dropped from them. */
    private static final Pattern MARKERS = Pattern.compile("<\\|start\\|>assistant|<\\|channel\\|>[a-z]+|<\\|message\\|>|<\\|constrain\\|>");

    private HarmonyToolCalls() {}

    @Override
    public List<String> openers() {
        return List.of(COMMENTARY, RECIPIENT);
    }

    /**
     * Lazy either way, as gpt-oss reasons before it acts and its analysis ends with {@code <|end|>}, a control token
     * no grammar lets through: with "auto" from the recipient ({@link #RECIPIENT}), and otherwise from the start of
     * the message after the analysis, which must then be a call.
     */
    @Override
    public Grammar grammar(List<ChatTool> tools, String choice, boolean parallel) {
        boolean auto = choice.equals(ToolChoice.AUTO);
        String trigger = auto ? RECIPIENT : NEXT_MESSAGE;
        StringBuilder g = new StringBuilder("root ::= \"").append(trigger).append('"');
        if (!auto) g.append(" (\"").append(COMMENTARY).append("\")? \"").append(RECIPIENT).append('"');
        g.append(" call\n");
        List<ChatTool> callable = ToolChoice.callable(tools, choice);
        LinkedHashMap<String, JsonNode> args = new LinkedHashMap<>();
        g.append("call ::= ");
        for (int i = 0; i < callable.size(); i++) {
            String rule = "args-" + i;
            g.append(i == 0 ? "" : " | ").append('"').append(callable.get(i).name()).append("\" header ").append(rule);
            args.put(rule, callable.get(i).parameters());
        }
        g.append("\nheader ::= \"").append(COMMENTARY).append("\"? \" \"? \"<|constrain|>\"? \"json\"? \"")
                .append(HarmonyTemplate.MESSAGE).append("\"\n");
        g.append(JsonSchemaGrammar.toGbnf(args));
        return Grammar.parse(g.toString()).triggeredBy(trigger);
    }

    /** The call after the words (a commentary preamble, its markers dropped); its arguments must be whole JSON. */
    @Override
    public Answer read(String text, Supplier<String> ids) {
        Matcher m = CALL.matcher(text);
        if (!m.find()) return null;
        int body = text.indexOf(HarmonyTemplate.MESSAGE, m.end());
        if (body < 0) return null;
        String json = text.substring(body + HarmonyTemplate.MESSAGE.length());
        for (String end : List.of("<|call|>", HarmonyTemplate.END)) {
            if (json.endsWith(end)) json = json.substring(0, json.length() - end.length());
        }
        JsonNode arguments = HermesToolCalls.parse(json.strip());
        if (arguments == null) return null;
        String words = MARKERS.matcher(text.substring(0, m.start())).replaceAll(" ").strip();
        return new Answer(words.isEmpty() ? null : words, List.of(new ToolCall(ids.get(), m.group(1), arguments)), false);
    }

    /** An earlier call as the chat template writes it back. */
    static String render(ToolCall call) {
        return HarmonyTemplate.START + "assistant to=functions." + call.name() + HarmonyTemplate.CHANNEL + "commentary json"
                + HarmonyTemplate.MESSAGE + HermesToolCalls.write(call.arguments()) + "<|call|>";
    }

    /** The tools as the developer message declares them: a TypeScript namespace, one type per function. */
    static String namespace(List<ChatTool> tools) {
        StringBuilder b = new StringBuilder("## functions\n\nnamespace functions {\n\n");
        for (ChatTool t : tools) {
            if (t.description() != null) b.append("// ").append(t.description()).append('\n');
            b.append("type ").append(t.name()).append(" = ");
            JsonNode props = t.parameters() == null ? null : t.parameters().get("properties");
            if (props == null || !props.isObject() || props.isEmpty()) {
                b.append("() => any;\n\n");
                continue;
            }
            Set<String> required = required(t.parameters());
            b.append("(_: {\n");
            for (var it = props.fields(); it.hasNext(); ) {
                var p = it.next();
                JsonNode spec = p.getValue();
                String description = text(spec, "description");
                if (description != null) b.append("// ").append(description).append('\n');
                b.append(p.getKey()).append(required.contains(p.getKey()) ? "" : "?").append(": ").append(type(spec));
                JsonNode dflt = spec.get("default");
                if (dflt != null) {
                    b.append(", // default: ").append(dflt.isTextual() && spec.has("enum") ? dflt.textValue() : HermesToolCalls.write(dflt));
                    b.append('\n');
                } else {
                    b.append(",\n");
                }
            }
            b.append("}) => any;\n\n");
        }
        return b.append("} // namespace functions").toString();
    }

    /** A JSON schema as a TypeScript type, as gpt-oss's chat template writes one (unions of objects as any). */
    static String type(JsonNode spec) {
        if (spec == null || !spec.isObject()) return "any";
        String nullable = spec.path("nullable").asBoolean(false) ? " | null" : "";
        JsonNode type = spec.get("type");
        if (type != null && type.isArray()) {
            List<String> names = new ArrayList<>();
            type.forEach(n -> names.add(n.asText()));
            return String.join(" | ", names);
        }
        JsonNode union = spec.has("oneOf") ? spec.get("oneOf") : spec.get("anyOf");
        if (type == null && union != null && union.isArray()) {
            List<String> names = new ArrayList<>();
            boolean objects = false;
            for (JsonNode v : union) {
                objects |= "object".equals(text(v, "type"));
                names.add(type(v));
            }
            return objects && names.size() > 1 ? "any" : String.join(" | ", names);
        }
        String name = type == null ? "" : type.asText();
        switch (name) {
            case "array" -> {
                JsonNode items = spec.get("items");
                if (items == null) return "any[]" + nullable;
                String inner = switch (text(items, "type") == null ? "" : text(items, "type")) {
                    case "string" -> "string";
                    case "number", "integer" -> "number";
                    case "boolean" -> "boolean";
                    default -> type(items);
                };
                return (inner.length() > 50 ? "any" : inner) + "[]" + nullable;
            }
            case "string" -> {
                JsonNode values = spec.get("enum");
                if (values != null && values.isArray() && !values.isEmpty()) {
                    List<String> quoted = new ArrayList<>();
                    values.forEach(v -> quoted.add(HermesToolCalls.write(v)));
                    return String.join(" | ", quoted);
                }
                return "string" + nullable;
            }
            case "number", "integer" -> {
                return "number" + nullable;
            }
            case "boolean" -> {
                return "boolean" + nullable;
            }
            case "null" -> {
                return "null";
            }
            case "object" -> {
                JsonNode props = spec.get("properties");
                if (props == null || !props.isObject() || props.isEmpty()) return "object" + nullable;
                Set<String> required = required(spec);
                List<String> fields = new ArrayList<>();
                for (var it = props.fields(); it.hasNext(); ) {
                    var p = it.next();
                    fields.add(p.getKey() + (required.contains(p.getKey()) ? "" : "?") + ": " + type(p.getValue()));
                }
                return "{\n" + String.join(",\n", fields) + "\n}" + nullable;
            }
            default -> {
                return "any";
            }
        }
    }

    private static Set<String> required(JsonNode schema) {
        JsonNode r = schema.get("required");
        if (r == null || !r.isArray()) return Set.of();
        java.util.HashSet<String> names = new java.util.HashSet<>();
        r.forEach(n -> names.add(n.asText()));
        return names;
    }

    private static String text(JsonNode node, String field) {
        JsonNode v = node == null ? null : node.get(field);
        return v != null && v.isTextual() ? v.textValue() : null;
    }
}
