package io.flashllm.flashstore.gguf;

import java.util.AbstractList;
import java.util.List;
import java.util.RandomAccess;

/**
 * A GGUF metadata array of FLOAT32 or INT32 held in a primitive array behind the {@code List} the
 * metadata map hands out, boxed only when an element is read. A 128k vocabulary's scores as a list
 * of {@code Float} took ~2.5 MiB of heap for 0.5 MiB of values, and the model keeps its metadata for
 * its whole life; under a memory cap the heap comes out of the neuron cache.
 */
final class PrimitiveLists {
    private PrimitiveLists() {}

    static List<Object> of(float[] values) {
        return new Floats(values);
    }

    static List<Object> of(int[] values) {
        return new Ints(values);
    }

    private static final class Floats extends AbstractList<Object> implements RandomAccess {
        private final float[] values;

        Floats(float[] values) {
            this.values = values;
        }

        @Override
        public Object get(int index) {
            return values[index];
        }

        @Override
        public int size() {
            return values.length;
        }
    }

    private static final class Ints extends AbstractList<Object> implements RandomAccess {
        private final int[] values;

        Ints(int[] values) {
            this.values = values;
        }

        @Override
        public Object get(int index) {
            return values[index];
        }

        @Override
        public int size() {
            return values.length;
        }
    }
}
