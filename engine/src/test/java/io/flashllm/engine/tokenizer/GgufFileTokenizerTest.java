package io.flashllm.engine.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.flashllm.flashstore.gguf.GgufFile;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * VocabBuilder metadata written as real GGUF bytes (by the small writer below, independent of the reader) and read
 * back by flashstore's GgufFile gives the same tokenizer: checks that the reader's value types are what the
 * tokenizer accepts.
 */
class GgufFileTokenizerTest {
    @ParameterizedTest
    @EnumSource(VocabBuilder.Style.class)
    void tokenizerFromGgufFileMatchesTheMetadataItWasWrittenFrom(VocabBuilder.Style style) {
        Map<String, Object> md = VocabBuilder.build(style, 700).ggufMetadata();
        byte[] image = gguf(md);
        try (GgufFile file = GgufFile.of(Path.of("vocab.gguf"), MemorySegment.ofArray(image))) {
            Tokenizer fromFile = Tokenizers.fromGguf(file.metadata());
            Tokenizer direct = Tokenizers.fromGguf(md);
            assertEquals(direct.vocabSize(), fromFile.vocabSize());
            assertEquals(direct.bos(), fromFile.bos());
            assertArrayEquals(direct.eogTokens(), fromFile.eogTokens());
            for (String t : TextSamples.random(21, 100)) {
                assertArrayEquals(direct.encode(t, true), fromFile.encode(t, true), t);
            }
        }
    }

    /** A GGUF v3 image with these metadata entries and no tensors. */
    static byte[] gguf(Map<String, Object> md) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("GGUF".getBytes(StandardCharsets.US_ASCII));
        u32(out, 3);
        u64(out, 0);
        u64(out, md.size());
        for (Map.Entry<String, Object> e : md.entrySet()) {
            string(out, e.getKey());
            Object v = e.getValue();
            if (v instanceof List<?> list) {
                u32(out, 9);
                Object first = list.isEmpty() ? "" : list.get(0);
                u32(out, type(first));
                u64(out, list.size());
                for (Object o : list) value(out, o);
            } else {
                u32(out, type(v));
                value(out, v);
            }
        }
        while (out.size() % 32 != 0) out.write(0);
        return out.toByteArray();
    }

    /** GGUF type ids: Long is written as u32 (how token ids are stored), Integer as i32. */
    private static int type(Object v) {
        return switch (v) {
            case String s -> 8;
            case Long l -> 4;
            case Integer i -> 5;
            case Float f -> 6;
            case Boolean b -> 7;
            default -> throw new IllegalArgumentException("no GGUF type for " + v.getClass());
        };
    }

    private static void value(ByteArrayOutputStream out, Object v) {
        switch (v) {
            case String s -> string(out, s);
            case Long l -> u32(out, l.intValue());
            case Integer i -> u32(out, i);
            case Float f -> u32(out, Float.floatToRawIntBits(f));
            case Boolean b -> out.write(b ? 1 : 0);
            default -> throw new IllegalArgumentException("no GGUF type for " + v.getClass());
        }
    }

    private static void string(ByteArrayOutputStream out, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        u64(out, b.length);
        out.writeBytes(b);
    }

    private static void u32(ByteArrayOutputStream out, int v) {
        out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array());
    }

    private static void u64(ByteArrayOutputStream out, long v) {
        out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array());
    }
}
