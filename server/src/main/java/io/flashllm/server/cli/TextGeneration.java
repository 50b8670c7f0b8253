package io.flashllm.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashllm.engine.api.ChatMessage;
import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.GenerationResult;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.SamplingParams;
import io.flashllm.engine.api.Session;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One prompt → completion run on a loaded model: streams text to {@code out} as it is generated
 * (or prints one JSON object at the end), and prompt / generation speed to {@code err}.
 */
final class TextGeneration {
    private TextGeneration() {}

    /**
     * @param think  with chat: whether a thinking model (Qwen3, QwQ, DeepSeek R1) thinks before it answers
     * @param effort with chat: gpt-oss's reasoning effort (low, medium, high), or null for the format's default
     */
    record Request(String prompt, String system, boolean chat, boolean think, String effort, boolean json, int logprobs,
                   int context, SamplingParams params) {}

    static GenerationResult run(InferenceModel model, Request req, PrintWriter out, PrintWriter err) {
        int[] prompt = promptTokens(model, req);
        if (prompt.length >= req.context()) {
            throw new CliErrors.UsageException("the prompt has " + prompt.length + " tokens but the context holds "
                    + req.context() + "; raise --ctx");
        }
        SamplingParams params = req.params();
        int room = req.context() - prompt.length;
        if (params.maxTokens() > room) {
            err.println("flashllm: only " + room + " tokens fit in the context after the prompt; generating at most that many");
            params = params.withMaxTokens(room);
        }
        List<GeneratedToken> generated = new ArrayList<>();
        GenerationResult result;
        try (Session session = model.openSession(req.context())) {
            result = session.generate(prompt, params, token -> {
                generated.add(token);
                if (!req.json()) {
                    out.print(token.text());
                    out.flush();
                }
                return true;
            });
        }
        if (req.json()) {
            out.println(toJson(result, generated, req.logprobs()));
        } else {
            out.println();
        }
        out.flush();
        err.println(speedLine(result));
        return result;
    }

    static int[] promptTokens(InferenceModel model, Request req) {
        if (!req.chat()) return model.tokenize(req.prompt(), true);
        List<ChatMessage> messages = new ArrayList<>();
        if (req.system() != null) messages.add(new ChatMessage("system", req.system()));
        messages.add(new ChatMessage("user", req.prompt()));
        // Rendered chat prompts never contain BOS (ChatTemplate's contract): tokenizing with special
        // tokens adds it once, exactly as the server does.
        return model.tokenize(model.renderChat(messages, req.think(), req.effort()), true);
    }

    static String speedLine(GenerationResult r) {
        return String.format(Locale.ROOT, "prompt: %d tokens, %.1f tok/s | generation: %d tokens, %.1f tok/s | %s",
                r.promptTokens().length, rate(r.promptTokens().length, r.promptNanos()),
                r.tokens().length, rate(r.tokens().length, r.generationNanos()),
                r.finishReason().name().toLowerCase(Locale.ROOT));
    }

    static double rate(int tokens, long nanos) {
        return nanos <= 0 ? 0 : tokens / (nanos / 1e9);
    }

    private static String toJson(GenerationResult r, List<GeneratedToken> generated, int logprobs) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode o = json.createObjectNode();
        ArrayNode p = o.putArray("prompt_tokens");
        for (int id : r.promptTokens()) p.add(id);
        ArrayNode t = o.putArray("tokens");
        for (int id : r.tokens()) t.add(id);
        o.put("text", r.text());
        o.put("finish_reason", r.finishReason().name().toLowerCase(Locale.ROOT));
        o.put("prompt_tok_s", round(rate(r.promptTokens().length, r.promptNanos())));
        o.put("gen_tok_s", round(rate(r.tokens().length, r.generationNanos())));
        if (logprobs > 0) {
            ArrayNode all = o.putArray("top_logprobs");
            for (GeneratedToken g : generated) {
                ArrayNode perToken = all.addArray();
                int n = g.topIds() == null ? 0 : Math.min(logprobs, g.topIds().length);
                for (int i = 0; i < n; i++) perToken.addArray().add(g.topIds()[i]).add(g.topLogprobs()[i]);
            }
        }
        return o.toString();
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
