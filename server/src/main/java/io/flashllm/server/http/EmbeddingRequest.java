package io.flashllm.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.engine.api.InferenceModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One embeddings request, whichever API it came through: the texts (or token ids) to embed and how
 * the vectors go back. OpenAI's {@code POST /v1/embeddings} ({@code input}: a string, strings, token ids
 * or lists of them; {@code encoding_format} float or base64; {@code dimensions}), Ollama's
 * {@code POST /api/embed} ({@code input}: a string or strings; {@code truncate}, default true;
 * {@code dimensions}) and its older {@code POST /api/embeddings} ({@code prompt}; the vector not
 * normalized, as Ollama answers there), and llama.cpp's own {@code POST /embedding} ({@code content}).
 *
 * @param inputs      each input: a String to tokenize, or int[] token ids
 * @param base64      the vectors as base64 of little-endian float32 (OpenAI's encoding_format)
 * @param dimensions  keep the first this many values, then normalize (null: all)
 * @param normalize   scale each vector to unit length
 * @param truncate    cut an input longer than the context to it, instead of a 400
 */
record EmbeddingRequest(List<Object> inputs, boolean base64, Integer dimensions, boolean normalize, boolean truncate) {
    /** OpenAI's limit on inputs per request. */
    static final int MAX_INPUTS = 2048;
    /** OpenAI's limit on the tokens of all inputs of one request together. */
    static final int MAX_TOTAL_TOKENS = 300_000;

    enum Api { OPENAI, OLLAMA, OLLAMA_LEGACY, LLAMACPP }

    static EmbeddingRequest parse(JsonNode body, Api api) {
        return switch (api) {
            case OPENAI -> openAi(body);
            case OLLAMA -> ollama(body);
            case OLLAMA_LEGACY -> legacy(body);
            case LLAMACPP -> llamaCpp(body);
        };
    }

    private static EmbeddingRequest openAi(JsonNode body) {
        JsonNode input = Fields.get(body, "input");
        if (input == null) throw ApiError.invalid("input", "missing_field", "'input' is required");
        String format = Fields.string(body, "encoding_format");
        if (format != null && !format.equals("float") && !format.equals("base64")) {
            throw ApiError.invalid("encoding_format", "'encoding_format' must be \"float\" or \"base64\", got \"" + format + "\"");
        }
        return new EmbeddingRequest(openAiInputs(input), "base64".equals(format), dimensions(body), true, false);
    }

    /** A string, an array of strings, an array of token ids, or an array of arrays of token ids. */
    private static List<Object> openAiInputs(JsonNode input) {
        String shape = "'input' must be a string, an array of strings, an array of token ids or an array of such arrays";
        List<Object> out = new ArrayList<>();
        if (input.isTextual()) {
            out.add(text(input, "input"));
        } else if (input.isArray() && !input.isEmpty() && input.get(0).isNumber()) {
            out.add(tokenIds(input, "input"));
        } else if (input.isArray()) {
            int i = 0;
            for (JsonNode item : input) {
                String where = "input[" + i++ + "]";
                if (item.isTextual()) {
                    out.add(text(item, where));
                } else if (item.isArray()) {
                    out.add(tokenIds(item, where));
                } else {
                    throw ApiError.invalid("input", "invalid_type", shape);
                }
            }
        } else {
            throw ApiError.invalid("input", "invalid_type", shape);
        }
        if (out.isEmpty()) throw ApiError.invalid("input", "'input' is an empty array; there is nothing to embed");
        return checkCount(out);
    }

    /** llama.cpp's own /embedding: {@code content} (or {@code input}) as OpenAI's input; normalized vectors. */
    private static EmbeddingRequest llamaCpp(JsonNode body) {
        JsonNode content = Fields.get(body, "content");
        if (content == null) content = Fields.get(body, "input");
        if (content == null) throw ApiError.invalid("content", "missing_field", "'content' is required");
        return new EmbeddingRequest(openAiInputs(content), false, null, true, false);
    }

    private static EmbeddingRequest ollama(JsonNode body) {
        JsonNode input = Fields.get(body, "input");
        List<Object> out = new ArrayList<>();
        if (input != null && input.isTextual()) {
            // An empty string, like no input, only loads the model.
            if (!input.textValue().isEmpty()) out.add(input.textValue());
        } else if (input != null && input.isArray()) {
            int i = 0;
            for (JsonNode item : input) {
                if (!item.isTextual()) throw ApiError.invalid("input", "invalid_type", "'input' must be a string or an array of strings");
                out.add(text(item, "input[" + i++ + "]"));
            }
        } else if (input != null) {
            throw ApiError.invalid("input", "invalid_type", "'input' must be a string or an array of strings");
        }
        Boolean truncate = Fields.bool(body, "truncate");
        return new EmbeddingRequest(checkCount(out), false, dimensions(body), true, truncate == null || truncate);
    }

    private static EmbeddingRequest legacy(JsonNode body) {
        String prompt = Fields.string(body, "prompt");
        List<Object> out = prompt == null || prompt.isEmpty() ? List.of() : List.of(prompt);
        return new EmbeddingRequest(out, false, null, false, true);
    }

    private static Integer dimensions(JsonNode body) {
        Long d = Fields.integer(body, "dimensions", 1, Integer.MAX_VALUE);
        return d == null ? null : d.intValue();
    }

    private static String text(JsonNode n, String where) {
        if (n.textValue().isEmpty()) throw ApiError.invalid("input", "'" + where + "' is an empty string; there is nothing to embed");
        return n.textValue();
    }

    private static int[] tokenIds(JsonNode array, String where) {
        if (array.isEmpty()) throw ApiError.invalid("input", "'" + where + "' is an empty list of token ids");
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = array.get(i);
            if (!t.isIntegralNumber() || !t.canConvertToInt() || t.intValue() < 0) {
                throw ApiError.invalid("input", "invalid_type", "'" + where + "' must hold token ids (integers >= 0)");
            }
            ids[i] = t.intValue();
        }
        return ids;
    }

    private static List<Object> checkCount(List<Object> inputs) {
        if (inputs.size() > MAX_INPUTS) {
            throw ApiError.invalid("input", "'input' holds " + inputs.size() + " entries; at most " + MAX_INPUTS + " are accepted");
        }
        return List.copyOf(inputs);
    }

    /**
     * The inputs as token ids the slots can run: texts tokenized as a prompt is (the BOS, and the EOS
     * where the model's tokenizer adds one, as embedding models such as gte-Qwen2 expect), ids checked
     * against the vocabulary; each fitted to {@code limit} tokens (cut, or a 400). On a worker thread.
     */
    int[][] tokens(InferenceModel model, int limit) {
        int vocab = model.info().vocabSize();
        int dim = model.info().embeddingLength();
        if (dimensions != null && dimensions > dim) {
            throw ApiError.invalid("dimensions", "'dimensions' is " + dimensions + "; this model's embeddings have " + dim);
        }
        int[][] out = new int[inputs.size()][];
        long total = 0;
        for (int i = 0; i < out.length; i++) {
            Object in = inputs.get(i);
            int[] ids;
            if (in instanceof String text) {
                ids = model.tokenize(text, true);
            } else {
                ids = (int[]) in;
                for (int t : ids) {
                    if (t >= vocab) throw ApiError.invalid("input", "Token id " + t + " is outside the vocabulary (size " + vocab + ")");
                }
            }
            if (ids.length > limit) {
                if (!truncate) {
                    throw ApiError.invalid("input", "context_length_exceeded", "Input " + i + " has " + ids.length
                            + " tokens; this server embeds at most " + limit + " at once");
                }
                ids = Arrays.copyOf(ids, limit);
            }
            out[i] = ids;
            total += ids.length;
            if (total > MAX_TOTAL_TOKENS) {
                throw ApiError.invalid("input", "The inputs hold more than " + MAX_TOTAL_TOKENS
                        + " tokens together; send them in several requests");
            }
        }
        return out;
    }
}
