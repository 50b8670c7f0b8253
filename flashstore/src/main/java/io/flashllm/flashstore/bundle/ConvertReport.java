package io.flashllm.flashstore.bundle;

import java.nio.file.Path;

/** What a conversion produced. */
public record ConvertReport(Path out, int layers, int neuronsPerLayer, BundleLayout layout, boolean gateResident,
                            String downType, long ffnBytes, long residentBytes, long millis) {
    @Override
    public String toString() {
        return String.format("bundle %s: %d layers x %d neurons, %d neurons/group of %d bytes, gates %s, down as %s,"
                        + " FFN files %d bytes, resident %d bytes, %d ms", out, layers, neuronsPerLayer,
                layout.neuronsPerGroup(), layout.groupBytes(), gateResident ? "resident" : "bundled", downType, ffnBytes,
                residentBytes, millis);
    }
}
