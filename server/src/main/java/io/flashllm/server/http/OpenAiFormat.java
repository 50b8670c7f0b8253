package io.flashllm.server.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashllm.engine.api.FinishReason;
import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.PromptLogprobs;
import io.flashllm.engine.api.Reasoning;
import io.flashllm.engine.api.ToolCall;
import io.flashllm.engine.api.ToolCallFormat;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Builds the OpenAI JSON bodies for one request: the whole response, or the stream's chunks, all
 * with the same id and created time. Chat uses chat.completion(.chunk) with message/delta; text
 * completions use text_completion with text.
 */
final class OpenAiFormat {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private final boolean chat;
    private final String id;
    private final long created;
    private final String model;
    private final boolean logprobs;
    private final boolean includeUsage;
    /** Token id to its text, for logprob entries (the streamed text may hold back partial characters). */
    private final IntFunction<String> tokenText;

    /** How the model's calls look (chat with tools), else null. */
    private final ToolCallFormat tools;
    /** A thinking model's tags when its thinking is answered apart ({@code reasoning_content}), else null. */
    private final Reasoning thinking;

    OpenAiFormat(boolean chat, String id, long created, String model, boolean logprobs, boolean includeUsage,
                 IntFunction<String> tokenText, ToolCallFormat tools, Reasoning thinking) {
        this.tools = tools;
        this.thinking = thinking;
        this.chat = chat;
        this.id = id;
        this.created = created;
        this.model = model;
        this.logprobs = logprobs;
        this.includeUsage = includeUsage;
        this.tokenText = tokenText;
    }

    static String finishReason(FinishReason r) {
        return switch (r) {
            case STOP -> "stop";
            case LENGTH -> "length";
            case CANCELLED -> "cancelled";
        };
    }

    private ObjectNode envelope(boolean chunk) {
        ObjectNode o = F.objectNode();
        o.put("id", id);
        o.put("object", chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion");
        o.put("created", created);
        o.put("model", model);
        o.put("system_fingerprint", "flashllm");
        return o;
    }

    /**
     * Token counts as OpenAI gives them; cached_tokens: prompt tokens the slot's KV cache already held;
     * reasoning_tokens (thinking models): generated tokens spent thinking.
     */
    private ObjectNode usage(GenerationResult r) {
        int prompt = r.promptTokens().length, completion = r.tokens().length;
        ObjectNode u = F.objectNode();
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
        u.putObject("prompt_tokens_details").put("cached_tokens", r.cachedPromptTokens());
        if (thinking != null) {
            u.putObject("completion_tokens_details").put("reasoning_tokens",
                    ReasoningSplitter.thinkingTokens(thinking, r.tokens(), tokenText));
        }
        return u;
    }

    /** A whole answer's thinking (empty when the model did not think or it is not taken apart) and its answer. */
    ReasoningSplitter.Split parts(GenerationResult r) {
        return ReasoningSplitter.whole(thinking, r.text());
    }

    /** The non-streaming response body. */
    ObjectNode full(GenerationResult r, String echoPrefix, List<GeneratedToken> tokens) {
        return full(r, echoPrefix, tokens, null);
    }

    /**
     * A whole answer; with {@code promptScores} (completions with echo and logprobs) the logprobs start with
     * the prompt's own tokens, the first without a value (null), as OpenAI's legacy completions and
     * llama.cpp answer them and as scoring clients (lm-eval) read them.
     */
    ObjectNode full(GenerationResult r, String echoPrefix, List<GeneratedToken> tokens, PromptLogprobs promptScores) {
        ObjectNode o = envelope(false);
        ObjectNode choice = F.objectNode();
        choice.put("index", 0);
        ReasoningSplitter.Split parts = chat ? parts(r) : null;
        ToolCallFormat.Answer calls = tools != null ? toolCalls(parts.content()) : null;
        if (chat) {
            ObjectNode msg = choice.putObject("message");
            msg.put("role", "assistant");
            msg.put("content", calls != null ? calls.content() : parts.content());
            if (!parts.reasoning().isEmpty()) msg.put("reasoning_content", parts.reasoning());
            if (calls != null) msg.set("tool_calls", toolCallArray(calls.calls()));
        } else {
            choice.put("text", echoPrefix == null ? r.text() : echoPrefix + r.text());
        }
        if (logprobs && promptScores != null && !chat) {
            choice.set("logprobs", withPrompt(r.promptTokens(), promptScores,
                    logprobsOf(tokens, echoPrefix == null ? 0 : echoPrefix.length())));
        } else if (logprobs) {
            choice.set("logprobs", logprobsOf(tokens, 0));
        } else {
            choice.putNull("logprobs");
        }
        choice.put("finish_reason", calls != null ? ToolCalls.finishReason(calls) : finishReason(r.finishReason()));
        o.putArray("choices").add(choice);
        o.set("usage", usage(r));
        return o;
    }

    /** The answer's tool calls, or null if it has none whole (then it is plain content). */
    ToolCallFormat.Answer toolCalls(GenerationResult r) {
        return toolCalls(parts(r).content());
    }

    private ToolCallFormat.Answer toolCalls(String answer) {
        return tools.read(answer, () -> RandomIds.next("call_"));
    }

    private static ArrayNode toolCallArray(List<ToolCall> calls) {
        ArrayNode arr = F.arrayNode();
        for (int i = 0; i < calls.size(); i++) {
            ToolCall c = calls.get(i);
            ObjectNode call = arr.addObject();
            call.put("index", i);
            call.put("id", c.id());
            call.put("type", "function");
            ObjectNode fn = call.putObject("function");
            fn.put("name", c.name());
            fn.put("arguments", Json.write(c.arguments())); // OpenAI sends them as JSON text
        }
        return arr;
    }

    /** A streamed answer's calls, sent whole in one chunk after its words. */
    ObjectNode toolCallsChunk(List<ToolCall> calls) {
        ObjectNode choice = F.objectNode();
        choice.put("index", 0);
        choice.putObject("delta").set("tool_calls", toolCallArray(calls));
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        return chunk(choice);
    }

    private ObjectNode chunk(ObjectNode choice) {
        ObjectNode o = envelope(true);
        o.putArray("choices").add(choice);
        if (includeUsage) o.putNull("usage");
        return o;
    }

    /** Chat streams open with the assistant role and empty content, as OpenAI's do. */
    ObjectNode roleChunk() {
        ObjectNode choice = F.objectNode();
        choice.put("index", 0);
        ObjectNode delta = choice.putObject("delta");
        delta.put("role", "assistant");
        delta.put("content", "");
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        return chunk(choice);
    }

    /** A content chunk for streamed text (one token's, or an echoed prompt's with token == null). */
    ObjectNode textChunk(String text, GeneratedToken token, int textOffset) {
        ObjectNode choice = F.objectNode();
        choice.put("index", 0);
        if (chat) {
            choice.putObject("delta").put("content", text);
        } else {
            choice.put("text", text);
        }
        if (logprobs && token != null) {
            choice.set("logprobs", logprobsOf(List.of(token), textOffset));
        } else {
            choice.putNull("logprobs");
        }
        choice.putNull("finish_reason");
        return chunk(choice);
    }

    /** A chat stream's chunk of the model's thinking ({@code delta.reasoning_content}, as llama.cpp and DeepSeek send it). */
    ObjectNode reasoningChunk(String text) {
        ObjectNode choice = F.objectNode();
        choice.put("index", 0);
        choice.putObject("delta").put("reasoning_content", text);
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        return chunk(choice);
    }

    /** The stream's last chunk with a choice: empty content and the finish reason. */
    ObjectNode finishChunk(FinishReason reason) {
        return finishChunk(finishReason(reason));
    }

    ObjectNode finishChunk(String reason) {
        ObjectNode choice = F.objectNode();
        choice.put("index", 0);
        if (chat) {
            choice.putObject("delta");
        } else {
            choice.put("text", "");
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", reason);
        return chunk(choice);
    }

    /** stream_options.include_usage: a chunk with no choices and the token counts. */
    ObjectNode usageChunk(GenerationResult r) {
        ObjectNode o = envelope(true);
        o.putArray("choices");
        o.set("usage", usage(r));
        return o;
    }

    private ObjectNode logprobsOf(List<GeneratedToken> tokens, int textOffset) {
        ObjectNode lp = F.objectNode();
        if (chat) {
            ArrayNode content = lp.putArray("content");
            for (GeneratedToken t : tokens) {
                ObjectNode e = tokenEntry(t.id(), t.logprob());
                ArrayNode tops = e.putArray("top_logprobs");
                if (t.topIds() != null) {
                    for (int i = 0; i < t.topIds().length; i++) tops.add(tokenEntry(t.topIds()[i], t.topLogprobs()[i]));
                }
                content.add(e);
            }
        } else {
            ArrayNode toks = lp.putArray("tokens");
            ArrayNode tokLps = lp.putArray("token_logprobs");
            ArrayNode tops = lp.putArray("top_logprobs");
            ArrayNode offsets = lp.putArray("text_offset");
            int off = textOffset;
            for (GeneratedToken t : tokens) {
                String text = tokenText.apply(t.id());
                toks.add(text);
                tokLps.add(t.logprob());
                ObjectNode top = F.objectNode();
                if (t.topIds() != null) {
                    for (int i = 0; i < t.topIds().length; i++) top.put(tokenText.apply(t.topIds()[i]), t.topLogprobs()[i]);
                }
                tops.add(top);
                offsets.add(off);
                off += t.text() == null ? 0 : t.text().length();
            }
        }
        return lp;
    }

    /** The completions logprobs of the generated tokens, after the prompt's own. */
    private ObjectNode withPrompt(int[] prompt, PromptLogprobs scores, ObjectNode generated) {
        ObjectNode lp = F.objectNode();
        ArrayNode toks = lp.putArray("tokens");
        ArrayNode tokLps = lp.putArray("token_logprobs");
        ArrayNode tops = lp.putArray("top_logprobs");
        ArrayNode offsets = lp.putArray("text_offset");
        int off = 0;
        for (int i = 0; i < prompt.length; i++) {
            String text = tokenText.apply(prompt[i]);
            toks.add(text);
            offsets.add(off);
            off += text.length();
            if (i == 0) {
                tokLps.addNull();
                tops.addNull();
                continue;
            }
            tokLps.add(scores.logprobs()[i]);
            ObjectNode top = F.objectNode();
            for (int k = 0; k < scores.topIds()[i].length; k++) top.put(tokenText.apply(scores.topIds()[i][k]), scores.topLogprobs()[i][k]);
            tops.add(top);
        }
        toks.addAll((ArrayNode) generated.get("tokens"));
        tokLps.addAll((ArrayNode) generated.get("token_logprobs"));
        tops.addAll((ArrayNode) generated.get("top_logprobs"));
        offsets.addAll((ArrayNode) generated.get("text_offset"));
        return lp;
    }

    private ObjectNode tokenEntry(int tokenId, float logprob) {
        String text = tokenText.apply(tokenId);
        ObjectNode e = F.objectNode();
        e.put("token", text);
        e.put("logprob", logprob);
        ArrayNode bytes = e.putArray("bytes");
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) bytes.add(b & 0xff);
        return e;
    }
}
