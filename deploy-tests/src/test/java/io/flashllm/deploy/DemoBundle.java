package io.flashllm.deploy;

import io.flashllm.engine.synth.Synth;
import io.flashllm.engine.synth.SynthSpec;
import io.flashllm.flashstore.bundle.ConvertOptions;
import io.flashllm.flashstore.bundle.Converter;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The demo model (the same spec `flashllm serve` synthesizes when no model is given) converted into
 * a flash bundle, so that the served model reads its FFN through the neuron cache and the I/O engine
 * and the flash-store meters have something to count.
 */
final class DemoBundle {
    private DemoBundle() {}

    static Path create(Path dir) throws IOException {
        Path gguf = dir.resolve("demo.gguf");
        Synth.synthesize(SynthSpec.demo(), gguf);
        Path bundle = dir.resolve("demo.bundle");
        Converter.convert(gguf, bundle, ConvertOptions.defaults());
        return bundle;
    }
}
