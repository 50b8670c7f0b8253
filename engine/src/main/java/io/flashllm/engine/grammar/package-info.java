/**
 * Constrained generation: a GBNF grammar (llama.cpp's format, or one made from a JSON schema) decides which
 * tokens may come next, so the output is a sentence of the grammar.
 *
 * <p>The data path: {@link io.flashllm.engine.grammar.GbnfParser} turns text into a
 * {@link io.flashllm.engine.grammar.Grammar} (rules of alternatives of characters and rule references);
 * {@link io.flashllm.engine.grammar.GrammarMatcher} follows the text generated so far as a set of parse
 * stacks; {@link io.flashllm.engine.grammar.TokenConstraint} asks the matcher which vocabulary entries may
 * follow, walking a byte trie of the vocabulary so a refused prefix refuses every token that starts with it.
 */
package io.flashllm.engine.grammar;
