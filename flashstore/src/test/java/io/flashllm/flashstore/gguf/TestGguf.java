package io.flashllm.flashstore.gguf;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A byte-level GGUF writer for tests, written from the spec independently of the reader (it shares
 * no code with it) and able to write broken files on purpose: every field is emitted explicitly.
 */
final class TestGguf {
    // metadata value type ids from the spec
    static final int U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7, STR = 8, ARR = 9,
            U64 = 10, I64 = 11, F64 = 12;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    TestGguf raw(byte... b) {
        out.writeBytes(b);
        return this;
    }

    TestGguf u8(int v) {
        out.write(v & 0xff);
        return this;
    }

    TestGguf u16(int v) {
        return u8(v).u8(v >>> 8);
    }

    TestGguf u32(long v) {
        for (int i = 0; i < 4; i++) u8((int) (v >>> (8 * i)));
        return this;
    }

    TestGguf u64(long v) {
        for (int i = 0; i < 8; i++) u8((int) (v >>> (8 * i)));
        return this;
    }

    TestGguf f32(float v) {
        return u32(Float.floatToRawIntBits(v) & 0xffffffffL);
    }

    TestGguf f64(double v) {
        return u64(Double.doubleToRawLongBits(v));
    }

    TestGguf str(String s) {
        return bytesStr(s.getBytes(StandardCharsets.UTF_8));
    }

    TestGguf bytesStr(byte[] b) {
        u64(b.length);
        return raw(b);
    }

    /** "GGUF", version, tensor count, kv count. */
    TestGguf header(int version, long tensors, long kvs) {
        raw((byte) 'G', (byte) 'G', (byte) 'U', (byte) 'F');
        return u32(version).u64(tensors).u64(kvs);
    }

    /** key, type, then whatever {@code value} writes. */
    TestGguf kv(String key, int type, Consumer<TestGguf> value) {
        str(key).u32(type);
        value.accept(this);
        return this;
    }

    TestGguf kvU32(String key, long v) {
        return kv(key, U32, b -> b.u32(v));
    }

    TestGguf kvStr(String key, String v) {
        return kv(key, STR, b -> b.str(v));
    }

    /** name, dims (ggml order), type id, offset. */
    TestGguf tensorInfo(String name, long[] dims, int ggmlType, long offset) {
        str(name).u32(dims.length);
        for (long d : dims) u64(d);
        return u32(ggmlType).u64(offset);
    }

    /** Zero bytes up to the next multiple of {@code alignment}. */
    TestGguf pad(int alignment) {
        while (out.size() % alignment != 0) out.write(0);
        return this;
    }

    int size() {
        return out.size();
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    /** A well-formed file: one F32 [4,2] tensor "w" holding 0..7 and one Q8_0 [32] tensor "q". */
    static byte[] validFile(int version) {
        TestGguf g = new TestGguf().header(version, 2, 2)
                .kvStr("general.architecture", "llama")
                .kvU32("llama.block_count", 2)
                .tensorInfo("w", new long[] {4, 2}, 0, 0)
                .tensorInfo("q", new long[] {32}, 8, 32)
                .pad(32);
        for (int i = 0; i < 8; i++) g.f32(i);
        g.pad(32);
        g.u16(0x3c00); // f16 1.0 scale
        for (int i = 0; i < 32; i++) g.u8(i - 16);
        return g.bytes();
    }

    static List<Byte> list(byte[] b) {
        List<Byte> l = new ArrayList<>();
        for (byte x : b) l.add(x);
        return l;
    }
}
