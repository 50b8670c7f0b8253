package io.flashllm.predictor.calibrate;

import java.util.Arrays;

/**
 * The predictor rank of every layer: one rank for all ({@code --rank 128}) or a per-layer plan
 * ({@code --rank-per-layer}). A plan is a comma-separated list of either one rank per layer
 * ({@code 128,128,...,1024}) or {@code layers:rank} items where layers is a number, a range
 * {@code a-b} or {@code *} for the rest; later items win ({@code *:128,14-15:1024}). The paper
 * gives most OPT layers rank 128 and the last few 1024.
 */
public final class RankPlan {
    private final int[] ranks;

    private RankPlan(int[] ranks) {
        this.ranks = ranks;
    }

    public static RankPlan uniform(int layers, int rank) {
        if (rank < 1) throw new IllegalArgumentException("rank must be at least 1, got " + rank);
        int[] r = new int[layers];
        Arrays.fill(r, rank);
        return new RankPlan(r);
    }

    /** Parses a per-layer plan; {@code fallback} applies to layers the plan does not name. */
    public static RankPlan parse(String spec, int layers, int fallback) {
        if (spec == null || spec.isBlank()) return uniform(layers, fallback);
        String[] items = spec.split(",");
        int[] r = new int[layers];
        Arrays.fill(r, fallback);
        boolean positional = !spec.contains(":");
        if (positional) {
            if (items.length != layers) {
                throw new IllegalArgumentException("rank plan lists " + items.length + " ranks for a model with " + layers
                        + " layers (or use 'layers:rank' items, e.g. '*:128,14-15:1024')");
            }
            for (int l = 0; l < layers; l++) r[l] = rank(items[l], spec);
            return new RankPlan(r);
        }
        for (String item : items) {
            String it = item.trim();
            int colon = it.indexOf(':');
            if (colon < 0) throw new IllegalArgumentException("rank plan item '" + it + "' is not 'layers:rank' (in '" + spec + "')");
            String which = it.substring(0, colon).trim();
            int rank = rank(it.substring(colon + 1), spec);
            int from;
            int to;
            if (which.equals("*")) {
                from = 0;
                to = layers - 1;
            } else if (which.contains("-")) {
                String[] ab = which.split("-", 2);
                from = layer(ab[0], layers, spec);
                to = layer(ab[1], layers, spec);
                if (from > to) throw new IllegalArgumentException("empty layer range '" + which + "' in rank plan '" + spec + "'");
            } else {
                from = to = layer(which, layers, spec);
            }
            for (int l = from; l <= to; l++) r[l] = rank;
        }
        return new RankPlan(r);
    }

    private static int rank(String s, String spec) {
        try {
            int v = Integer.parseInt(s.trim());
            if (v < 1) throw new NumberFormatException();
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + s.trim() + "' is not a positive rank (in rank plan '" + spec + "')");
        }
    }

    private static int layer(String s, int layers, String spec) {
        try {
            int v = Integer.parseInt(s.trim());
            if (v < 0 || v >= layers) {
                throw new IllegalArgumentException("layer " + v + " does not exist (the model has layers 0.." + (layers - 1)
                        + "; rank plan '" + spec + "')");
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + s.trim() + "' is not a layer number (in rank plan '" + spec + "')");
        }
    }

    public int layers() {
        return ranks.length;
    }

    public int rank(int layer) {
        return ranks[layer];
    }
}
