package io.flashllm.tornado;

import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.WorkerGrid1D;

/**
 * The launch shapes of one task graph's work-group kernels ({@link GroupReductions}): a kernel that
 * reduces (a matvec row, a norm, a head's attention) runs as work groups of {@link #SIZE} work items
 * cooperating through local memory. A GPU needs this: with one work item per row, a thread walks a
 * whole row alone (2,048 to 8,192 dependent loads, none coalesced with its neighbours'), and a decode
 * step on an H200 took ~200 ms whatever the weight type. TornadoVM takes the shapes per task,
 * named {@code graph.task}, through the execution plan's {@link GridScheduler}.
 */
public final class WorkGroups {
    /** Work items per group: a multiple of the warp (32) and of the Q8_0 block, and a power of two for the tree sums. */
    static final int SIZE = 128;

    private final String graph;
    private final GridScheduler scheduler = new GridScheduler();
    // One context for every task of the graph: each distinct argument is a node of TornadoVM's
    // graph, which holds 1,024 (a context per task filled it at four layers of a ReLU model).
    private final KernelContext context = new KernelContext();
    private int tasks;

    public WorkGroups(String graph) {
        this.graph = graph;
    }

    /** The kernel context the graph's work-group tasks take as their first argument. */
    public KernelContext context() {
        return context;
    }

    /** Task {@code id} of this graph runs as {@code groups} work groups of {@link #SIZE}. */
    public void launch(String id, int groups) {
        WorkerGrid1D grid = new WorkerGrid1D(groups * SIZE);
        grid.setLocalWork(SIZE, 1, 1);
        scheduler.addWorkerGrid(graph + "." + id, grid);
        tasks++;
    }

    /** An execution plan for the graph's snapshot, with these shapes (TornadoVM refuses an empty set). */
    public TornadoExecutionPlan plan(ImmutableTaskGraph snapshot) {
        TornadoExecutionPlan plan = new TornadoExecutionPlan(snapshot);
        return tasks == 0 ? plan : plan.withGridScheduler(scheduler);
    }
}
