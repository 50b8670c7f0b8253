package io.flashllm.flashstore.gguf;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.flashllm.flashstore.ModelFileException;
import io.flashllm.kernels.WeightTensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;

/**
 * Any byte string either parses or fails with {@link ModelFileException}; nothing else may escape
 * (an OOM, an index error, a stack overflow). Plain {@code mvn test} replays the committed inputs
 * under {@code GgufFuzzTestInputs/gguf}; {@code JAZZER_FUZZ=1} fuzzes.
 */
class GgufFuzzTest {
    private static final Path NAME = Path.of("fuzz.gguf");

    @FuzzTest(maxDuration = "60s")
    void gguf(byte[] data) {
        GgufFile f;
        try {
            f = GgufFile.of(NAME, MemorySegment.ofArray(data));
        } catch (ModelFileException e) {
            return;
        }
        // whatever parsed must be usable: every tensor's bytes lie inside the image
        for (GgufTensorInfo info : f.tensorInfos()) {
            WeightTensor t = f.tensor(info.name());
            long n = t.data().byteSize();
            if (n != info.byteSize()) throw new AssertionError("tensor " + info.name() + " size " + n);
            if (n > 0) t.data().get(ValueLayout.JAVA_BYTE, n - 1);
        }
        for (String key : f.metadata().keySet()) {
            try {
                f.requireLong(key);
            } catch (ModelFileException expected) {
                // a non-integer value: the getter must say so with a ModelFileException, which it did
            }
        }
    }
}
