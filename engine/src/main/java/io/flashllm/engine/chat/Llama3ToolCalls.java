package io.flashllm.engine.chat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import io.flashllm.engine.api.ChatMessage;
import io.flashllm.engine.api.ChatTool;
import io.flashllm.engine.api.ToolCall;
import io.flashllm.engine.api.ToolCallFormat;
import io.flashllm.engine.grammar.Grammar;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Function calling as Llama 3.1, 3.2 and 3.3 were trained to do it (Meta's chat template, as Ollama and llama.cpp
 * render it): the system turn opens with {@code Environment: ipython}, the first user turn lists the functions as
 * JSON after an instruction to answer with {@code {"name": ..., "parameters": {...}}}, a call is that JSON object alone (after {@code <|python_tag|>} in some replies, a control token
 * that decodes to nothing), and a result goes back in an {@code ipython} turn.
 */
public final class Llama3ToolCalls implements ToolCallFormat {
    public static final Llama3ToolCalls INSTANCE = new Llama3ToolCalls();
    /** What a call starts with, as the model writes it. */
    static final String OPEN = "{\"name\"";
    /** Our own words for what Llama 3.1 was trained to read here: the functions, and the JSON shape of a call. */
    static final String INSTRUCTION = "You can answer with a call of one of the functions below: a JSON object alone,"
            + " {\"name\": function name, \"parameters\": object of argument names and values}, with literal values"
            + " (no variables).\n\n";
    private static final Pattern CALL_START = Pattern.compile("\\{\\s*\"name\"\\s*:");
    /** Reads one JSON value and leaves what follows it (the mapper that reads whole texts refuses trailing tokens). */
    private static final ObjectMapper ONE_VALUE = new ObjectMapper();
    /** The functions as the template lists them: JSON indented by four spaces. */
    static final ObjectWriter LISTED = new ObjectMapper().writer(new DefaultPrettyPrinter()
            .withObjectIndenter(new DefaultIndenter("    ", "\n"))
            .withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER)));

    private Llama3ToolCalls() {}

    /**
     * The conversation with its tools declared, calls and results written as Llama 3.1's template writes them; roles
     * are then system, user, assistant and ipython, for {@link BuiltinTemplate#LLAMA3}'s turns.
     */
    static List<ChatMessage> inline(List<ChatMessage> messages, List<ChatTool> tools) {
        List<ChatMessage> out = new ArrayList<>();
        boolean listed = tools == null || tools.isEmpty();
        if (!listed && (messages.isEmpty() || !"system".equals(BuiltinTemplate.role(messages.getFirst())))) {
            out.add(new ChatMessage("system", "Environment: ipython"));
        }
        for (ChatMessage m : messages) {
            String role = BuiltinTemplate.role(m);
            switch (role) {
                case "system" -> out.add(new ChatMessage("system",
                        !listed && out.isEmpty() ? "Environment: ipython\n\n" + m.content() : m.content()));
                case "user" -> {
                    if (!listed) {
                        out.add(new ChatMessage("user", functions(tools) + m.content()));
                        listed = true;
                    } else {
                        out.add(m);
                    }
                }
                case "assistant" -> {
                    if (m.toolCalls().isEmpty()) {
                        out.add(new ChatMessage("assistant", m.content()));
                        continue;
                    }
                    String words = m.content() == null || m.content().isBlank() ? "" : m.content().strip() + "\n";
                    out.add(new ChatMessage("assistant", words + CallJson.writeAll(m.toolCalls(), "parameters", "; ")));
                }
                case "tool" -> out.add(new ChatMessage("ipython", m.content()));
                default -> out.add(m);
            }
        }
        if (!listed) out.add(new ChatMessage("user", functions(tools).stripTrailing()));
        return out;
    }

    /** The instruction and the functions, each as the API gave it, that open the first user turn. */
    static String functions(List<ChatTool> tools) {
        StringBuilder b = new StringBuilder(INSTRUCTION);
        for (ChatTool t : tools) {
            try {
                b.append(LISTED.writeValueAsString(HermesToolCalls.definition(t))).append("\n\n");
            } catch (IOException e) {
                throw new IllegalStateException("a JsonNode always serializes", e);
            }
        }
        return b.toString();
    }

    @Override
    public List<String> openers() {
        return List.of(OPEN);
    }

    /** One call: {@code {"name": "f", "parameters": {...}}}, lazily from {@link #OPEN} with "auto". */
    @Override
    public Grammar grammar(List<ChatTool> tools, String choice, boolean parallel) {
        Grammar grammar = Grammar.parse(CallJson.grammar("root", ToolChoice.callable(tools, choice), "parameters"));
        return choice.equals(ToolChoice.AUTO) ? grammar.triggeredBy(OPEN) : grammar;
    }

    /**
     * The JSON objects naming a function and its {@code parameters} (or {@code arguments}) from the first on,
     * separated by {@code ;} or space; the words before the first are the answer's.
     */
    @Override
    public Answer read(String text, Supplier<String> ids) {
        Matcher m = CALL_START.matcher(text);
        if (!m.find()) return null;
        int first = m.start();
        List<ToolCall> calls = new ArrayList<>();
        boolean cut = false;
        int at = first;
        while (at < text.length()) {
            JsonParser p;
            JsonNode call;
            try {
                p = ONE_VALUE.createParser(text.substring(at));
                call = ONE_VALUE.readTree(p);
            } catch (IOException e) {
                cut = true;
                break;
            }
            JsonNode name = call == null ? null : call.get("name");
            JsonNode args = call == null ? null : call.has("parameters") ? call.get("parameters") : call.get("arguments");
            if (name == null || !name.isTextual() || args == null || !args.isObject()) break;
            calls.add(new ToolCall(ids.get(), name.textValue(), args));
            at += (int) p.currentLocation().getCharOffset();
            while (at < text.length() && (Character.isWhitespace(text.charAt(at)) || text.charAt(at) == ';')) at++;
            if (!CALL_START.matcher(text).region(at, text.length()).lookingAt()) break;
        }
        if (calls.isEmpty()) return null;
        String words = text.substring(0, first).strip();
        return new Answer(words.isEmpty() ? null : words, List.copyOf(calls), cut);
    }
}
