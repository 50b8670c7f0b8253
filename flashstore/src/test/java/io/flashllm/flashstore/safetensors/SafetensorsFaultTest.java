package io.flashllm.flashstore.safetensors;

import static io.flashllm.flashstore.safetensors.TestSafetensors.entry;
import static io.flashllm.flashstore.safetensors.TestSafetensors.file;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flashllm.flashstore.ModelFileException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One test per safetensors fault class, on hand-made broken files. */
class SafetensorsFaultTest {
    @TempDir
    Path tmp;

    private Path write(byte[] bytes) throws IOException {
        Path p = tmp.resolve("broken.safetensors");
        Files.write(p, bytes);
        return p;
    }

    private void assertOpenFails(byte[] bytes, String fault, String detail) throws IOException {
        Path p = write(bytes);
        assertFault(() -> SafetensorsFile.open(p).close(), fault, detail, p);
    }

    private void assertOpenFails(String header, int dataBytes, String fault, String detail) throws IOException {
        assertOpenFails(file(header, new byte[dataBytes]), fault, detail);
    }

    static void assertFault(org.junit.jupiter.api.function.Executable e, String fault, String detail, Path file) {
        ModelFileException ex = assertThrows(ModelFileException.class, e);
        assertTrue(ex.fault().startsWith(fault), () -> "fault '" + ex.fault() + "' should start with '" + fault + "'");
        assertTrue(ex.getMessage().contains(detail), () -> "'" + ex.getMessage() + "' should mention " + detail);
        assertTrue(ex.getMessage().startsWith(file + ": "), ex::getMessage);
    }

    @Test
    void truncated() throws IOException {
        assertOpenFails(new byte[5], "truncated", "5 bytes");
        assertOpenFails(file(100, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]), "truncated", "100 bytes");
        byte[] valid = file("{" + entry("a", "F32", "[2]", 0, 8) + "}", new byte[8]);
        for (int len = 0; len < valid.length; len++) {
            Path p = tmp.resolve("cut" + len + ".safetensors");
            Files.write(p, Arrays.copyOf(valid, len));
            ModelFileException e = assertThrows(ModelFileException.class, () -> SafetensorsFile.open(p), "length " + len);
            assertTrue(e.getMessage().contains("cut" + len), e.getMessage());
        }
    }

    @Test
    void headerTooLarge() throws IOException {
        assertOpenFails(file(200_000_000L, new byte[16], new byte[0]), "header too large", "200000000");
        assertOpenFails(file(-1L, new byte[16], new byte[0]), "header too large", "18446744073709551615");
    }

    @Test
    void badJson() throws IOException {
        assertOpenFails("{\"a\":", 0, "bad JSON", "safetensors header");
        assertOpenFails("[1,2]", 0, "bad JSON", "does not start with '{'");
        assertOpenFails("{} trailing", 0, "bad JSON", "safetensors header");
        assertOpenFails("{", 0, "bad JSON", "cannot hold an object");
        byte[] badUtf8 = {'{', '"', (byte) 0xff, '"', ':', '1', '}'};
        assertOpenFails(file(badUtf8.length, badUtf8, new byte[0]), "bad JSON", "UTF");
    }

    @Test
    void duplicateTensorNameIsADuplicateJsonKey() throws IOException {
        assertOpenFails("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("a", "F32", "[1]", 4, 8) + "}", 8,
                "bad JSON", "Duplicate field 'a'");
    }

    @Test
    void offsetsNotMatchingDtypeTimesShape() throws IOException {
        assertOpenFails("{" + entry("a", "F16", "[3]", 0, 8) + "}", 8, "offsets not matching dtype and shape", "takes 6");
        assertOpenFails("{" + entry("a", "F32", "[1]", 8, 4) + "}", 8, "offsets not matching dtype and shape", "before");
    }

    @Test
    void overlapping() throws IOException {
        assertOpenFails("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}", 12,
                "overlapping tensors", "'a'");
    }

    @Test
    void beyondEndOfFile() throws IOException {
        assertOpenFails("{" + entry("a", "F32", "[4]", 0, 16) + "}", 12, "tensor beyond end of file", "12 bytes");
        assertOpenFails("{" + entry("a", "U8", "[1]", 9223372036854775807L, 9223372036854775807L) + "}", 0,
                "offsets not matching", "'a'");
        assertOpenFails("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[99999999999999999999,0]}}", 0,
                "tensor beyond end of file", "99999999999999999999");
    }

    @Test
    void impossibleShape() throws IOException {
        assertOpenFails("{" + entry("a", "F32", "[2,0]", 0, 0) + "}", 0, "impossible shape", "dimension 1 is 0");
        assertOpenFails("{" + entry("a", "F32", "[-2]", 0, 0) + "}", 0, "impossible shape", "-2");
        assertOpenFails("{" + entry("a", "F32", "[1,1,1,1,1,1,1,1,1]", 0, 4) + "}", 4, "impossible shape", "9 dimensions");
        assertOpenFails("{" + entry("a", "F32", "[4294967296,4294967296]", 0, 4) + "}", 4, "impossible shape", "overflows");
        assertOpenFails("{" + entry("a", "F4", "[3]", 0, 2) + "}", 2, "impossible shape", "whole number of bytes");
        assertOpenFails("{" + entry("a", "F32", "[1.5]", 0, 4) + "}", 4, "wrong value type", "not an integer");
    }

    @Test
    void unknownAndUnsupportedDtypes() throws IOException {
        assertOpenFails("{" + entry("a", "Q4", "[2]", 0, 8) + "}", 8, "unknown tensor type", "'Q4'");
        Path p = write(file("{" + entry("ids", "I64", "[2]", 0, 16) + "}", new byte[16]));
        try (SafetensorsFile f = SafetensorsFile.open(p)) {
            assertNotNull(f.info("ids"));
            assertFault(() -> f.tensor("ids"), "unsupported dtype", "I64", p);
        }
    }

    @Test
    void missingKeysAndWrongTypes() throws IOException {
        assertOpenFails("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "missing required key", "'dtype'");
        assertOpenFails("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "missing required key", "'shape'");
        assertOpenFails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "missing required key", "'data_offsets'");
        assertOpenFails("{\"a\":[]}", 0, "wrong value type", "'a' is not an object");
        assertOpenFails("{\"a\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "wrong value type", "dtype");
        assertOpenFails("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "wrong value type", "data_offsets");
        assertOpenFails("{\"__metadata__\":{\"x\":1}}", 0, "wrong value type", "__metadata__.x");
        assertOpenFails("{\"__metadata__\":[]}", 0, "wrong value type", "__metadata__");
    }

    @Test
    void deepNestingIsABadHeaderNotAStackOverflow() throws IOException {
        String deep = "{\"__metadata__\":" + "[".repeat(5000) + "]".repeat(5000) + "}";
        assertOpenFails(deep, 0, "bad JSON", "nesting depth");
    }
}
