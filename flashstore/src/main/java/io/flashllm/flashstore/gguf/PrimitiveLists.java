package io.flashllm.flashstore.gguf;

import java.util.AbstractList;
import java.util.List;
import java.util.Objects;
import java.util.RandomAccess;
import java.util.function.IntFunction;

/**
 * A GGUF metadata array of FLOAT32 or INT32 held in a primitive array behind the {@code List} the
 * metadata map hands out, boxed only when an element is read. A 128k vocabulary's scores as a list
 * of {@code Float} took ~2.5 MiB of heap for 0.5 MiB of values, and the model keeps its metadata for
 * its whole life; under a memory cap the heap comes out of the neuron cache.
 */
final class PrimitiveLists {
    private PrimitiveLists() {}

    static List<Object> of(float[] values) {
        return new View(values.length, i -> values[i]);
    }

    static List<Object> of(int[] values) {
        return new View(values.length, i -> values[i]);
    }

    private static final class View extends AbstractList<Object> implements RandomAccess {
        private final int size;
        private final IntFunction<Object> element;

        View(int size, IntFunction<Object> element) {
            this.size = size;
            this.element = element;
        }

        @Override
        public Object get(int index) {
            Objects.checkIndex(index, size);
            return element.apply(index);
        }

        @Override
        public int size() {
            return size;
        }
    }
}
