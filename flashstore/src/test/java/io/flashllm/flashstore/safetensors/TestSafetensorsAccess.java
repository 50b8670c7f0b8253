package io.flashllm.flashstore.safetensors;

/** Lets tests in other packages build safetensors bytes with the package-private test writer. */
public final class TestSafetensorsAccess {
    private TestSafetensorsAccess() {}

    public static byte[] file(String headerJson, byte[] data) {
        return TestSafetensors.file(headerJson, data);
    }

    public static String entry(String name, String dtype, String shape, long begin, long end) {
        return TestSafetensors.entry(name, dtype, shape, begin, end);
    }

    public static byte[] f32(float... v) {
        return TestSafetensors.f32(v);
    }
}
