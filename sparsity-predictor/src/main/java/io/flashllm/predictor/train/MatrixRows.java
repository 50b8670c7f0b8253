package io.flashllm.predictor.train;

/**
 * A matrix read one dequantized row at a time: the SVD only needs row access, so a multi-gigabyte
 * memory-mapped gate matrix is never copied whole onto the heap.
 */
public interface MatrixRows {
    int rows();

    int cols();

    /** out[0..cols) = row {@code r}. Called concurrently from several threads with distinct buffers. */
    void row(int r, float[] out);

    /** A view of a weight tensor. */
    static MatrixRows of(io.flashllm.kernels.WeightTensor w) {
        return new MatrixRows() {
            @Override
            public int rows() {
                return w.rows();
            }

            @Override
            public int cols() {
                return w.cols();
            }

            @Override
            public void row(int r, float[] out) {
                io.flashllm.predictor.math.Rows.dequantize(w, r, out, 0);
            }
        };
    }

    /** A view of a row-major float array (tests, small matrices). */
    static MatrixRows of(float[] data, int rows, int cols) {
        if ((long) rows * cols > data.length) throw new IllegalArgumentException("array too small for " + rows + "x" + cols);
        return new MatrixRows() {
            @Override
            public int rows() {
                return rows;
            }

            @Override
            public int cols() {
                return cols;
            }

            @Override
            public void row(int r, float[] out) {
                System.arraycopy(data, r * cols, out, 0, cols);
            }
        };
    }
}
