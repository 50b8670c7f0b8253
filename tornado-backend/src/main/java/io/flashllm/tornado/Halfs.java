package io.flashllm.tornado;

import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * IEEE half decoding by integer arithmetic and a 32-entry table of powers of two, instead of the
 * OpenCL {@code half} type: devices without {@code cl_khr_fp16} (PoCL among them) reject any
 * {@code half} variable, and TornadoVM's HalfFloat compiles to one. Exact for every finite half:
 * a mantissa below 2048 times a power of two is representable in float.
 */
public final class Halfs {
    private Halfs() {}

    /**
     * {@code table[0] = 2^-24} (subnormals: mantissa * 2^-24), {@code table[e] = 2^(e-25)} for
     * e = 1..30, +inf at 31.
     */
    public static FloatArray table() {
        FloatArray t = new FloatArray(32);
        t.set(0, Math.scalb(1f, -24));
        for (int e = 1; e < 31; e++) t.set(e, Math.scalb(1f, e - 25));
        t.set(31, Float.POSITIVE_INFINITY);
        return t;
    }

    /** The float value of the half with bit pattern {@code bits} (a short, sign-extended or not). */
    public static float decode(int bits, FloatArray table) {
        int h = bits & 0xffff;
        int e = (h >> 10) & 31;
        int m = h & 1023;
        if (e != 0) {
            m = m + 1024;
        }
        float mag = m * table.get(e);
        if ((h & 0x8000) != 0) {
            mag = -mag;
        }
        return mag;
    }
}
