package io.flashllm.server.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashllm.engine.api.FinishReason;
import io.flashllm.engine.api.GeneratedToken;
import io.flashllm.engine.api.GenerationResult;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * llama.cpp's own /completion answers: one JSON object, or SSE {@code data:} events of
 * {@code {"content", "tokens", "stop": false}} ending with one {@code "stop": true} event that carries
 * the counts, {@code stop_type} (eos, limit, word), {@code stopping_word} and {@code timings} (ms). No
 * {@code [DONE]} and no keep-alive comments: llama-server's stream has neither, and its clients read
 * every {@code data:} line as JSON.
 */
final class LlamaCppWire implements AnswerWire {
    private final CompletionRequest req;
    private final boolean returnTokens;
    private final String model;
    private final int contextLength;
    private final Function<int[], String> detokenize;
    private final List<GeneratedToken> kept = new ArrayList<>();
    private int predicted;

    LlamaCppWire(CompletionRequest req, boolean returnTokens, String model, int contextLength,
                 Function<int[], String> detokenize) {
        this.req = req;
        this.returnTokens = returnTokens;
        this.model = model;
        this.contextLength = contextLength;
        this.detokenize = detokenize;
    }

    @Override
    public String streamContentType() {
        return "text/event-stream; charset=utf-8";
    }

    @Override
    public String opening() {
        return "";
    }

    @Override
    public String piece(GeneratedToken token) {
        if (!req.stream()) {
            if (req.logprobs()) kept.add(token);
            return null;
        }
        predicted++;
        ObjectNode o = Json.MAPPER.createObjectNode().put("index", 0).put("content", token.text() == null ? "" : token.text());
        o.putArray("tokens").add(token.id());
        o.put("stop", false).put("id_slot", -1).put("tokens_predicted", predicted);
        if (req.logprobs()) probabilities(o, List.of(token));
        return OpenAiWire.event(Json.write(o));
    }

    @Override
    public String closing(GenerationResult result) {
        ObjectNode o = last(result, "");
        return OpenAiWire.event(Json.write(o));
    }

    @Override
    public String whole(GenerationResult result) {
        ObjectNode o = last(result, result.text());
        if (req.logprobs()) probabilities(o, kept);
        return Json.write(o);
    }

    private ObjectNode last(GenerationResult r, String content) {
        ObjectNode o = Json.MAPPER.createObjectNode().put("index", 0).put("content", content);
        ArrayNode tokens = o.putArray("tokens");
        if (returnTokens && !req.stream()) for (int t : r.tokens()) tokens.add(t);
        o.put("id_slot", -1).put("stop", true).put("model", model);
        o.put("tokens_predicted", r.tokens().length).put("tokens_evaluated", r.promptTokens().length);
        settings(o.putObject("generation_settings"));
        o.put("prompt", detokenize.apply(r.promptTokens()));
        o.put("has_new_line", r.text().contains("\n"));
        o.put("truncated", false);
        String word = stoppingWord(r);
        o.put("stop_type", r.finishReason() == FinishReason.LENGTH ? "limit" : word != null ? "word" : "eos");
        o.put("stopping_word", word == null ? "" : word);
        o.put("tokens_cached", r.cachedPromptTokens());
        int promptRun = r.promptTokens().length - r.cachedPromptTokens();
        ObjectNode t = o.putObject("timings");
        timing(t, "prompt", promptRun, r.promptNanos());
        timing(t, "predicted", r.tokens().length, r.generationNanos());
        return o;
    }

    private static void timing(ObjectNode t, String what, int n, long nanos) {
        double ms = nanos / 1e6;
        t.put(what + "_n", n).put(what + "_ms", ms)
                .put(what + "_per_token_ms", n > 0 ? ms / n : 0).put(what + "_per_second", ms > 0 ? n * 1000.0 / ms : 0);
    }

    /** The settings the answer was made with, under llama.cpp's names. */
    private void settings(ObjectNode g) {
        g.put("n_ctx", contextLength);
        g.put("n_predict", req.maxTokens() == null ? -1 : req.maxTokens());
        g.put("model", model);
        g.put("seed", req.seed());
        g.put("temperature", req.temperature());
        g.put("top_k", req.topK());
        g.put("top_p", req.topP());
        g.put("min_p", req.minP());
        g.put("repeat_penalty", req.repetitionPenalty());
        g.put("presence_penalty", req.presencePenalty());
        g.put("frequency_penalty", req.frequencyPenalty());
        ArrayNode stop = g.putArray("stop");
        req.stop().forEach(stop::add);
        g.put("n_probs", req.topLogprobs());
        g.put("stream", req.stream());
        g.put("grammar", req.grammar() != null);
    }

    /**
     * The stop string that ended the answer, or null: the answer's text stops just before it, and the
     * token that completed it is among the generated ones, so it starts where the text ends in their
     * decoded text.
     */
    private String stoppingWord(GenerationResult r) {
        if (r.finishReason() != FinishReason.STOP || req.stop().isEmpty() || r.tokens().length == 0) return null;
        String all = detokenize.apply(r.tokens());
        if (!all.startsWith(r.text())) return null;
        for (String s : req.stop()) {
            if (all.startsWith(s, r.text().length())) return s;
        }
        return null;
    }

    /** {@code completion_probabilities}: each token's id, text, bytes and logprob with the most likely alternatives. */
    private void probabilities(ObjectNode o, List<GeneratedToken> tokens) {
        ArrayNode all = o.putArray("completion_probabilities");
        for (GeneratedToken t : tokens) {
            ObjectNode e = entry(all.addObject(), t.id(), t.logprob());
            ArrayNode tops = e.putArray("top_logprobs");
            int n = t.topIds() == null ? 0 : t.topIds().length;
            for (int i = 0; i < n; i++) entry(tops.addObject(), t.topIds()[i], t.topLogprobs()[i]);
        }
    }

    private ObjectNode entry(ObjectNode e, int id, float logprob) {
        String text = detokenize.apply(new int[] {id});
        e.put("id", id).put("token", text).put("logprob", logprob);
        ArrayNode bytes = e.putArray("bytes");
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) bytes.add(b & 0xff);
        return e;
    }

    @Override
    public String ping() {
        return null;
    }
}
