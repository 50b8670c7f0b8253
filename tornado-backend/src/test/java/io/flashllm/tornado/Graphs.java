package io.flashllm.tornado;

import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.exceptions.TornadoExecutionPlanException;

import java.util.function.Consumer;

/** Runs a one-off task graph in the tests: inputs in, tasks, outputs back. */
final class Graphs {
    private static int graphs;

    private Graphs() {}

    static void runOnce(Object[] inputs, Consumer<TaskGraph> tasks, Object... outputs) {
        TaskGraph g = new TaskGraph("test" + (graphs++));
        g.transferToDevice(DataTransferMode.EVERY_EXECUTION, inputs);
        tasks.accept(g);
        g.transferToHost(DataTransferMode.EVERY_EXECUTION, outputs);
        ImmutableTaskGraph snapshot = g.snapshot();
        try (TornadoExecutionPlan plan = new TornadoExecutionPlan(snapshot)) {
            plan.execute();
        } catch (TornadoExecutionPlanException e) {
            throw new IllegalStateException(e);
        }
    }
}
