package io.flashllm.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashllm.engine.api.FinishReason;
import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.Reasoning;
import io.flashllm.engine.api.ToolCall;
import io.flashllm.engine.api.ToolCallFormat;
import java.util.function.IntFunction;

/**
 * OpenAI's Responses API answers: one {@code response} object whose {@code output} holds a message item
 * (its text as an {@code output_text} part) and any {@code function_call} items; or a stream of typed events
 * ({@code event: <type>} and {@code data: {"type", "sequence_number", ...}}): response.created and
 * .in_progress, the message item added with its part, {@code response.output_text.delta} per piece of text,
 * the text, part and item done, each function call added with its arguments as one delta and done, and
 * response.completed (or response.incomplete at the token limit) carrying the whole response. A thinking
 * model's thinking, when taken apart, comes first as a {@code reasoning} item (its text as a
 * {@code reasoning_text} part, streamed as {@code response.reasoning_text.delta}).
 */
final class ResponsesWire implements AnswerWire {
    private final CompletionRequest req;
    private final String id;
    private final String messageId;
    private final long createdAt;
    private final String model;
    private final JsonNode echo;
    private final Reasoning thinking;
    /** With tools, how the model's calls look, else null. */
    private final ToolCallFormat calls;
    private final IntFunction<String> tokenText;
    private final String reasoningId;
    private final StreamedText text;
    private final StringBuilder streamed = new StringBuilder();
    private final StringBuilder thought = new StringBuilder();
    private int sequence;
    private boolean messageOpen;
    /** The reasoning item: 0 none, 1 added (its text streaming), 2 done. */
    private int reasoningState;

    /**
     * @param thinking a thinking model's tags when its thinking goes in a reasoning item, else null
     * @param calls    with tools, how the model's calls look, else null
     */
    ResponsesWire(CompletionRequest req, String id, long createdAt, String model, JsonNode echo, Reasoning thinking,
                  ToolCallFormat calls, IntFunction<String> tokenText) {
        this.req = req;
        this.id = id;
        this.messageId = RandomIds.next("msg_");
        this.reasoningId = RandomIds.next("rs_");
        this.createdAt = createdAt;
        this.model = model;
        this.echo = echo;
        this.thinking = thinking;
        this.tokenText = tokenText;
        this.calls = calls;
        this.text = req.stream() ? new StreamedText(thinking, calls) : null;
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
        ReasoningSplitter.Split s = text.push(token.text() == null ? "" : token.text());
        String out = thoughtDelta(s.reasoning()) + (s.content().isEmpty() ? "" : delta(s.content()));
        return out.isEmpty() ? null : out;
    }

    /** The reasoning item opened (first thinking) and a piece of its text. */
    private String thoughtDelta(String piece) {
        if (piece.isEmpty()) return "";
        StringBuilder b = new StringBuilder();
        if (reasoningState == 0) {
            reasoningState = 1;
            b.append(event("response.output_item.added", o -> o.put("output_index", 0).set("item", reasoning("in_progress", ""))));
        }
        thought.append(piece);
        b.append(event("response.reasoning_text.delta", o -> o.put("item_id", reasoningId).put("output_index", 0)
                .put("content_index", 0).put("delta", piece)));
        return b.toString();
    }

    /** The reasoning item done, once the answer starts (or generation ends). */
    private String thoughtDone() {
        if (reasoningState != 1) return "";
        reasoningState = 2;
        String all = thought.toString();
        return event("response.reasoning_text.done", o -> o.put("item_id", reasoningId).put("output_index", 0)
                .put("content_index", 0).put("text", all))
                + event("response.output_item.done", o -> o.put("output_index", 0).set("item", reasoning("completed", all)));
    }

    /** The message item's place in output: after the reasoning item when there is one. */
    private int messageIndex() {
        return reasoningState == 0 ? 0 : 1;
    }

    /** The message item opened (first text) and a piece of its text. */
    private String delta(String piece) {
        StringBuilder b = new StringBuilder(thoughtDone());
        if (!messageOpen) {
            messageOpen = true;
            b.append(event("response.output_item.added", o -> o.put("output_index", messageIndex())
                    .set("item", message("in_progress", null))));
            b.append(event("response.content_part.added", o -> where(o).set("part", part(""))));
        }
        streamed.append(piece);
        b.append(event("response.output_text.delta", o -> where(o).put("delta", piece)));
        return b.toString();
    }

    @Override
    public String closing(GenerationResult result) {
        ToolCallFormat.Answer calls = text.holdsCalls()
                ? this.calls.read(ReasoningSplitter.whole(thinking, result.text()).content(), () -> RandomIds.next("call_"))
                : null;
        ReasoningSplitter.Split rest = text.finish(calls != null);
        StringBuilder b = new StringBuilder(thoughtDelta(rest.reasoning()));
        if (!rest.content().isEmpty() || (calls == null && !messageOpen)) b.append(delta(rest.content()));
        b.append(thoughtDone());
        String answer = streamed.toString();
        int index = messageIndex();
        if (messageOpen) {
            int at = index;
            b.append(event("response.output_text.done", o -> where(o).put("text", answer)));
            b.append(event("response.content_part.done", o -> where(o).set("part", part(answer))));
            b.append(event("response.output_item.done", o -> o.put("output_index", at).set("item", message("completed", answer))));
            index++;
        }
        ObjectNode done = finished(result, thought.toString(), messageOpen ? answer : null, calls);
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
        ReasoningSplitter.Split parts = ReasoningSplitter.whole(thinking, result.text());
        ToolCallFormat.Answer calls = this.calls != null ? this.calls.read(parts.content(), () -> RandomIds.next("call_")) : null;
        String answer = calls == null ? parts.content() : calls.content();
        return Json.write(finished(result, parts.reasoning(), answer, calls));
    }

    /**
     * The finished response: the reasoning (when the model thought), the message (unless null text with
     * calls), the calls, usage and status.
     */
    private ObjectNode finished(GenerationResult r, String thoughts, String text, ToolCallFormat.Answer calls) {
        boolean cut = r.finishReason() == FinishReason.LENGTH || (calls != null && calls.cut());
        ObjectNode o = response(cut ? "incomplete" : "completed");
        if (cut) {
            o.putObject("incomplete_details").put("reason", "max_output_tokens");
        }
        ArrayNode output = o.putArray("output");
        if (!thoughts.isEmpty()) output.add(reasoning("completed", thoughts));
        if (text != null || calls == null) output.add(message("completed", text == null ? "" : text));
        if (calls != null) {
            for (ToolCall c : calls.calls()) {
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
        usage.putObject("output_tokens_details").put("reasoning_tokens",
                thinking == null ? 0 : ReasoningSplitter.thinkingTokens(thinking, r.tokens(), tokenText));
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

    private ObjectNode reasoning(String status, String text) {
        ObjectNode m = Json.MAPPER.createObjectNode().put("type", "reasoning").put("id", reasoningId).put("status", status);
        m.putArray("summary");
        m.putArray("content").addObject().put("type", "reasoning_text").put("text", text);
        return m;
    }

    private static ObjectNode part(String text) {
        ObjectNode p = Json.MAPPER.createObjectNode().put("type", "output_text").put("text", text);
        p.putArray("annotations");
        return p;
    }

    private ObjectNode where(ObjectNode o) {
        return o.put("item_id", messageId).put("output_index", messageIndex()).put("content_index", 0);
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
