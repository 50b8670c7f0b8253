package io.flashllm.flashstore.writer;

import io.flashllm.kernels.GgmlType;

import java.nio.ByteBuffer;
import java.nio.file.Path;

/** Child-process entry for the SIGTERM test: writes args[0], a GGUF whose one tensor trickles out slowly. */
public final class WriteChild {
    private WriteChild() {}

    public static void main(String[] args) throws Exception {
        int rows = 4096, cols = 1024;
        new GgufWriter(Path.of(args[0])).addTensor("t", GgmlType.F32, new long[] {cols, rows}, out -> {
            ByteBuffer row = ByteBuffer.allocate(4 * cols);
            for (int r = 0; r < rows; r++) {
                row.clear();
                out.put(row);
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    throw new java.io.InterruptedIOException("interrupted");
                }
            }
        }).write();
        System.out.println("done");
    }
}
