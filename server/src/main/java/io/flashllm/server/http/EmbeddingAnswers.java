package io.flashllm.server.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;

/** Embedding vectors written in each API's shape. */
final class EmbeddingAnswers {
    private EmbeddingAnswers() {}

    /** OpenAI's list of {@code {"object":"embedding","index","embedding"}} with usage. */
    static ObjectNode openAi(float[][] vectors, boolean base64, String model, int promptTokens) {
        ObjectNode root = Json.MAPPER.createObjectNode().put("object", "list");
        ArrayNode data = root.putArray("data");
        for (int i = 0; i < vectors.length; i++) {
            ObjectNode item = data.addObject().put("object", "embedding").put("index", i);
            if (base64) {
                item.put("embedding", base64(vectors[i]));
            } else {
                floats(item.putArray("embedding"), vectors[i]);
            }
        }
        root.put("model", model);
        root.putObject("usage").put("prompt_tokens", promptTokens).put("total_tokens", promptTokens);
        return root;
    }

    /** Ollama's /api/embed answer; durations in nanoseconds, as Ollama reports them. */
    static ObjectNode ollama(float[][] vectors, String model, int promptTokens, long totalNanos) {
        ObjectNode root = Json.MAPPER.createObjectNode().put("model", model);
        ArrayNode all = root.putArray("embeddings");
        for (float[] v : vectors) floats(all.addArray(), v);
        return root.put("total_duration", totalNanos).put("load_duration", 0L).put("prompt_eval_count", promptTokens);
    }

    /** Ollama's older /api/embeddings answer: one vector, or an empty one when there was no prompt. */
    static ObjectNode ollamaLegacy(float[][] vectors) {
        ObjectNode root = Json.MAPPER.createObjectNode();
        ArrayNode v = root.putArray("embedding");
        if (vectors.length > 0) floats(v, vectors[0]);
        return root;
    }

    /** llama.cpp's /embedding answer: per input its index and its pooled vector, as a list of one row. */
    static ArrayNode llamaCpp(float[][] vectors) {
        ArrayNode all = Json.MAPPER.createArrayNode();
        for (int i = 0; i < vectors.length; i++) floats(all.addObject().put("index", i).putArray("embedding").addArray(), vectors[i]);
        return all;
    }

    /** The values as little-endian float32, base64: what OpenAI's clients ask for by default and decode. */
    static String base64(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return Base64.getEncoder().encodeToString(b.array());
    }

    private static void floats(ArrayNode out, float[] v) {
        for (float x : v) out.add(x);
    }
}
