import com.fasterxml.jackson.databind.ObjectMapper;
import io.flashllm.engine.tokenizer.Tokenizer;
import io.flashllm.engine.tokenizer.Tokenizers;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Token ids of a text file under a Hugging Face model directory's tokenizer, as little-endian int32.
 *
 * <pre>java -cp flashllm.jar Tokenize.java MODEL_DIR TEXT OUT [--corpus]</pre>
 *
 * Default: the whole text in one call with BOS, as {@code flashllm perplexity} tokenizes it. With
 * {@code --corpus}: paragraphs of about 4,000 characters, no BOS (training text of any size).
 */
public class Tokenize {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Tokenizer t = Tokenizers.fromHfDirBuiltin(dir, new ObjectMapper().readTree(dir.resolve("config.json").toFile()));
        String text = Files.readString(Path.of(args[1]));
        boolean corpus = args.length > 3 && args[3].equals("--corpus");
        long n = 0;
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(Path.of(args[2]))))) {
            if (!corpus) {
                n = write(out, t.encode(text, true));
            } else {
                StringBuilder part = new StringBuilder();
                for (String p : text.split("\n\n")) {
                    part.append(p).append("\n\n");
                    if (part.length() < 4000) continue;
                    n += write(out, t.encode(part.toString(), false, false));
                    part.setLength(0);
                }
                n += write(out, t.encode(part.toString(), false, false));
            }
        }
        System.out.printf("%s: %,d tokens from %,d characters%n", args[2], n, text.length());
    }

    private static int write(DataOutputStream out, int[] ids) throws java.io.IOException {
        for (int id : ids) out.writeInt(Integer.reverseBytes(id));
        return ids.length;
    }
}
