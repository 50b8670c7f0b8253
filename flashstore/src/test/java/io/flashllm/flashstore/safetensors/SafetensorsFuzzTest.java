package io.flashllm.flashstore.safetensors;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.flashllm.flashstore.ModelFileException;
import io.flashllm.kernels.WeightTensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * Safetensors headers and index files: any input parses or fails with {@link ModelFileException}.
 * Plain {@code mvn test} replays the committed inputs under {@code SafetensorsFuzzTestInputs/<method>}.
 */
class SafetensorsFuzzTest {
    @FuzzTest(maxDuration = "60s")
    void header(byte[] data) {
        SafetensorsFile f;
        try {
            f = SafetensorsFile.of(Path.of("fuzz.safetensors"), MemorySegment.ofArray(data));
        } catch (ModelFileException e) {
            return;
        }
        for (String name : f.names()) {
            WeightTensor t;
            try {
                t = f.tensor(name);
            } catch (ModelFileException unsupportedDtype) {
                continue;
            }
            long n = t.data().byteSize();
            if (n > 0) t.data().get(ValueLayout.JAVA_BYTE, n - 1);
        }
    }

    @FuzzTest(maxDuration = "60s")
    void index(byte[] data) {
        try {
            SafetensorsIndex index = SafetensorsIndex.parse(Path.of("model.safetensors.index.json"), data);
            for (String shard : index.weightMap().values()) {
                if (shard.contains("..") && Path.of(shard).normalize().startsWith("..")) {
                    throw new AssertionError("shard name escapes the model directory: " + shard);
                }
            }
        } catch (ModelFileException e) {
            // the only acceptable failure
        }
    }
}
