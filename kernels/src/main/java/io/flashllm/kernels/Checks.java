package io.flashllm.kernels;

/** Argument checks shared by the public kernels, so bad calls fail with a message, not deep in a vector op. */
final class Checks {
    private Checks() {}

    static void row(WeightTensor w, int row) {
        if (row < 0 || row >= w.rows()) {
            throw new IndexOutOfBoundsException("row " + row + " outside tensor " + w.name() + " with " + w.rows() + " rows");
        }
    }

    static void span(String what, float[] a, int off, long len) {
        if (a == null) throw new NullPointerException(what + " is null");
        if (off < 0 || len < 0 || off + len > a.length) {
            throw new IndexOutOfBoundsException(what + ": need " + len + " floats at offset " + off
                    + " but the array has " + a.length);
        }
    }

    static void vectorType(WeightTensor w) {
        switch (w.type()) {
            case F32, F16, BF16 -> { }
            default -> throw new IllegalArgumentException("tensor " + w.name() + " is " + w.type()
                    + "; norm weights and biases must be F32, F16 or BF16");
        }
    }
}
