package io.flashllm.engine.chat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
 * Calls as a JSON array {@code [{"name": ..., "arguments": {...}}, ...]} after a marker token (Mistral's
 * {@code [TOOL_CALLS]}, Granite's {@code <|tool_call|>}): a control token that decodes to nothing, so the answer reads
 * as the array.
 */
abstract class ArrayToolCalls implements ToolCallFormat {
    /** What the answer reads as where a call starts. */
    static final String OPEN = "[{\"name\"";
    private static final Pattern CALLS_START = Pattern.compile("\\[\\s*\\{\\s*\"name\"\\s*:");
    private static final ObjectMapper ONE_VALUE = new ObjectMapper();

    private final String marker;

    ArrayToolCalls(String marker) {
        this.marker = marker;
    }

    @Override
    public List<String> openers() {
        return List.of(OPEN, marker);
    }

    /** A JSON array of calls (one with {@code parallel} false), lazily from {@link #OPEN} with "auto". */
    @Override
    public Grammar grammar(List<ChatTool> tools, String choice, boolean parallel) {
        String root = "root ::= \"[\" call" + (parallel ? " (\",\" \" \"? call)*" : "") + " \"]\"\n";
        Grammar grammar = Grammar.parse(root + CallJson.grammar("call", ToolChoice.callable(tools, choice), "arguments"));
        return choice.equals(ToolChoice.AUTO) ? grammar.triggeredBy(OPEN) : grammar;
    }

    /** The array of calls after the words (a shown marker dropped from them); a cut array is plain text. */
    @Override
    public Answer read(String text, Supplier<String> ids) {
        Matcher m = CALLS_START.matcher(text);
        if (!m.find()) return null;
        JsonNode array;
        try (JsonParser p = ONE_VALUE.createParser(text.substring(m.start()))) {
            array = ONE_VALUE.readTree(p);
        } catch (IOException e) {
            return null;
        }
        if (array == null || !array.isArray()) return null;
        List<ToolCall> calls = new ArrayList<>();
        for (JsonNode call : array) {
            JsonNode name = call.get("name");
            JsonNode args = call.has("arguments") ? call.get("arguments") : call.get("parameters");
            if (name == null || !name.isTextual() || args == null || !args.isObject()) return null;
            calls.add(new ToolCall(ids.get(), name.textValue(), args));
        }
        if (calls.isEmpty()) return null;
        String words = text.substring(0, m.start()).replace(marker, "").strip();
        return new Answer(words.isEmpty() ? null : words, List.copyOf(calls), false);
    }
}
