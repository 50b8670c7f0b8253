package io.flashllm.engine.chat;

import io.flashllm.engine.api.ChatMessage;
import java.util.List;

/** The chat formats flashllm knows. */
public enum BuiltinTemplate implements ChatTemplate {
    /** Llama 2 chat: {@code [INST] <<SYS>>\nsys\n<</SYS>>\n\nuser [/INST] answer </s><s>[INST] ...}. */
    LLAMA2("llama2", List.of("</s>")) {
        @Override
        public String render(List<ChatMessage> messages, boolean addAssistantPrompt) {
            StringBuilder sb = new StringBuilder();
            String system = null;
            boolean first = true;
            for (ChatMessage m : messages) {
                switch (role(m)) {
                    case "system" -> system = system == null ? m.content() : system + "\n" + m.content();
                    case "assistant" -> {
                        sb.append(' ').append(m.content().strip()).append(" </s>");
                        first = false;
                    }
                    default -> {
                        if (!first) sb.append("<s>");
                        sb.append("[INST] ");
                        if (system != null) {
                            sb.append("<<SYS>>\n").append(system.strip()).append("\n<</SYS>>\n\n");
                            system = null;
                        }
                        sb.append(m.content().strip()).append(" [/INST]");
                        first = false;
                    }
                }
            }
            if (system != null) {
                // A system prompt with no user turn after it still reaches the model.
                if (!first) sb.append("<s>");
                sb.append("[INST] <<SYS>>\n").append(system.strip()).append("\n<</SYS>>\n\n [/INST]");
            }
            return sb.toString();
        }
    },
    /**
     * Llama 3: {@code <|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>}; with tools, Llama 3.1's
     * function calling ({@link Llama3ToolCalls}).
     */
    LLAMA3("llama3", List.of("<|eot_id|>", "<|eom_id|>")) {
        @Override
        public String render(List<ChatMessage> messages, boolean addAssistantPrompt) {
            return turns(messages, addAssistantPrompt, "<|start_header_id|>", "<|end_header_id|>\n\n", "<|eot_id|>", true);
        }

        @Override
        public String render(List<ChatMessage> messages, boolean addAssistantPrompt, boolean think, String effort,
                             List<io.flashllm.engine.api.ChatTool> tools) {
            return render(Llama3ToolCalls.inline(messages, tools), addAssistantPrompt);
        }

        @Override
        public io.flashllm.engine.api.ToolCallFormat toolCalls() {
            return Llama3ToolCalls.INSTANCE;
        }
    },
    /** ChatML (Qwen, many fine-tunes): {@code <|im_start|>role\ncontent<|im_end|>\n}. */
    CHATML("chatml", List.of("<|im_end|>")) {
        @Override
        public String render(List<ChatMessage> messages, boolean addAssistantPrompt) {
            return turns(messages, addAssistantPrompt, "<|im_start|>", "\n", "<|im_end|>\n", false);
        }
    },
    /**
     * Mistral instruct: {@code [INST] user [/INST]answer</s>[INST] ...}; there is no system block, so a system
     * prompt goes in front of the first user message.
     */
    MISTRAL("mistral", List.of("</s>")) {
        @Override
        public String render(List<ChatMessage> messages, boolean addAssistantPrompt) {
            StringBuilder sb = new StringBuilder();
            String system = null;
            for (ChatMessage m : messages) {
                switch (role(m)) {
                    case "system" -> system = system == null ? m.content().strip() : system + "\n\n" + m.content().strip();
                    case "assistant" -> sb.append(m.content().strip()).append("</s>");
                    default -> {
                        sb.append("[INST] ");
                        if (system != null) {
                            sb.append(system).append("\n\n");
                            system = null;
                        }
                        sb.append(m.content().strip()).append(" [/INST]");
                    }
                }
            }
            if (system != null) {
                sb.append("[INST] ").append(system).append(" [/INST]");
            }
            return sb.toString();
        }
    },
    /** Gemma: {@code <start_of_turn>user\n...<end_of_turn>\n<start_of_turn>model\n}; the system prompt joins the first user turn. */
    GEMMA("gemma", List.of("<end_of_turn>")) {
        @Override
        public String render(List<ChatMessage> messages, boolean addAssistantPrompt) {
            StringBuilder sb = new StringBuilder();
            String system = null;
            for (ChatMessage m : messages) {
                String role = role(m);
                if (role.equals("system")) {
                    system = system == null ? m.content().strip() : system + "\n\n" + m.content().strip();
                    continue;
                }
                boolean assistant = role.equals("assistant");
                sb.append("<start_of_turn>").append(assistant ? "model" : "user").append('\n');
                if (!assistant && system != null) {
                    sb.append(system).append("\n\n");
                    system = null;
                }
                sb.append(m.content().strip()).append("<end_of_turn>\n");
            }
            if (system != null) {
                sb.append("<start_of_turn>user\n").append(system).append("<end_of_turn>\n");
            }
            if (addAssistantPrompt) {
                sb.append("<start_of_turn>model\n");
            }
            return sb.toString();
        }
    },
    /** Phi-3: {@code <|role|>\ncontent<|end|>\n}, ending with {@code <|assistant|>\n}. */
    PHI3("phi3", List.of("<|end|>")) {
        @Override
        public String render(List<ChatMessage> messages, boolean addAssistantPrompt) {
            return turns(messages, addAssistantPrompt, "<|", "|>\n", "<|end|>\n", false);
        }
    },
    /** Phi-4: ChatML with {@code <|im_sep|>} after the role and no newlines: {@code <|im_start|>role<|im_sep|>content<|im_end|>}. */
    PHI4("phi4", List.of("<|im_end|>")) {
        @Override
        public String render(List<ChatMessage> messages, boolean addAssistantPrompt) {
            return turns(messages, addAssistantPrompt, "<|im_start|>", "<|im_sep|>", "<|im_end|>", false);
        }
    },
    /** Zephyr: {@code <|role|>\ncontent</s>\n}, ending with {@code <|assistant|>\n}. */
    ZEPHYR("zephyr", List.of("</s>")) {
        @Override
        public String render(List<ChatMessage> messages, boolean addAssistantPrompt) {
            return turns(messages, addAssistantPrompt, "<|", "|>\n", "</s>\n", false);
        }
    },
    /**
     * DeepSeek R1 and its distills: the system prompt first, bare, then {@code <｜User｜>question} and
     * {@code <｜Assistant｜>answer<｜end▁of▁sentence｜>}, ending with {@code <｜Assistant｜>}. The bars are
     * full-width (U+FF5C) and the spaces U+2581, as in the model's vocabulary.
     */
    DEEPSEEK_R1("deepseek-r1", List.of(DeepSeek.END)) {
        @Override
        public String render(List<ChatMessage> messages, boolean addAssistantPrompt) {
            StringBuilder system = new StringBuilder();
            StringBuilder turns = new StringBuilder();
            for (ChatMessage m : messages) {
                switch (role(m)) {
                    case "system" -> system.append(system.isEmpty() ? "" : "\n\n").append(m.content());
                    case "assistant" -> turns.append(DeepSeek.ASSISTANT).append(m.content()).append(DeepSeek.END);
                    default -> turns.append(DeepSeek.USER).append(m.content());
                }
            }
            if (addAssistantPrompt) turns.append(DeepSeek.ASSISTANT);
            return system.append(turns).toString();
        }
    };

    /** DeepSeek's turn markers. */
    static final class DeepSeek {
        static final String USER = "<\uFF5CUser\uFF5C>";
        static final String ASSISTANT = "<\uFF5CAssistant\uFF5C>";
        static final String END = "<\uFF5Cend\u2581of\u2581sentence\uFF5C>";

        private DeepSeek() {}
    }

    private final String name;
    private final List<String> stops;

    BuiltinTemplate(String name, List<String> stops) {
        this.name = name;
        this.stops = stops;
    }

    @Override
    public String id() {
        return name;
    }

    @Override
    public List<String> stopStrings() {
        return stops;
    }

    /**
     * The plain one-block-per-message shape: {@code open + role + afterRole + content + close} for each message
     * (content stripped if {@code strip}), then {@code open + "assistant" + afterRole} when asked to prompt the reply.
     */
    static String turns(List<ChatMessage> messages, boolean addAssistantPrompt, String open, String afterRole,
            String close, boolean strip) {
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            String role = role(m);
            sb.append(open).append(role).append(afterRole).append(strip ? m.content().strip() : m.content()).append(close);
        }
        if (addAssistantPrompt) {
            sb.append(open).append("assistant").append(afterRole);
        }
        return sb.toString();
    }

    /**
     * The role in lower case; "developer" (OpenAI's newer name) means system, null means user. Llama 2 and Mistral
     * have no other roles and render anything but system and assistant as a user turn.
     */
    static String role(ChatMessage m) {
        if (m.content() == null) {
            throw new IllegalArgumentException("chat message with role '" + m.role() + "' has no content");
        }
        String r = m.role() == null ? "user" : m.role().strip().toLowerCase(java.util.Locale.ROOT);
        return r.equals("developer") ? "system" : r;
    }

    public static BuiltinTemplate byName(String name) {
        for (BuiltinTemplate t : values()) {
            if (t.name.equalsIgnoreCase(name)) return t;
        }
        StringBuilder known = new StringBuilder();
        for (BuiltinTemplate t : values()) {
            known.append(known.isEmpty() ? "" : ", ").append(t.name);
        }
        throw new IllegalArgumentException("unknown chat template '" + name + "' (known: " + known + ")");
    }
}
