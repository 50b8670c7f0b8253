package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.gguf.GgufFile;
import io.flashllm.flashstore.gguf.GgufTensorInfo;
import io.flashllm.flashstore.hf.HfModelDir;
import io.flashllm.flashstore.io.MemoryLock;
import io.flashllm.flashstore.io.PageAdvice;
import io.flashllm.flashstore.safetensors.SafetensorsFile;
import io.flashllm.kernels.WeightTensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;

/**
 * How a bundle's memory-mapped resident file is paged when the model runs under a DRAM budget:
 * every fault reads only its own page, the tensors the budget holds are read ahead once, and what
 * the checksum pass at load left in the page cache of the others is dropped.
 *
 * <p>Why: the kernel's read-around reads the disk's whole readahead window (8 MiB here) around each
 * fault. Under a 600 MiB cap with the gates read from flash per layer, a fault at the end of a
 * layer's attention read megabytes of the gate beside it through the page cache, 50–140 MiB of gate
 * pages stayed cached during decode (mincore), and they pushed out the attention and output head
 * the budget had counted on: 1.4 tok/s instead of 2.9–3.8 (docs/benchmarks.md §4, session 9).
 */
final class ResidentPaging {
    private static final System.Logger LOG = System.getLogger(ResidentPaging.class.getName());

    private ResidentPaging() {}

    /** A resident tensor and where its bytes lie in its file. */
    record Mapped(WeightTensor tensor, Path file, long offset) {}

    /** Every tensor of the resident part, {@code gguf} (the file at {@code residentPath}) or else {@code hf}, in file order. */
    static List<Mapped> tensors(Path residentPath, GgufFile gguf, HfModelDir hf) {
        List<Mapped> all = new ArrayList<>();
        if (gguf != null) {
            for (GgufTensorInfo info : gguf.tensorInfos()) {
                all.add(new Mapped(gguf.tensor(info.name()), residentPath, gguf.dataStart() + info.offset()));
            }
        } else {
            for (String name : hf.tensorNames()) {
                SafetensorsFile shard = hf.shardOf(name);
                all.add(new Mapped(hf.tensor(name), shard.path(), shard.dataStart() + shard.info(name).begin()));
            }
        }
        return all;
    }

    /**
     * What was done: whether the kernel took the advice (false where it is unavailable, and nothing
     * changed), the bytes read ahead, the bytes of them locked in memory (all of them, or those locked
     * before a lock failed), and the tensors left on flash.
     */
    record Report(boolean advised, long readAheadBytes, long lockedBytes, List<String> leftOnFlash) {
        static final Report NONE = new Report(false, 0, 0, List.of());

        String describe() {
            return "resident file: paged without read-around; " + io.flashllm.flashstore.budget.MemorySize.format(readAheadBytes)
                    + " that the budget holds read ahead"
                    + (lockedBytes > 0 ? "; " + io.flashllm.flashstore.budget.MemorySize.format(lockedBytes) + " locked in memory (mlock)" : "")
                    + (leftOnFlash.isEmpty() ? ""
                    : "; " + leftOnFlash.size() + (leftOnFlash.size() == 1 ? " tensor" : " tensors") + " that it does not hold left on flash");
        }
    }

    /**
     * Advises every tensor of {@code resident} to be paged without read-around; drops from the page
     * cache, and leaves on flash, those named in {@code notHeld} (tensors the budget does not keep in
     * DRAM: gates read from flash per layer, an embedding table paged per row); reads the rest ahead.
     * Dropping is best effort: the kernel keeps a page cache folio that also holds a mapped page.
     */
    static Report apply(Collection<Mapped> resident, Set<String> notHeld, boolean lock) {
        for (Mapped m : resident) {
            if (!PageAdvice.random(m.tensor().data())) return Report.NONE;
        }
        long ahead = 0;
        List<String> left = new ArrayList<>();
        for (Mapped m : resident) {
            WeightTensor t = m.tensor();
            if (notHeld.contains(t.name())) {
                PageAdvice.evict(m.file(), m.offset(), t.data().byteSize());
                left.add(t.name());
            } else if (PageAdvice.willNeed(t.data())) {
                ahead += t.data().byteSize();
            }
        }
        long locked = 0;
        if (lock) {
            for (Mapped m : resident) {
                WeightTensor t = m.tensor();
                if (notHeld.contains(t.name())) continue;
                int r = MemoryLock.lock(t.data());
                if (r != 0) {
                    LOG.log(System.Logger.Level.WARNING, "memory budget: could not lock the resident tensors in memory ("
                            + (r > 0 ? MemoryLock.describe(r) : "unavailable") + "); the kernel may evict and re-read them"
                            + " under memory pressure. Run with -D" + MemoryLock.PROPERTY + "=false to size the budget for that.");
                    break;
                }
                locked += t.data().byteSize();
            }
        }
        return new Report(true, ahead, locked, List.copyOf(left));
    }
}
