package io.flashllm.flashstore.ffn;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The bulk gated activation against the per-neuron one, for every gated kind. */
class FfnActivationTest {

    @Test
    void applyGatedEqualsApplyTimesUpPerNeuron() {
        Random rnd = new Random(3);
        for (FfnActivation act : new FfnActivation[]{new FfnActivation(FfnActivation.Kind.GATED_SILU, 0f),
                new FfnActivation(FfnActivation.Kind.GATED_RELU, 0f), new FfnActivation(FfnActivation.Kind.GATED_FATRELU, 0.3f)}) {
            int off = 5, n = 37; // a vector tail and an offset
            float[] gate = new float[off + n + 3], up = new float[gate.length];
            for (int i = 0; i < gate.length; i++) {
                gate[i] = (float) (4 * rnd.nextGaussian());
                up[i] = (float) rnd.nextGaussian();
            }
            float[] want = gate.clone();
            for (int i = off; i < off + n; i++) want[i] = act.apply(gate[i]) * up[i];
            act.applyGated(gate, up, off, n);
            for (int i = 0; i < gate.length; i++) {
                assertEquals(want[i], gate[i], 1e-6f * (1 + Math.abs(want[i])), act.kind() + " neuron " + i);
            }
        }
        FfnActivation noGate = new FfnActivation(FfnActivation.Kind.RELU_NO_GATE, 0f);
        assertThrows(IllegalStateException.class, () -> noGate.applyGated(new float[1], new float[1], 0, 1));
    }
}
