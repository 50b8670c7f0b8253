package io.flashllm.engine.model;

import java.util.Arrays;

/**
 * Rotary position embedding settings.
 *
 * @param style        which dimensions rotate together (follows the weight source)
 * @param theta        frequency base ({@code rope.freq_base}, {@code rope_theta})
 * @param rotaryDim    how many leading dimensions of each head rotate (the rest pass through)
 * @param linearFactor position interpolation: positions are divided by it (1 = none)
 * @param freqFactors  per-frequency divisors (Llama 3 "rope_freqs", Phi-3's long or short factors), length
 *                     rotaryDim/2, or null
 * @param mscale       what rotated dimensions are multiplied by after the rotation (Phi-3's LongRoPE
 *                     {@code attn_factor}; 1 = nothing)
 * @param originalContext LongRoPE: contexts longer than this use the long factors, the others the short ones
 *                     ({@code rope.scaling.original_context_length}); 0 = no LongRoPE
 */
public record RopeConfig(RopeStyle style, float theta, int rotaryDim, float linearFactor, float[] freqFactors,
                         float mscale, int originalContext) {

    public RopeConfig(RopeStyle style, float theta, int rotaryDim, float linearFactor, float[] freqFactors) {
        this(style, theta, rotaryDim, linearFactor, freqFactors, 1f, 0);
    }

    public static RopeConfig none() {
        return new RopeConfig(RopeStyle.NONE, 10000f, 0, 1f, null);
    }

    public RopeConfig {
        if (!(mscale > 0) || !Float.isFinite(mscale)) throw new IllegalArgumentException("rope mscale must be positive, got " + mscale);
        if (style != RopeStyle.NONE) {
            if (rotaryDim <= 0 || rotaryDim % 2 != 0) {
                throw new IllegalArgumentException("rotary dimension must be even and positive, got " + rotaryDim);
            }
            if (!(theta > 0) || !(linearFactor > 0)) {
                throw new IllegalArgumentException("rope base " + theta + " and scaling factor " + linearFactor
                        + " must be positive");
            }
        }
        if (freqFactors != null) {
            if (freqFactors.length != rotaryDim / 2) {
                throw new IllegalArgumentException("rope frequency factors: " + freqFactors.length
                        + " values for a rotary dimension of " + rotaryDim + " (want " + rotaryDim / 2 + ")");
            }
            freqFactors = freqFactors.clone();
        }
    }

    public RopeConfig withStyle(RopeStyle newStyle) {
        return new RopeConfig(newStyle, theta, rotaryDim, linearFactor, freqFactors, mscale, originalContext);
    }

    public RopeConfig withFreqFactors(float[] factors) {
        return new RopeConfig(style, theta, rotaryDim, linearFactor, factors, mscale, originalContext);
    }

    @Override
    public float[] freqFactors() {
        return freqFactors == null ? null : freqFactors.clone();
    }

    /**
     * The angle per position of each rotated pair: {@code theta^(-2i/rotaryDim) / factor_i / linearFactor},
     * so the kernels rotate pair i of position p by {@code p * invFreq[i]}.
     */
    public float[] inverseFrequencies() {
        float[] inv = new float[rotaryDim / 2];
        for (int i = 0; i < inv.length; i++) {
            double f = Math.pow(theta, -2.0 * i / rotaryDim) / linearFactor;
            if (freqFactors != null) f /= freqFactors[i];
            inv[i] = (float) f;
        }
        return inv;
    }

    /**
     * Llama 3.1's frequency-dependent scaling, as divisors of each base frequency: long wavelengths are
     * stretched by {@code factor}, short ones kept, the band in between blended smoothly.
     */
    public static float[] llama3FreqFactors(float theta, int rotaryDim, float factor, float lowFreqFactor,
                                            float highFreqFactor, int originalContext) {
        float[] out = new float[rotaryDim / 2];
        double lowFreqWavelen = originalContext / (double) lowFreqFactor;
        double highFreqWavelen = originalContext / (double) highFreqFactor;
        for (int i = 0; i < out.length; i++) {
            double freq = Math.pow(theta, -2.0 * i / rotaryDim);
            double wavelen = 2 * Math.PI / freq;
            double scaled;
            if (wavelen < highFreqWavelen) {
                scaled = freq;
            } else if (wavelen > lowFreqWavelen) {
                scaled = freq / factor;
            } else {
                double smooth = (originalContext / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                scaled = (1 - smooth) * freq / factor + smooth * freq;
            }
            out[i] = (float) (freq / scaled);
        }
        return out;
    }

    /**
     * YaRN as llama.cpp applies it (static, whatever the context run): pair i's frequency blends the
     * interpolated {@code freq / factor} and the original by a ramp over the pairs, from all original where a
     * pair turns more than {@code betaFast} times within {@code originalContext} positions to all
     * interpolated below {@code betaSlow} turns. Returned as divisors of each base frequency (see
     * {@link #freqFactors}); the rotated dimensions are also scaled by {@link #yarnMscale}.
     */
    public static float[] yarnFreqFactors(float theta, int rotaryDim, float factor, int originalContext,
                                          float betaFast, float betaSlow, float extFactor) {
        float freqScale = 1f / factor;
        float low = Math.max(0f, (float) Math.floor(yarnCorrDim(rotaryDim, originalContext, betaFast, theta)));
        float high = Math.min(rotaryDim - 1, (float) Math.ceil(yarnCorrDim(rotaryDim, originalContext, betaSlow, theta)));
        float[] out = new float[rotaryDim / 2];
        for (int i = 0; i < out.length; i++) {
            float y = (i - low) / Math.max(0.001f, high - low);
            float ramp = (1 - Math.min(1f, Math.max(0f, y))) * extFactor;
            // theta_i * (freqScale * (1 - ramp) + ramp): as a divisor of theta_i.
            out[i] = 1f / (freqScale * (1 - ramp) + ramp);
        }
        return out;
    }

    /** YaRN's magnitude correction of the rotated dimensions: {@code attnFactor * (1 + 0.1 ln factor)}. */
    public static float yarnMscale(float factor, float attnFactor, float extFactor) {
        return extFactor == 0 ? attnFactor : attnFactor * (1f + 0.1f * (float) Math.log(factor));
    }

    /** The pair index at which a frequency turns {@code turns} times within {@code originalContext} positions. */
    private static double yarnCorrDim(int rotaryDim, int originalContext, float turns, float theta) {
        return rotaryDim * Math.log(originalContext / (turns * 2 * Math.PI)) / (2 * Math.log(theta));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RopeConfig r && r.style == style && Float.compare(r.theta, theta) == 0
                && r.rotaryDim == rotaryDim && Float.compare(r.linearFactor, linearFactor) == 0
                && Arrays.equals(r.freqFactors, freqFactors);
    }

    @Override
    public int hashCode() {
        return ((style.hashCode() * 31 + Float.hashCode(theta)) * 31 + rotaryDim) * 31 + Arrays.hashCode(freqFactors);
    }

    @Override
    public String toString() {
        return "RopeConfig[" + style + ", theta=" + theta + ", rotaryDim=" + rotaryDim + ", linearFactor="
                + linearFactor + (freqFactors == null ? "" : ", freqFactors=" + freqFactors.length) + "]";
    }
}
