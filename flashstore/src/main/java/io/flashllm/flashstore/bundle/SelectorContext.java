package io.flashllm.flashstore.bundle;

import io.flashllm.flashstore.ffn.FfnActivation;
import io.flashllm.kernels.Parallel;
import io.flashllm.kernels.WeightTensor;

import java.nio.file.Path;
import java.util.function.Function;

/**
 * What a {@link SelectorProvider} gets from the bundle being opened.
 *
 * @param dir            the bundle directory
 * @param manifest       its manifest (lists predictor files, if any)
 * @param activation     the FFN activation the bundle runs with (after overrides)
 * @param residentTensor looks a tensor up in the resident file; throws for a missing one
 * @param parallel       the model's pool, or null (calling thread)
 * @param sampleRate     share of (token, layer) pairs an inexact selector should check against the truth, 0 for none
 * @param probe          true when the bundle only checks at open that the selector can be built (it
 *                       closes it at once): skip costly parts such as quality samplers
 */
public record SelectorContext(Path dir, Manifest manifest, FfnActivation activation,
                              Function<String, WeightTensor> residentTensor, Parallel parallel, double sampleRate,
                              boolean probe) {}
