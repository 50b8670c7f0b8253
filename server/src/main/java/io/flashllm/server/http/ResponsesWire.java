package io.flashllm.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashllm.engine.api.FinishReason;
import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.GenerationResult;

/**
 * OpenAI's Responses API answers: one {@code response} object whose {@code output} holds a message item
 * (its text as an {@code output_text} part) and any {@code function_call} items; or a stream of typed events
 * ({@code event: <type>} and {@code data: {"type", "sequence_number", ...}}): response.created and
 * .in_progress, the message item added with its part, {@code response.output_text.delta} per piece of text,
 * the text, part and item done, each function call added with its arguments as one delta and done, and
 * response.completed (or response.incomplete at the token limit) carrying the whole response.
 */
final class ResponsesWire implements AnswerWire {
    private final CompletionRequest req;
    private final String id;
    private final String messageId;
    private final long createdAt;
    private final String model;
    private final JsonNode echo;
    private final HeldBack held;
    private final StringBuilder streamed = new StringBuilder();
    private int sequence;
    private boolean messageOpen;

    ResponsesWire(CompletionRequest req, String id, long createdAt, String model, JsonNode echo) {
        this.req = req;
        this.id = id;
        this.messageId = RandomIds.next("msg_");
        this.createdAt = createdAt;
        this.model = model;
        this.echo = echo;
        this.held = req.tools() != null && req.stream() ? new HeldBack(ToolCalls.OPEN) : null;
    }

    @Override
    public String streamContentType() {
        return "text/event-stream; charset=utf-8";
    }

    /** response.created and response.in_progress, the stream's first two events. */
    @Override
    public String opening() {
        ObjectNode r = response("in_progress");
        r.putArray("output");
        r.putNull("usage");
        return event("response.created", o -> o.set("response", r)) + event("response.in_progress", o -> o.set("response", r));
    }

    @Override
    public String piece(GeneratedToken token) {
        if (!req.stream()) return null;
        String text = token.text() == null ? "" : token.text();
        if (held != null) text = held.push(text);
        return text.isEmpty() ? null : delta(text);
    }

    /** The message item opened (first text) and a piece of its text. */
    private String delta(String text) {
        StringBuilder b = new StringBuilder();
        if (!messageOpen) {
            messageOpen = true;
            b.append(event("response.output_item.added", o -> o.put("output_index", 0).set("item", message("in_progress", null))));
            b.append(event("response.content_part.added", o -> where(o).set("part", part(""))));
        }
        streamed.append(text);
        b.append(event("response.output_text.delta", o -> where(o).put("delta", text)));
        return b.toString();
    }

    @Override
    public String closing(GenerationResult result) {
        ToolCalls.Answer calls = held != null ? ToolCalls.read(result.text(), () -> RandomIds.next("call_")) : null;
        StringBuilder b = new StringBuilder();
        if (calls == null) {
            String rest = held != null ? held.rest() : "";
            if (!rest.isEmpty() || !messageOpen) b.append(delta(rest));
        }
        String text = streamed.toString();
        int index = 0;
        if (messageOpen) {
            b.append(event("response.output_text.done", o -> where(o).put("text", text)));
            b.append(event("response.content_part.done", o -> where(o).set("part", part(text))));
            b.append(event("response.output_item.done", o -> o.put("output_index", 0).set("item", message("completed", text))));
            index = 1;
        }
        ObjectNode done = finished(result, messageOpen ? text : null, calls);
        if (calls != null) {
            for (int i = 0; i < calls.calls().size(); i++) {
                ObjectNode item = (ObjectNode) done.get("output").get(index + i);
                int at = index + i;
                String itemId = item.get("id").asText();
                String args = item.get("arguments").asText();
                ObjectNode added = item.deepCopy().put("status", "in_progress").put("arguments", "");
                b.append(event("response.output_item.added", o -> o.put("output_index", at).set("item", added)));
                b.append(event("response.function_call_arguments.delta",
                        o -> o.put("item_id", itemId).put("output_index", at).put("delta", args)));
                b.append(event("response.function_call_arguments.done",
                        o -> o.put("item_id", itemId).put("output_index", at).put("arguments", args)));
                b.append(event("response.output_item.done", o -> o.put("output_index", at).set("item", item)));
            }
        }
        String type = "incomplete".equals(done.get("status").asText()) ? "response.incomplete" : "response.completed";
        b.append(event(type, o -> o.set("response", done)));
        return b.toString();
    }

    @Override
    public String whole(GenerationResult result) {
        ToolCalls.Answer calls = req.tools() != null ? ToolCalls.read(result.text(), () -> RandomIds.next("call_")) : null;
        String text = calls == null ? result.text() : calls.content();
        return Json.write(finished(result, text, calls));
    }

    /** The finished response: the message (unless null text with calls), the calls, usage and status. */
    private ObjectNode finished(GenerationResult r, String text, ToolCalls.Answer calls) {
        boolean cut = r.finishReason() == FinishReason.LENGTH || (calls != null && calls.cut());
        ObjectNode o = response(cut ? "incomplete" : "completed");
        if (cut) {
            o.putObject("incomplete_details").put("reason", "max_output_tokens");
        }
        ArrayNode output = o.putArray("output");
        if (text != null || calls == null) output.add(message("completed", text == null ? "" : text));
        if (calls != null) {
            for (ToolCalls.Call c : calls.calls()) {
                output.addObject().put("type", "function_call").put("id", RandomIds.next("fc_")).put("call_id", c.id())
                        .put("name", c.name()).put("arguments", Json.write(c.arguments())).put("status", "completed");
            }
        }
        int input = r.promptTokens().length;
        int outputTokens = r.tokens().length;
        ObjectNode usage = o.putObject("usage");
        usage.put("input_tokens", input);
        usage.putObject("input_tokens_details").put("cached_tokens", r.cachedPromptTokens());
        usage.put("output_tokens", outputTokens);
        usage.putObject("output_tokens_details").put("reasoning_tokens", 0);
        usage.put("total_tokens", input + outputTokens);
        return o;
    }

    /** The response object's fields other than output and usage. */
    private ObjectNode response(String status) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("id", id).put("object", "response").put("created_at", createdAt).put("status", status);
        o.putNull("error");
        o.putNull("incomplete_details");
        o.set("instructions", echo.get("instructions"));
        if (req.maxTokens() == null) o.putNull("max_output_tokens"); else o.put("max_output_tokens", req.maxTokens());
        o.put("model", model);
        o.put("parallel_tool_calls", req.tools() == null || req.tools().parallel());
        o.putNull("previous_response_id");
        o.put("store", false);
        o.put("temperature", req.temperature());
        o.set("text", echo.get("text"));
        o.set("tool_choice", echo.get("tool_choice"));
        o.set("tools", echo.get("tools"));
        o.put("top_p", req.topP());
        o.putObject("metadata");
        return o;
    }

    private ObjectNode message(String status, String text) {
        ObjectNode m = Json.MAPPER.createObjectNode().put("type", "message").put("id", messageId).put("status", status)
                .put("role", "assistant");
        ArrayNode content = m.putArray("content");
        if (text != null) content.add(part(text));
        return m;
    }

    private static ObjectNode part(String text) {
        ObjectNode p = Json.MAPPER.createObjectNode().put("type", "output_text").put("text", text);
        p.putArray("annotations");
        return p;
    }

    private ObjectNode where(ObjectNode o) {
        return o.put("item_id", messageId).put("output_index", 0).put("content_index", 0);
    }

    private String event(String type, java.util.function.Consumer<ObjectNode> fill) {
        ObjectNode o = Json.MAPPER.createObjectNode().put("type", type).put("sequence_number", sequence++);
        fill.accept(o);
        return "event: " + type + "\n" + OpenAiWire.event(Json.write(o));
    }

    @Override
    public String ping() {
        return ": ping\n\n";
    }
}
