package io.flashllm.flashstore.ffn;

/**
 * How a mixture-of-experts FFN picks its experts: a router scores all {@code experts} per token, the
 * softmax of the scores turns them into probabilities, the {@code used} most probable experts run, and
 * their outputs are summed weighted by those probabilities (divided by the probabilities' sum when
 * {@code normalize}: Mixtral's softmax over the chosen scores, Qwen3-MoE's {@code norm_topk_prob}).
 *
 * @param experts   experts per layer; 0 for a dense FFN
 * @param used      experts each token runs (top-k)
 * @param normalize whether the chosen experts' weights are scaled to sum to 1
 */
public record ExpertRouting(int experts, int used, boolean normalize) {
    /** A dense FFN: one MLP per layer, no router. */
    public static final ExpertRouting NONE = new ExpertRouting(0, 0, false);

    public ExpertRouting {
        if (experts < 0) throw new IllegalArgumentException("expert count must not be negative, got " + experts);
        if (experts > 0 && (used < 1 || used > experts)) {
            throw new IllegalArgumentException("experts used per token must be between 1 and the expert count "
                    + experts + ", got " + used);
        }
        if (experts == 0 && used != 0) throw new IllegalArgumentException("experts used per token without experts");
    }

    public boolean moe() {
        return experts > 0;
    }
}
