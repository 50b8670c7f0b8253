package io.flashllm.engine.tokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A vocabulary made by {@link VocabBuilder}, convertible to GGUF metadata ({@link #ggufMetadata()}) and to Hugging
 * Face files ({@link #tokenizerJson()}, {@link #tokenizerConfigJson()}, {@link #writeHfFiles(Path)}).
 */
public final class BuiltVocab {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Jinja templates written for these vocabularies (only ever searched for markers by flashllm, never run). */
    static final String CHATML_TEMPLATE = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n'"
            + " + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    static final String LLAMA2_TEMPLATE = "{{ bos_token }}{% for message in messages %}"
            + "{% if message['role'] == 'system' %}{{ '<<SYS>>\\n' + message['content'] + '\\n<</SYS>>\\n\\n' }}"
            + "{% elif message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
            + "{% else %}{{ ' ' + message['content'] + ' ' + eos_token }}{% endif %}{% endfor %}";
    static final String LLAMA3_TEMPLATE = "{{ bos_token }}{% for message in messages %}"
            + "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + (message['content'] | trim)"
            + " + '<|eot_id|>' }}{% endfor %}"
            + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";

    /** gpt-oss's harmony format, its markers as its template writes them. */
    static final String HARMONY_TEMPLATE = "{{- '<|start|>system<|message|>' + system + '<|end|>' }}{%- for message in messages %}"
            + "{{- '<|start|>' + message['role'] + '<|message|>' + message['content'] + '<|end|>' }}{%- endfor %}"
            + "{%- if add_generation_prompt %}{{- '<|start|>assistant' }}{%- endif %}"
            + "{#- replies: '<|channel|>analysis<|message|>...<|end|><|start|>assistant<|channel|>final<|message|>...' #}";

    private final VocabBuilder.Style style;
    private final List<String> tokens;
    private final int[] types;
    private final float[] scores;
    private final List<String> merges;
    private final int bos;
    private final int eos;
    private final int unk;

    private BuiltVocab(VocabBuilder.Style style, List<String> tokens, List<Integer> types, float[] scores,
            List<String> merges, int bos, int eos, int unk) {
        this.style = style;
        this.tokens = List.copyOf(tokens);
        this.types = types.stream().mapToInt(Integer::intValue).toArray();
        this.scores = scores;
        this.merges = List.copyOf(merges);
        this.bos = bos;
        this.eos = eos;
        this.unk = unk;
    }

    static BuiltVocab spm(List<String> tokens, List<Integer> types) {
        float[] scores = new float[tokens.size()];
        int rank = 0;
        for (int i = 0; i < tokens.size(); i++) {
            scores[i] = types.get(i) == TokenType.NORMAL ? -(rank++) : 0f;
        }
        return new BuiltVocab(VocabBuilder.Style.SPM, tokens, types, scores, List.of(),
                tokens.indexOf("<s>"), tokens.indexOf("</s>"), tokens.indexOf("<unk>"));
    }

    static BuiltVocab byteLevel(VocabBuilder.Style style, List<String> tokens, List<Integer> types, List<String> merges) {
        float[] scores = new float[tokens.size()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = -i;
        }
        int bos = tokens.indexOf(switch (style) {
            case GPT2 -> "<|endoftext|>";
            case HARMONY -> "<|startoftext|>";
            default -> "<|begin_of_text|>";
        });
        int eos = tokens.indexOf(switch (style) {
            case GPT2 -> "<|endoftext|>";
            case HARMONY -> "<|return|>";
            default -> "<|end_of_text|>";
        });
        return new BuiltVocab(style, tokens, types, scores, merges, bos, eos, -1);
    }

    public VocabBuilder.Style style() {
        return style;
    }

    public int size() {
        return tokens.size();
    }

    public List<String> tokens() {
        return tokens;
    }

    public int bos() {
        return bos;
    }

    public int eos() {
        return eos;
    }

    /** Whether encoding with special tokens puts BOS in front (SentencePiece and Llama 3 yes, GPT-2 and gpt-oss no). */
    public boolean addBos() {
        return style != VocabBuilder.Style.GPT2 && style != VocabBuilder.Style.HARMONY;
    }

    public String chatTemplate() {
        return switch (style) {
            case SPM -> LLAMA2_TEMPLATE;
            case GPT2 -> CHATML_TEMPLATE;
            case LLAMA3 -> LLAMA3_TEMPLATE;
            case HARMONY -> HARMONY_TEMPLATE;
        };
    }

    /**
     * The {@code tokenizer.*} GGUF metadata. Value types follow the GGUF reader's mapping: Long for u32 ids,
     * Integer for i32 token types, Float for f32 scores, Boolean, String, and Lists for arrays.
     */
    public Map<String, Object> ggufMetadata() {
        Map<String, Object> md = new LinkedHashMap<>();
        boolean spm = style == VocabBuilder.Style.SPM;
        md.put("tokenizer.ggml.model", spm ? "llama" : "gpt2");
        md.put("tokenizer.ggml.pre", switch (style) {
            case SPM -> "default";
            case GPT2 -> "gpt-2"; // llama.cpp's spelling: it refuses "gpt2"
            case LLAMA3 -> "llama-bpe";
            case HARMONY -> "gpt-4o";
        });
        md.put("tokenizer.ggml.tokens", tokens);
        List<Float> sc = new ArrayList<>(scores.length);
        for (float f : scores) sc.add(f);
        md.put("tokenizer.ggml.scores", sc);
        List<Integer> ty = new ArrayList<>(types.length);
        for (int t : types) ty.add(t);
        md.put("tokenizer.ggml.token_type", ty);
        if (!spm) {
            md.put("tokenizer.ggml.merges", merges);
        }
        md.put("tokenizer.ggml.bos_token_id", (long) bos);
        md.put("tokenizer.ggml.eos_token_id", (long) eos);
        if (unk >= 0) {
            md.put("tokenizer.ggml.unknown_token_id", (long) unk);
        }
        if (style == VocabBuilder.Style.LLAMA3) {
            md.put("tokenizer.ggml.eot_token_id", (long) tokens.indexOf("<|eot_id|>"));
        }
        md.put("tokenizer.ggml.add_bos_token", addBos());
        md.put("tokenizer.ggml.add_eos_token", false);
        md.put("tokenizer.ggml.add_space_prefix", spm);
        md.put("tokenizer.chat_template", chatTemplate());
        return md;
    }

    /** An equivalent Hugging Face {@code tokenizer.json} (BPE model). */
    public String tokenizerJson() {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (int i = 0; i < tokens.size(); i++) {
            if (types[i] == TokenType.CONTROL || types[i] == TokenType.UNKNOWN) {
                added.addObject().put("id", i).put("content", tokens.get(i)).put("single_word", false)
                        .put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
            }
        }
        boolean spm = style == VocabBuilder.Style.SPM;
        if (spm) {
            // Llama 2 layout: "▁" in front of every text segment, spaces to "▁", the whole segment one BPE word.
            ObjectNode norm = root.putObject("normalizer").put("type", "Sequence");
            ArrayNode ns = norm.putArray("normalizers");
            ns.addObject().put("type", "Prepend").put("prepend", "\u2581");
            ObjectNode rep = ns.addObject().put("type", "Replace");
            rep.putObject("pattern").put("String", " ");
            rep.put("content", "\u2581");
            root.putNull("pre_tokenizer");
        } else {
            root.putNull("normalizer");
            if (style == VocabBuilder.Style.GPT2) {
                root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false)
                        .put("trim_offsets", true).put("use_regex", true);
            } else {
                ObjectNode seq = root.putObject("pre_tokenizer").put("type", "Sequence");
                ArrayNode ps = seq.putArray("pretokenizers");
                ObjectNode split = ps.addObject().put("type", "Split");
                split.putObject("pattern").put("Regex", (style == VocabBuilder.Style.HARMONY ? PreTokenizer.GPT4O
                        : PreTokenizer.LLAMA3).regex());
                split.put("behavior", "Isolated").put("invert", false);
                ps.addObject().put("type", "ByteLevel").put("add_prefix_space", false)
                        .put("trim_offsets", true).put("use_regex", false);
            }
        }
        if (addBos()) {
            String b = tokens.get(bos);
            ObjectNode pp = root.putObject("post_processor").put("type", "TemplateProcessing");
            ArrayNode single = pp.putArray("single");
            single.addObject().putObject("SpecialToken").put("id", b).put("type_id", 0);
            single.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            ArrayNode pair = pp.putArray("pair");
            pair.addObject().putObject("SpecialToken").put("id", b).put("type_id", 0);
            pair.addObject().putObject("Sequence").put("id", "A").put("type_id", 0);
            pair.addObject().putObject("SpecialToken").put("id", b).put("type_id", 1);
            pair.addObject().putObject("Sequence").put("id", "B").put("type_id", 1);
            ObjectNode st = pp.putObject("special_tokens").putObject(b);
            st.put("id", b);
            st.putArray("ids").add(bos);
            st.putArray("tokens").add(b);
        } else {
            root.putObject("post_processor").put("type", "ByteLevel").put("add_prefix_space", true)
                    .put("trim_offsets", false).put("use_regex", true);
        }
        if (spm) {
            ObjectNode dec = root.putObject("decoder").put("type", "Sequence");
            ArrayNode ds = dec.putArray("decoders");
            ObjectNode rep = ds.addObject().put("type", "Replace");
            rep.putObject("pattern").put("String", "\u2581");
            rep.put("content", " ");
            ds.addObject().put("type", "ByteFallback");
            ds.addObject().put("type", "Fuse");
            ds.addObject().put("type", "Strip").put("content", " ").put("start", 1).put("stop", 0);
        } else {
            root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true)
                    .put("trim_offsets", true).put("use_regex", true);
        }
        ObjectNode model = root.putObject("model").put("type", "BPE");
        model.putNull("dropout");
        if (spm) {
            model.put("unk_token", "<unk>");
        } else {
            model.putNull("unk_token");
        }
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", spm);
        model.put("byte_fallback", spm);
        model.put("ignore_merges", style == VocabBuilder.Style.LLAMA3);
        ObjectNode vocab = model.putObject("vocab");
        for (int i = 0; i < tokens.size(); i++) {
            vocab.put(tokens.get(i), i);
        }
        ArrayNode m = model.putArray("merges");
        for (String merge : spm ? spmMerges() : merges) {
            m.add(merge);
        }
        try {
            return JSON.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * SentencePiece merges any two adjacent symbols that form a piece, best score first. As BPE merges that is
     * every split of every piece into two pieces, ranked by the score of the piece they form.
     */
    List<String> spmMerges() {
        Map<String, Integer> normal = new HashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            if (types[i] == TokenType.NORMAL) normal.put(tokens.get(i), i);
        }
        List<Integer> order = new ArrayList<>(normal.values());
        order.sort((a, b) -> scores[a] != scores[b] ? Float.compare(scores[b], scores[a]) : Integer.compare(a, b));
        List<String> out = new ArrayList<>();
        for (int id : order) {
            String t = tokens.get(id);
            for (int i = t.offsetByCodePoints(0, 1); i < t.length(); i = t.offsetByCodePoints(i, 1)) {
                String l = t.substring(0, i), r = t.substring(i);
                if (normal.containsKey(l) && normal.containsKey(r)) {
                    out.add(l + " " + r);
                }
            }
        }
        return out;
    }

    /** A {@code tokenizer_config.json} naming the special tokens and the chat template. */
    public String tokenizerConfigJson() {
        ObjectNode tc = JSON.createObjectNode();
        tc.put("add_bos_token", addBos());
        tc.put("add_eos_token", false);
        tc.put("bos_token", tokens.get(bos));
        tc.put("eos_token", tokens.get(eos));
        if (unk >= 0) {
            tc.put("unk_token", tokens.get(unk));
        }
        tc.put("clean_up_tokenization_spaces", false);
        tc.put("model_max_length", 1_000_000);
        tc.put("tokenizer_class", style == VocabBuilder.Style.SPM ? "LlamaTokenizerFast" : "PreTrainedTokenizerFast");
        tc.put("chat_template", chatTemplate());
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(tc);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes tokenizer.json and tokenizer_config.json into {@code dir}. */
    public void writeHfFiles(Path dir) {
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve("tokenizer.json"), tokenizerJson());
            Files.writeString(dir.resolve("tokenizer_config.json"), tokenizerConfigJson());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
