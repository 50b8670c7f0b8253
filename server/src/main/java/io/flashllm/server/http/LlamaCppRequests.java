package io.flashllm.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.engine.grammar.Grammar;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * llama.cpp's own {@code POST /completion} body as a {@link CompletionRequest}, with llama-server's
 * defaults (temperature 0.8, top_k 40, top_p 0.95, min_p 0.05, no repeat penalty, {@code n_predict} -1:
 * until the context is full). Fields for samplers flashllm does not have are refused when they would
 * change the answer (mirostat, ignore_eos) and ignored when they only tune the server (cache_prompt,
 * id_slot, samplers order, n_keep).
 */
final class LlamaCppRequests {
    /** llama.cpp's limit on n_probs is the vocabulary; ours is what the engine reports per token. */
    static final int MAX_N_PROBS = RequestParser.MAX_TOP_LOGPROBS;

    private LlamaCppRequests() {}

    /** The request and whether it asked for the generated token ids ({@code return_tokens}). */
    record Parsed(CompletionRequest request, boolean returnTokens) {}

    static Parsed parse(JsonNode body) {
        String promptText = null;
        int[] promptTokens = null;
        JsonNode prompt = Fields.get(body, "prompt");
        if (prompt == null) throw ApiError.invalid("prompt", "missing_field", "'prompt' is required");
        if (prompt.isTextual()) {
            promptText = prompt.textValue();
        } else if (prompt.isArray() && prompt.size() == 1 && prompt.get(0).isTextual()) {
            promptText = prompt.get(0).textValue();
        } else if (prompt.isArray() && !prompt.isEmpty() && RequestParser.allInts(prompt)) {
            promptTokens = new int[prompt.size()];
            for (int i = 0; i < promptTokens.length; i++) promptTokens[i] = prompt.get(i).intValue();
        } else if (prompt.isArray() && prompt.size() > 1) {
            throw ApiError.unsupported("prompt", "One prompt per request, as text or as token ids (not several, not mixed)");
        } else {
            throw ApiError.invalid("prompt", "invalid_type", "'prompt' must be a string or an array of token ids");
        }

        Long nPredict = Fields.integer(body, "n_predict", -2, Integer.MAX_VALUE);
        if (nPredict != null && nPredict == 0) throw ApiError.invalid("n_predict", "'n_predict' must be -1 (until the context is full) or at least 1");
        Integer maxTokens = nPredict == null || nPredict < 0 ? PromptPreparer.UNTIL_CONTEXT_FULL : nPredict.intValue();
        Double temperature = Fields.number(body, "temperature", -100, 100);
        Long topK = Fields.integer(body, "top_k", Integer.MIN_VALUE, Integer.MAX_VALUE);
        Double topP = Fields.number(body, "top_p", 0, 1);
        Double minP = Fields.number(body, "min_p", 0, 1);
        Double repeat = Fields.number(body, "repeat_penalty", 0.01, 10);
        Double presence = Fields.number(body, "presence_penalty", -2, 2);
        Double frequency = Fields.number(body, "frequency_penalty", -2, 2);
        Long seed = Fields.integer(body, "seed", Long.MIN_VALUE, Long.MAX_VALUE);
        List<String> stop = Fields.strings(body, "stop", RequestParser.MAX_STOP);
        Long nProbs = Fields.integer(body, "n_probs", 0, MAX_N_PROBS);
        Boolean stream = Fields.bool(body, "stream");
        Boolean returnTokens = Fields.bool(body, "return_tokens");
        Boolean ignoreEos = Fields.bool(body, "ignore_eos");
        if (ignoreEos != null && ignoreEos) throw ApiError.unsupported("ignore_eos", "ignore_eos is not supported");
        Long mirostat = Fields.integer(body, "mirostat", 0, 2);
        if (mirostat != null && mirostat != 0) throw ApiError.unsupported("mirostat", "mirostat sampling is not supported");
        Map<Integer, Float> bias = logitBias(body);
        Grammar grammar = StructuredOutput.grammar(body);

        // temperature <= 0 is greedy in llama.cpp; top_k <= 0 keeps the whole vocabulary.
        float t = temperature == null ? 0.8f : (float) Math.max(0, temperature);
        int k = topK == null ? 40 : (int) Math.max(0, topK);
        float p = topP == null ? 0.95f : topP.floatValue();
        if (p == 0f) {
            p = 1f;
            k = 1;
        }
        long s = seed == null || seed == -1 ? ThreadLocalRandom.current().nextLong() : seed;
        CompletionRequest req = new CompletionRequest(false, promptText, promptTokens, null, maxTokens, t, k, p,
                minP == null ? 0.05f : minP.floatValue(), repeat == null ? 1f : repeat.floatValue(),
                presence == null ? 0f : presence.floatValue(), frequency == null ? 0f : frequency.floatValue(), s, stop,
                nProbs != null && nProbs > 0, nProbs == null ? 0 : nProbs.intValue(), false, stream != null && stream, false,
                bias, grammar, null, ThinkingChoice.DEFAULT);
        return new Parsed(req, returnTokens != null && returnTokens);
    }

    /**
     * llama.cpp's list form {@code [[id, bias], [id, false]]} (false bans the token), or OpenAI's object
     * form {@code {"id": bias}}.
     */
    static Map<Integer, Float> logitBias(JsonNode body) {
        JsonNode bias = Fields.get(body, "logit_bias");
        if (bias == null || bias.isObject()) return StructuredOutput.logitBias(body);
        String shape = "'logit_bias' must be a list of [token id, bias or false] pairs, or an object of token ids to numbers";
        if (!bias.isArray()) throw ApiError.invalid("logit_bias", "invalid_type", shape);
        Map<Integer, Float> out = new HashMap<>();
        for (JsonNode pair : bias) {
            if (!pair.isArray() || pair.size() != 2 || !pair.get(0).isIntegralNumber() || !pair.get(0).canConvertToInt()
                    || pair.get(0).intValue() < 0) {
                throw ApiError.invalid("logit_bias", "invalid_type", shape);
            }
            JsonNode v = pair.get(1);
            float value;
            if (v.isBoolean() && !v.booleanValue()) {
                value = (float) -StructuredOutput.MAX_BIAS;
            } else if (v.isNumber() && Math.abs(v.doubleValue()) <= StructuredOutput.MAX_BIAS) {
                value = v.floatValue();
            } else {
                throw ApiError.invalid("logit_bias", "'logit_bias' biases must be numbers from -100 to 100, or false (token "
                        + pair.get(0).intValue() + ")");
            }
            out.put(pair.get(0).intValue(), value);
        }
        return Map.copyOf(out);
    }
}
