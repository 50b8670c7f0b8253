package io.flashllm.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.flashllm.engine.LoadOptions;
import io.flashllm.engine.ModelLoader;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.synth.Synth;
import io.flashllm.engine.synth.SynthArch;
import io.flashllm.engine.synth.SynthFormat;
import io.flashllm.engine.synth.SynthSpec;
import io.flashllm.engine.synth.SynthType;
import io.flashllm.server.config.Setting;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kv-spill-dir: conversations whose slot another one takes keep their keys and values on disk and
 * take them back when they continue; a disk that refuses the write loses nothing but the saving.
 */
class KvSpillTest {
    @TempDir
    Path dir;

    /** One completion; returns {text, cached_tokens}. */
    private static Object[] complete(TestServer ts, String prompt) throws Exception {
        HttpResponse<String> r = ts.post("/v1/completions",
                "{\"prompt\":" + TestServer.JSON.writeValueAsString(prompt) + ",\"max_tokens\":8,\"temperature\":0}");
        assertEquals(200, r.statusCode(), r.body());
        JsonNode j = TestServer.json(r);
        return new Object[] {j.get("choices").get(0).get("text").asText(),
                j.get("usage").get("prompt_tokens_details").get("cached_tokens").asInt()};
    }

    private static long kvFiles(Path d) throws Exception {
        try (Stream<Path> s = Files.list(d)) {
            return s.filter(p -> p.toString().endsWith(".kv")).count();
        }
    }

    @Test
    void conversationsTakeTheirKeysAndValuesBackFromDisk() throws Exception {
        Path spill = dir.resolve("spill");
        FakeModel model = new FakeModel(0, 0, 1024);
        try (TestServer ts = new TestServer(model, Map.of(Setting.PARALLEL, 1, Setting.KV_SPILL_DIR, spill.toString()))) {
            String alice = "Alice would like to know why the sea is salty and the rivers are not.";
            String bob = "Bob asks how long bread dough should rest before it goes into the oven.";
            Object[] a = complete(ts, alice);
            Object[] b = complete(ts, bob); // one slot: Alice's conversation goes to disk
            assertEquals(1, kvFiles(spill));
            String alice2 = alice + a[0] + " And the lakes?";
            Object[] a2 = complete(ts, alice2); // Bob's goes to disk, Alice's comes back
            assertEquals(1 + alice.length() + ((String) a[0]).length(), a2[1], "Alice's history from disk");
            Object[] b2 = complete(ts, bob + b[0] + " And at what heat?");
            assertEquals(1 + bob.length() + ((String) b[0]).length(), b2[1], "Bob's history from disk");
            // A new conversation: Bob's is saved, nothing comes back.
            Object[] c = complete(ts, "Carol has never been here before and asks about comets and their tails.");
            assertTrue((int) c[1] <= 1, "Carol shares at most BOS: " + c[1]);
            String text = ts.metrics.scrape();
            assertTrue(text.contains("flashllm_kv_restores_total 2.0"), text);
            assertTrue(text.contains("flashllm_kv_spills_total 4.0"), text);
            assertTrue(text.contains("flashllm_kv_restored_tokens_total " + ((int) a2[1] + (int) b2[1]) + ".0"), text);
            assertEquals(2, kvFiles(spill), "Alice's second turn and Bob's second turn wait on disk");
        }
        assertEquals(0, kvFiles(spill), "the files go with the server");
    }

    @Test
    void theOldestConversationGoesWhenTheDirectoryIsFull() throws Exception {
        FakeModel model = new FakeModel(0, 0, 1024);
        Path d = dir.resolve("small");
        int[] prompt = new int[40]; // 40 tokens of 4 bytes each in a fake session's file: 160 bytes
        try (KvSpill spill = new KvSpill(d, 400); var s = model.openSession(1024)) {
            for (int c = 0; c < 3; c++) {
                for (int i = 0; i < prompt.length; i++) prompt[i] = 'a' + c;
                s.generate(prompt, io.flashllm.engine.api.SamplingParams.greedy(1), t -> true);
                spill.spill(s, prompt.length);
            }
            assertEquals(2, spill.conversations(), "the first of three 164-byte saves left a 400-byte directory");
            assertEquals(2, kvFiles(d));
            assertTrue(spill.bytesOnDisk() <= 400, "bytes " + spill.bytesOnDisk());
            int[] first = new int[41];
            java.util.Arrays.fill(first, 'a');
            assertEquals(null, spill.take(first, 0), "the oldest is gone");
            int[] third = new int[41];
            java.util.Arrays.fill(third, 'c');
            KvSpill.Entry e = spill.take(third, 0);
            assertEquals(41, spill.restore(e, s)); // the prompt and its one reply token
            assertEquals(1, kvFiles(d), "a restored file goes");
            // Too short to be worth a file.
            try (var shortOne = model.openSession(1024)) {
                shortOne.generate(new int[] {1, 2, 3}, io.flashllm.engine.api.SamplingParams.greedy(1), t -> true);
                spill.spill(shortOne, 3);
            }
            assertEquals(1, spill.conversations());
            // A file that no longer reads back: refused, removed, and the session holds nothing.
            KvSpill.Entry b = spill.take(java.util.stream.IntStream.generate(() -> 'b').limit(41).toArray(), 0);
            Files.write(b.file(), new byte[] {1, 2, 3});
            assertEquals(-1, spill.restore(b, s));
            assertEquals(0, s.heldTokens());
            assertEquals(0, kvFiles(d));
        }
        assertEquals(0, kvFiles(d));
    }

    @Test
    void aDiskThatRefusesTheWriteLosesOnlyTheSaving() throws Exception {
        Path spill = dir.resolve("spill");
        FakeModel model = new FakeModel(0, 0, 1024);
        try (TestServer ts = new TestServer(model, Map.of(Setting.PARALLEL, 1, Setting.KV_SPILL_DIR, spill.toString()))) {
            // The directory goes away and a file takes its name: every save fails.
            Files.delete(spill);
            Files.writeString(spill, "not a directory");
            String alice = "Alice would like to know why the sea is salty and the rivers are not.";
            Object[] a = complete(ts, alice);
            complete(ts, "Bob asks how long bread dough should rest before it goes into the oven.");
            Object[] a2 = complete(ts, alice + a[0] + " And the lakes?");
            assertTrue((int) a2[1] <= 1, "Alice's history runs again: " + a2[1]);
            assertTrue(ts.metrics.scrape().contains("flashllm_kv_spills_total 0.0"));
        }
    }

    @Test
    void sessionsWhoseKeysAndValuesAreOnADeviceAreNotSaved() throws Exception {
        Path spill = dir.resolve("spill-device");
        FakeModel model = new FakeModel(0, 0, 1024);
        model.kvSavable = false;
        try (TestServer ts = new TestServer(model, Map.of(Setting.PARALLEL, 1, Setting.KV_SPILL_DIR, spill.toString()))) {
            String alice = "Alice would like to know why the sea is salty and the rivers are not.";
            Object[] a = complete(ts, alice);
            complete(ts, "Bob asks how long bread dough should rest before it goes into the oven.");
            Object[] a2 = complete(ts, alice + a[0] + " And the lakes?");
            assertTrue((int) a2[1] <= 1, "Alice's history runs again: " + a2[1]);
            assertEquals(0, kvFiles(spill));
            assertTrue(ts.metrics.scrape().contains("flashllm_kv_spills_total 0.0"));
        }
    }

    @Test
    void theRealEngineResumesASavedConversationExactly() throws Exception {
        // A tiny synthetic Llama whose heads are whole blocks; greedy, one slot, two conversations in turns.
        Path file = dir.resolve("tiny.gguf");
        Synth.synthesize(new SynthSpec(SynthArch.LLAMA, 64, 2, 4, 2, 128, 512, SynthType.F32, SynthFormat.GGUF,
                5L, null, 512, "tiny"), file);
        Path spill = dir.resolve("spill-real");
        String[] prompts = {"Once upon a time in a land far away there lived a very patient old fisherman",
            "The recipe for a good loaf of bread begins with flour, water, salt and a little patience"};
        String[] answers = new String[2];
        try (InferenceModel m = ModelLoader.load(file, new LoadOptions(1, 0, null));
             TestServer plain = new TestServer(m, Map.of(Setting.PARALLEL, 2, Setting.CTX, 256))) {
            // Reference: each conversation on its own slot, its second turn from its own cache.
            for (int c = 0; c < 2; c++) {
                String first = (String) complete(plain, prompts[c])[0];
                answers[c] = prompts[c] + first + " then" + complete(plain, prompts[c] + first + " then")[0];
            }
        }
        try (InferenceModel m = ModelLoader.load(file, new LoadOptions(1, 0, null));
             TestServer ts = new TestServer(m, Map.of(Setting.PARALLEL, 1, Setting.CTX, 256,
                     Setting.KV_SPILL_DIR, spill.toString()))) {
            String[] firsts = new String[2];
            for (int c = 0; c < 2; c++) firsts[c] = (String) complete(ts, prompts[c])[0];
            for (int c = 0; c < 2; c++) {
                String next = prompts[c] + firsts[c] + " then";
                Object[] r = complete(ts, next);
                assertTrue((int) r[1] > 0, "conversation " + c + " took its keys and values back: " + r[1]);
                assertEquals(answers[c], next + r[0], "conversation " + c);
            }
            assertTrue(ts.metrics.scrape().contains("flashllm_kv_restores_total 2.0"));
        }
    }
}
