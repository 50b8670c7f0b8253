package io.flashllm.flashstore.bundle;

/** Names and numbers of the on-disk bundle format shared by the converter, the verifier and the loader. */
public final class BundleFormat {
    /** Bumped on any incompatible change; readers refuse other versions. */
    public static final int VERSION = 1;
    public static final String FORMAT_NAME = "flashllm-bundle";
    public static final String MANIFEST = "manifest.json";
    public static final String RESIDENT_GGUF = "resident.gguf";
    public static final String RESIDENT_SAFETENSORS = "model.safetensors";
    public static final String FFN_DIR = "ffn";

    private BundleFormat() {}

    public static String layerFile(int layer) {
        return String.format("%s/layer-%03d.bin", FFN_DIR, layer);
    }
}
