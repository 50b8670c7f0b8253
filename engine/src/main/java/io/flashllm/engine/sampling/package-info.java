/** Token sampling (greedy, temperature, top-k/p, min-p, penalties, seeded) and log-probabilities. */
package io.flashllm.engine.sampling;
