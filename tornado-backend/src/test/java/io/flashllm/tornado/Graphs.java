package io.flashllm.tornado;

import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;

import java.util.function.BiConsumer;
import java.util.function.Consumer;

/** Runs a one-off task graph in the tests: inputs in, tasks, outputs back. */
final class Graphs {
    private static int graphs;

    private Graphs() {}

    static void runOnce(Object[] inputs, Consumer<TaskGraph> tasks, Object... outputs) {
        runOnce(inputs, (g, groups) -> tasks.accept(g), outputs);
    }

    /** As above, for tasks that run as work groups: they register their shapes with the second argument. */
    static void runOnce(Object[] inputs, BiConsumer<TaskGraph, WorkGroups> tasks, Object... outputs) {
        String name = "test" + (graphs++);
        TaskGraph g = new TaskGraph(name);
        WorkGroups groups = new WorkGroups(name);
        g.transferToDevice(DataTransferMode.EVERY_EXECUTION, inputs);
        tasks.accept(g, groups);
        g.transferToHost(DataTransferMode.EVERY_EXECUTION, outputs);
        ImmutableTaskGraph snapshot = g.snapshot();
        try (TornadoExecutionPlan plan = groups.plan(snapshot)) {
            plan.execute();
        } catch (TornadoExecutionPlanException e) {
            throw new IllegalStateException(e);
        }
    }
}
