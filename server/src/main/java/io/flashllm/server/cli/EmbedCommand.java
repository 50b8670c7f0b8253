package io.flashllm.server.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.flashllm.engine.api.InferenceModel;
import io.flashllm.engine.api.Pooling;
import io.flashllm.engine.api.Session;
import io.flashllm.engine.generate.EmbeddingVectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code flashllm embed}: the embedding of each text (llama.cpp's {@code llama-embedding}): one line of
 * values per text, then their cosine similarities when there are several; or one JSON object.
 */
@Command(name = "embed", mixinStandardHelpOptions = true,
        description = {"Embeddings of texts: the model's final hidden states pooled into one vector per text,",
                "normalized to unit length. Several texts also print their cosine similarities."})
public final class EmbedCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model = new ModelOptions();

    @Option(names = {"-p", "--prompt"}, paramLabel = "TEXT", description = "A text to embed (repeat for several).")
    List<String> prompts = new ArrayList<>();

    @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "Texts to embed, one per line (blank lines skipped); '-' reads standard input.")
    Path file;

    @Option(names = "--pooling", paramLabel = "NAME",
            description = "mean, cls or last (default: what the model file declares, else last).")
    String pooling;

    @Option(names = "--no-normalize", description = "Print the pooled vectors as they are, not scaled to unit length.")
    boolean noNormalize;

    @Option(names = "--json", description = "Print one JSON object: model, pooling, and per text its tokens and embedding.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Pooling chosen;
        try {
            chosen = pooling == null ? null : Pooling.parse(pooling);
        } catch (IllegalArgumentException e) {
            throw new CliErrors.UsageException("--" + e.getMessage());
        }
        List<String> texts = new ArrayList<>(prompts);
        if (file != null) {
            List<String> lines;
            if (file.toString().equals("-")) {
                lines = new String(System.in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
            } else if (Files.isRegularFile(file)) {
                lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            } else {
                throw new CliErrors.UsageException("no such file: " + file);
            }
            for (String line : lines) {
                if (!line.isBlank()) texts.add(line);
            }
        }
        if (texts.isEmpty()) throw new CliErrors.UsageException("nothing to embed: give --prompt TEXT or --file FILE");
        for (String t : texts) {
            if (t.isEmpty()) throw new CliErrors.UsageException("--prompt is empty; there is nothing to embed");
        }
        Path path = model.model;
        if (path == null) throw new CliErrors.UsageException("--model is required");
        long t0 = System.nanoTime();
        try (InferenceModel m = model.load(path)) {
            Pooling use = Pooling.resolve(chosen, m.declaredPooling());
            int ctx = model.contextFor(m);
            float[][] vectors = new float[texts.size()][];
            int[] counts = new int[texts.size()];
            int tokens = 0;
            long t1 = System.nanoTime();
            try (Session s = m.openSession(ctx)) {
                for (int i = 0; i < vectors.length; i++) {
                    int[] ids = m.tokenize(texts.get(i), true);
                    if (ids.length > ctx) {
                        throw new CliErrors.UsageException("text " + (i + 1) + " has " + ids.length
                                + " tokens; the context holds " + ctx + " (raise --ctx)");
                    }
                    counts[i] = ids.length;
                    tokens += ids.length;
                    vectors[i] = EmbeddingVectors.finish(s.embed(ids, use, null), null, !noNormalize);
                }
            }
            double secs = (System.nanoTime() - t1) / 1e9;
            err.printf(Locale.ROOT, "loaded %s in %.2f s; %d texts, %d tokens embedded (%s pooling) at %.1f tok/s%n",
                    m.info().id(), (t1 - t0) / 1e9, vectors.length, tokens, use.label(), tokens / Math.max(secs, 1e-9));
            if (json) {
                printJson(out, m.info().id(), use, counts, vectors);
            } else {
                printText(out, vectors);
            }
        }
        out.flush();
        return 0;
    }

    private static void printText(PrintWriter out, float[][] vectors) {
        for (float[] v : vectors) {
            StringBuilder line = new StringBuilder();
            for (float x : v) line.append(line.isEmpty() ? "" : " ").append(x);
            out.println(line);
        }
        if (vectors.length < 2) return;
        out.println("cosine similarity:");
        for (float[] a : vectors) {
            StringBuilder row = new StringBuilder();
            for (float[] b : vectors) row.append(String.format(Locale.ROOT, "%7.3f", EmbeddingVectors.cosine(a, b)));
            out.println(row);
        }
    }

    private static void printJson(PrintWriter out, String id, Pooling pooling, int[] counts, float[][] vectors) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode().put("model", id).put("pooling", pooling.label());
        ArrayNode data = root.putArray("data");
        for (int i = 0; i < vectors.length; i++) {
            ArrayNode v = data.addObject().put("index", i).put("tokens", counts[i]).putArray("embedding");
            for (float x : vectors[i]) v.add(x);
        }
        out.println(root);
    }
}
