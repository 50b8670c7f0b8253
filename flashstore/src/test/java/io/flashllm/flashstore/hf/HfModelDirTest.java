package io.flashllm.flashstore.hf;

import static io.flashllm.flashstore.safetensors.TestSafetensorsAccess.entry;
import static io.flashllm.flashstore.safetensors.TestSafetensorsAccess.f32;
import static io.flashllm.flashstore.safetensors.TestSafetensorsAccess.file;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.flashstore.ModelFileException;
import io.flashllm.kernels.WeightTensor;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfModelDirTest {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @TempDir
    Path dir;

    private void config() throws IOException {
        Files.writeString(dir.resolve("config.json"),
                "{\"model_type\":\"llama\",\"hidden_size\":4,\"rms_norm_eps\":1e-5,\"clip\":Infinity}");
    }

    private void shards() throws IOException {
        Files.write(dir.resolve("model-00001-of-00002.safetensors"),
                file("{" + entry("embed", "F32", "[2,2]", 0, 16) + "}", f32(1, 2, 3, 4)));
        Files.write(dir.resolve("model-00002-of-00002.safetensors"),
                file("{" + entry("norm", "F32", "[2]", 0, 8) + "," + entry("head", "F32", "[1,2]", 8, 16) + "}",
                        f32(5, 6, 7, 8)));
    }

    private void index(String weightMap) throws IOException {
        Files.writeString(dir.resolve("model.safetensors.index.json"),
                "{\"metadata\":{\"total_size\":32},\"weight_map\":" + weightMap + "}");
    }

    @Test
    void singleFile() throws IOException {
        config();
        Files.write(dir.resolve("model.safetensors"), file("{" + entry("w", "F32", "[3,1]", 0, 12) + "}", f32(1, 2, 3)));
        Files.writeString(dir.resolve("tokenizer.json"), "{}");
        try (HfModelDir m = HfModelDir.open(dir)) {
            assertEquals("llama", m.config().get("model_type").asText());
            assertEquals(1e-5, m.config().get("rms_norm_eps").asDouble());
            assertNull(m.generationConfig());
            assertNull(m.tokenizerConfig());
            assertEquals(Double.POSITIVE_INFINITY, m.config().get("clip").asDouble());
            assertEquals(dir.resolve("tokenizer.json"), m.tokenizerJson());
            WeightTensor w = m.tensor("w");
            assertArrayEquals(new long[] {1, 3}, w.shape());
            assertEquals(3f, w.row(2).get(F32, 0));
            assertEquals(List.of("w"), m.tensorNames());
            assertNull(m.tensor("x"));
        }
    }

    @Test
    void shardedFindsEachTensorInItsShard() throws IOException {
        config();
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\":[2,7]}");
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\":\"{{ x }}\"}");
        shards();
        index("{\"embed\":\"model-00001-of-00002.safetensors\",\"norm\":\"model-00002-of-00002.safetensors\","
                + "\"head\":\"model-00002-of-00002.safetensors\"}");
        try (HfModelDir m = HfModelDir.open(dir)) {
            assertEquals(7, m.generationConfig().get("eos_token_id").get(1).asInt());
            assertNull(m.tokenizerJson());
            assertEquals("{{ x }}", m.tokenizerConfig().get("chat_template").asText());
            assertEquals(List.of("embed", "norm", "head"), m.tensorNames());
            assertEquals(2, m.shards().size());
            assertEquals(4f, m.tensor("embed").row(1).get(F32, 4));
            assertEquals(6f, m.tensor("norm").data().get(F32, 4));
            assertEquals(8f, m.tensor("head").data().get(F32, 4));
            assertSame(m.shardOf("norm"), m.shardOf("head"));
            assertNotSame(m.shardOf("embed"), m.shardOf("head"));
        }
    }

    private void assertOpenFails(String fault, String detail) {
        ModelFileException e = assertThrows(ModelFileException.class, () -> HfModelDir.open(dir).close());
        assertTrue(e.fault().startsWith(fault), () -> "fault '" + e.fault() + "' should start with '" + fault + "'");
        assertTrue(e.getMessage().contains(detail), () -> "'" + e.getMessage() + "' should mention " + detail);
    }

    @Test
    void missingConfig() throws IOException {
        Files.write(dir.resolve("model.safetensors"), file("{}", new byte[0]));
        assertOpenFails("file not found", "config.json");
    }

    @Test
    void badConfigJson() throws IOException {
        Files.writeString(dir.resolve("config.json"), "{\"a\":1,\"a\":2}");
        assertOpenFails("bad JSON", "Duplicate field");
        Files.writeString(dir.resolve("config.json"), "[]");
        assertOpenFails("bad JSON", "not a JSON object");
    }

    @Test
    void noWeights() throws IOException {
        config();
        assertOpenFails("no weights", "model.safetensors");
    }

    @Test
    void indexFaults() throws IOException {
        config();
        shards();
        index("{\"embed\":\"model-00003-of-00002.safetensors\"}");
        assertOpenFails("missing shard", "model-00003-of-00002.safetensors");
        index("{\"norm\":\"model-00001-of-00002.safetensors\"}");
        assertOpenFails("missing tensor", "'norm'");
        index("{\"embed\":\"../outside.safetensors\"}");
        assertOpenFails("bad shard name", "../outside.safetensors");
        index("{\"embed\":\"/etc/passwd\"}");
        assertOpenFails("bad shard name", "/etc/passwd");
        index("{\"embed\":3}");
        assertOpenFails("wrong value type", "embed");
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"metadata\":{}}");
        assertOpenFails("missing required key", "weight_map");
        Files.writeString(dir.resolve("model.safetensors.index.json"), "{\"weight_map\":[]}");
        assertOpenFails("wrong value type", "weight_map");
    }

    @Test
    void brokenShardIsReportedByItsOwnName() throws IOException {
        config();
        Files.write(dir.resolve("a.safetensors"), new byte[3]);
        index("{\"x\":\"a.safetensors\"}");
        ModelFileException e = assertThrows(ModelFileException.class, () -> HfModelDir.open(dir));
        assertEquals(dir.resolve("a.safetensors"), e.file());
        assertTrue(e.fault().startsWith("truncated"));
    }

    @Test
    void notADirectory() {
        assertThrows(ModelFileException.class, () -> HfModelDir.open(dir.resolve("nope")));
    }
}
