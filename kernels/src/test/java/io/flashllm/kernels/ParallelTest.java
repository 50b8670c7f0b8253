package io.flashllm.kernels;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.*;

class ParallelTest {

    @Test
    void coversEveryIndexExactlyOnceWithOneToFourThreads() {
        for (int threads = 1; threads <= 4; threads++) {
            try (Parallel p = Parallel.create(threads)) {
                assertEquals(threads, p.threads());
                for (int n : new int[]{1, 2, 3, 5, 17, 1000, 12345}) {
                    for (int rep = 0; rep < 20; rep++) {
                        int[] hits = new int[n];
                        p.forRange(n, (from, to) -> {
                            assertTrue(from >= 0 && from < to && to <= n);
                            for (int i = from; i < to; i++) hits[i]++;
                        });
                        for (int i = 0; i < n; i++) assertEquals(1, hits[i], "threads " + threads + " n " + n + " i " + i);
                    }
                }
                p.forRange(0, (from, to) -> fail("empty range must not run"));
            }
        }
    }

    @Test
    void aGrainKeepsEveryRangeButTheLastInWholeGrains() {
        try (Parallel p = Parallel.create(2)) {
            for (int n : new int[]{32, 64, 100, 1000, 8192, 8195}) {
                for (int rep = 0; rep < 20; rep++) {
                    int[] hits = new int[n];
                    java.util.concurrent.ConcurrentLinkedQueue<int[]> ranges = new java.util.concurrent.ConcurrentLinkedQueue<>();
                    p.forRange(n, 8, (from, to) -> {
                        ranges.add(new int[]{from, to});
                        for (int i = from; i < to; i++) hits[i]++;
                    });
                    for (int i = 0; i < n; i++) assertEquals(1, hits[i], "n " + n + " i " + i);
                    for (int[] r : ranges) {
                        assertEquals(0, r[0] % 8, "n " + n + ": a range starts at " + r[0]);
                        if (r[1] != n) assertEquals(0, (r[1] - r[0]) % 8, "n " + n + ": range " + r[0] + ".." + r[1]);
                    }
                    assertTrue(ranges.size() > 1, "n " + n + " ran as one range");
                }
            }
            assertThrows(IllegalArgumentException.class, () -> p.forRange(10, 0, (from, to) -> {}));
        }
    }

    @Test
    void chunksShrinkFromAShareOfTheRangeToTheMinimumAndCoverItInGrains() {
        for (int threads = 2; threads <= 4; threads++) {
            for (int n : new int[]{1, 7, 32, 255, 256, 2048, 8192, 32000, 1 << 20}) {
                int grain = Parallel.grain(n, threads, 8);
                int min = Parallel.minChunk(n, threads, grain);
                int claimed = 0, previous = Integer.MAX_VALUE, count = 0;
                while (claimed < n) {
                    int size = Parallel.claimSize(n - claimed, threads, grain, min);
                    assertTrue(size > 0 && size <= n - claimed, "n " + n + " size " + size);
                    boolean last = claimed + size == n;
                    if (!last) {
                        assertEquals(0, size % grain, "n " + n + " size " + size);
                        assertTrue(size <= previous, "chunks never grow: n " + n);
                    }
                    previous = size;
                    claimed += size;
                    count++;
                }
                assertEquals(n, claimed);
                assertTrue(count <= 40, "n " + n + ": " + count + " chunks");
            }
        }
        // Two threads over a gate matrix's 8192 rows: a quarter first, eight-row multiples, short last chunks.
        int grain = Parallel.grain(8192, 2, 8), min = Parallel.minChunk(8192, 2, grain);
        assertEquals(8, grain);
        assertEquals(256, min);
        assertEquals(2048, Parallel.claimSize(8192, 2, grain, min));
        assertEquals(1536, Parallel.claimSize(8192 - 2048, 2, grain, min));
        assertEquals(256, Parallel.claimSize(600, 2, grain, min), "the minimum chunk near the end");
        assertEquals(300, Parallel.claimSize(300, 2, grain, min), "less than half a minimum chunk is not left behind");
        // Attention's 32 heads (grain 1) are claimed one by one at the end.
        assertEquals(1, Parallel.grain(32, 2, 1));
        assertEquals(8, Parallel.grain(64, 2, 8), "64 gathered rows: still in eights");
        assertEquals(1, Parallel.grain(24, 2, 8), "fewer than two grains per thread: any size");
        assertEquals(1, Parallel.minChunk(32, 2, 1));
        assertEquals(8, Parallel.claimSize(32, 2, 1, 1));
    }

    @Test
    void manyBackToBackCallsFromTwoCallersStayExact() throws Exception {
        try (Parallel p = Parallel.create(3)) {
            long[] totals = new long[2];
            Thread[] callers = new Thread[2];
            for (int t = 0; t < 2; t++) {
                int id = t;
                callers[t] = new Thread(() -> {
                    for (int rep = 0; rep < 3000; rep++) {
                        int n = 1 + rep % 37;
                        java.util.concurrent.atomic.AtomicLong sum = new java.util.concurrent.atomic.AtomicLong();
                        p.forRange(n, (from, to) -> {
                            for (int i = from; i < to; i++) sum.addAndGet(i + 1);
                        });
                        assertEquals((long) n * (n + 1) / 2, sum.get());
                        totals[id] += sum.get();
                    }
                });
                callers[t].start();
            }
            for (Thread t : callers) t.join(60_000);
            long expected = 0;
            for (int rep = 0; rep < 3000; rep++) {
                int n = 1 + rep % 37;
                expected += (long) n * (n + 1) / 2;
            }
            assertEquals(expected, totals[0]);
            assertEquals(expected, totals[1]);
        }
    }

    @Test
    void waitsForSlowChunksClaimedByWorkers() {
        try (Parallel p = Parallel.create(2)) {
            for (int rep = 0; rep < 20; rep++) {
                int[] hits = new int[8];
                p.forRange(8, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        if (i % 2 == 1) {
                            long end = System.nanoTime() + 200_000;
                            while (System.nanoTime() < end) Thread.onSpinWait();
                        }
                        hits[i]++;
                    }
                });
                for (int h : hits) assertEquals(1, h);
            }
        }
    }

    @Test
    void usesMoreThanOneThread() {
        try (Parallel p = Parallel.create(2)) {
            java.util.Set<Thread> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
            for (int rep = 0; rep < 200 && seen.size() < 2; rep++) {
                p.forRange(64, (from, to) -> {
                    seen.add(Thread.currentThread());
                    long end = System.nanoTime() + 50_000;
                    while (System.nanoTime() < end) Thread.onSpinWait();
                });
            }
            assertEquals(2, seen.size());
        }
    }

    @Test
    void exceptionsPropagateAndPoolStaysUsable() {
        try (Parallel p = Parallel.create(3)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.forRange(100, (from, to) -> {
                if (from <= 50 && 50 < to) throw new IllegalStateException("boom at 50");
            }));
            assertEquals("boom at 50", e.getMessage());
            assertThrows(AssertionError.class, () -> p.forRange(100, (from, to) -> {
                throw new AssertionError("error");
            }));
            AtomicInteger sum = new AtomicInteger();
            p.forRange(100, (from, to) -> sum.addAndGet(to - from));
            assertEquals(100, sum.get());
        }
    }

    @Test
    void nestedCallsRunInline() {
        try (Parallel p = Parallel.create(2)) {
            AtomicInteger count = new AtomicInteger();
            p.forRange(8, (from, to) -> {
                for (int i = from; i < to; i++) p.forRange(10, (a, b) -> count.addAndGet(b - a));
            });
            assertEquals(80, count.get());
        }
    }

    @Test
    void closeStopsWorkersAndRejectsLaterCalls() throws Exception {
        Parallel p = Parallel.create(4);
        p.forRange(10, (from, to) -> { });
        p.close();
        p.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> p.forRange(10, (from, to) -> { }));
        Thread.sleep(10);
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("flashllm-parallel-")) {
                t.join(2000);
                assertFalse(t.isAlive(), "worker " + t.getName() + " still alive");
            }
        }
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(IllegalArgumentException.class, () -> Parallel.create(0));
        try (Parallel p = Parallel.create(2)) {
            assertThrows(IllegalArgumentException.class, () -> p.forRange(-1, (a, b) -> { }));
        }
    }

    /**
     * A task given to overlapNext runs once, on the caller, inside the next loop while a worker
     * runs the loop's ranges (the loop still covers every index); with no loop, or a loop run on
     * the caller alone, it runs at runPending or before the body. Its exception is thrown by the
     * loop once every range is done; a dropped task never runs.
     */
    @Test
    void aTaskOverlapsTheNextLoopOnTheCaller() throws Exception {
        try (Parallel p = Parallel.create(2)) {
            Thread me = Thread.currentThread();
            AtomicInteger ran = new AtomicInteger();
            java.util.concurrent.CountDownLatch workerStarted = new java.util.concurrent.CountDownLatch(1);
            int n = 4096;
            int[] hits = new int[n];
            // The task waits until a worker has run a range: it can only finish if the loop runs meanwhile.
            p.overlapNext(() -> {
                assertSame(me, Thread.currentThread());
                try {
                    assertTrue(workerStarted.await(10, java.util.concurrent.TimeUnit.SECONDS), "a worker ran while the task did");
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                ran.incrementAndGet();
            });
            assertThrows(IllegalStateException.class, () -> p.overlapNext(() -> { }), "one task at a time");
            p.forRange(n, (from, to) -> {
                if (Thread.currentThread() != me) workerStarted.countDown();
                for (int i = from; i < to; i++) hits[i]++;
            });
            assertEquals(1, ran.get());
            for (int i = 0; i < n; i++) assertEquals(1, hits[i], "index " + i);
            p.runPending();
            assertEquals(1, ran.get(), "taken by the loop, not run again");

            p.overlapNext(ran::incrementAndGet);
            p.runPending();
            assertEquals(2, ran.get(), "no loop: runPending runs it");
            p.runPending();
            assertEquals(2, ran.get());

            int[] order = new int[2];
            AtomicInteger step = new AtomicInteger();
            p.overlapNext(() -> order[0] = step.incrementAndGet());
            p.forRange(1, (from, to) -> order[1] = step.incrementAndGet()); // one index: on the caller alone
            assertArrayEquals(new int[]{1, 2}, order, "the task before a loop run on the caller");
            p.overlapNext(ran::incrementAndGet);
            p.forRange(0, (from, to) -> fail("empty range must not run"));
            assertEquals(3, ran.get(), "an empty loop still runs it");

            int[] covered = new int[n];
            p.overlapNext(() -> { throw new IllegalStateException("task failed"); });
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> p.forRange(n, (from, to) -> { for (int i = from; i < to; i++) covered[i]++; }));
            assertEquals("task failed", e.getMessage());
            for (int i = 0; i < n; i++) assertEquals(1, covered[i], "the loop finished before the task's failure surfaced: " + i);

            p.overlapNext(() -> fail("dropped"));
            assertTrue(p.dropPending());
            assertFalse(p.dropPending());
            p.forRange(n, (from, to) -> { });
        }
    }
}
