/**
 * The {@code flashllm} command line (picocli): {@code generate} (stream a completion, or one JSON
 * object with {@code --json}), {@code bench} (prompt and decode tokens/s, peak heap and RSS),
 * {@code synth} (random-weight models in GGUF or HF format), {@code convert} (GGUF/HF to a flash
 * bundle), {@code demo} (a built-in random model synthesized on first use) and, when the HTTP
 * server is in the build, {@code serve}.
 *
 * <p>Contract: a failure prints exactly one line, {@code flashllm: <message>}, on standard error
 * (the stack trace too with {@code --verbose}) and exits 1, or 2 for a bad command line.
 * {@link io.flashllm.server.cli.Main#run} runs it all in-process for tests.
 */
package io.flashllm.server.cli;
