package io.flashllm.engine.synth;

import java.nio.file.Path;

/**
 * What synth wrote: the GGUF file or HF directory, its size, the parameter count, the FATReLU
 * threshold it chose (null when none) and how long it took.
 */
public record SynthResult(Path path, long bytes, int tensors, long parameters, Float fatreluThreshold, long nanos) {

    public double seconds() {
        return nanos / 1e9;
    }
}
