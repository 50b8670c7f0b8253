package io.flashllm.engine.chat;

import io.flashllm.engine.api.ChatMessage;
import io.flashllm.engine.api.ChatTool;
import io.flashllm.engine.api.Reasoning;
import io.flashllm.engine.api.ToolCall;
import io.flashllm.engine.api.ToolCallFormat;
import java.time.Clock;
import java.time.LocalDate;
import java.util.List;

/**
 * OpenAI's harmony format (gpt-oss), as its chat template renders a conversation: a system message naming the
 * model, its knowledge cutoff, today's date, the reasoning effort and the valid channels; the user's system prompt
 * as the developer's instructions, followed by the tools ({@link HarmonyToolCalls}); each turn
 * {@code <|start|>role<|message|>text<|end|>}; earlier replies as their final channel only (their analysis dropped),
 * earlier calls as messages to their function, results as messages from it; the reply opened with
 * {@code <|start|>assistant}. The model then writes {@code <|channel|>analysis<|message|>} its thinking,
 * {@code <|end|><|start|>assistant<|channel|>final<|message|>} and its answer, ending with {@code <|return|>}, or,
 * instead of the answer, a call ending with {@code <|call|>}.
 *
 * <p>gpt-oss always reasons, at the effort the system message states: a request's own (low, medium, high), else
 * medium, and low with thinking turned off.
 */
final class HarmonyTemplate implements ChatTemplate {
    static final String START = "<|start|>";
    static final String MESSAGE = "<|message|>";
    static final String END = "<|end|>";
    static final String CHANNEL = "<|channel|>";
    /** The final channel's opener, and what opens the final answer after the analysis. */
    static final String FINAL_CHANNEL = CHANNEL + "final" + MESSAGE;
    static final String FINAL = START + "assistant" + FINAL_CHANNEL;
    /**
     * The analysis ends where the model's next message starts: its final answer (whose channel opener is dropped)
     * or a call.
     */
    static final Reasoning REASONING = new Reasoning(CHANNEL + "analysis" + MESSAGE, START + "assistant", false, FINAL_CHANNEL);

    /** The reasoning efforts gpt-oss was trained with. */
    static final java.util.Set<String> EFFORTS = java.util.Set.of("low", "medium", "high");

    private final Clock clock;

    HarmonyTemplate(Clock clock) {
        this.clock = clock;
    }

    @Override
    public String id() {
        return "harmony";
    }

    @Override
    public Reasoning reasoning() {
        return REASONING;
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addAssistantPrompt) {
        return render(messages, addAssistantPrompt, true);
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addAssistantPrompt, boolean think) {
        return render(messages, addAssistantPrompt, think, null);
    }

    /** With {@code effort} ("low", "medium", "high") the system message states it; null: medium, low with thinking off. */
    @Override
    public String render(List<ChatMessage> messages, boolean addAssistantPrompt, boolean think, String effort) {
        return render(messages, addAssistantPrompt, think, effort, List.of());
    }

    @Override
    public ToolCallFormat toolCalls() {
        return HarmonyToolCalls.INSTANCE;
    }

    /**
     * A call's turn keeps its thinking (its reasoning, else its words) as analysis until a final answer follows, as
     * gpt-oss's chat template does: the model goes on from its own reasoning after the result comes back.
     */
    @Override
    public String render(List<ChatMessage> messages, boolean addAssistantPrompt, boolean think, String effort,
                         List<ChatTool> tools) {
        if (effort != null && !EFFORTS.contains(effort)) {
            throw new IllegalArgumentException("reasoning effort must be low, medium or high, got " + effort);
        }
        if (tools == null) tools = List.of();
        String level = effort != null ? effort : think ? "medium" : "low";
        StringBuilder sb = new StringBuilder();
        sb.append(START).append("system").append(MESSAGE)
                .append("You are ChatGPT, a large language model trained by OpenAI.\n")
                .append("Knowledge cutoff: 2024-06\n")
                .append("Current date: ").append(LocalDate.now(clock)).append("\n\n")
                .append("Reasoning: ").append(level).append("\n\n")
                .append("# Valid channels: analysis, commentary, final. Channel must be included for every message.")
                .append(tools.isEmpty() ? "" : "\nCalls to these tools must go to the commentary channel: 'functions'.")
                .append(END);
        StringBuilder instructions = new StringBuilder();
        for (ChatMessage m : messages) {
            if (BuiltinTemplate.role(m).equals("system")) {
                instructions.append(instructions.isEmpty() ? "" : "\n\n").append(m.content());
            }
        }
        if (!instructions.isEmpty() || !tools.isEmpty()) {
            sb.append(START).append("developer").append(MESSAGE);
            if (!instructions.isEmpty()) sb.append("# Instructions\n\n").append(instructions).append("\n\n");
            if (!tools.isEmpty()) sb.append("# Tools\n\n").append(HarmonyToolCalls.namespace(tools));
            sb.append(END);
        }
        String lastCalled = null;
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            switch (BuiltinTemplate.role(m)) {
                case "system" -> { }
                case "assistant" -> {
                    if (m.toolCalls().isEmpty()) {
                        sb.append(FINAL).append(answerOf(m.content())).append(END);
                        continue;
                    }
                    String thought = m.reasoning() != null && !m.reasoning().isEmpty() ? m.reasoning() : m.content();
                    if (!thought.isEmpty() && !answeredAfter(messages, i)) {
                        sb.append(START).append("assistant").append(CHANNEL).append("analysis").append(MESSAGE)
                                .append(thought).append(END);
                    }
                    for (ToolCall c : m.toolCalls()) {
                        sb.append(HarmonyToolCalls.render(c));
                        lastCalled = c.name();
                    }
                }
                case "tool" -> {
                    String name = m.toolName() != null ? m.toolName() : lastCalled;
                    if (name == null) {
                        throw new IllegalArgumentException("a tool result must follow an assistant turn that called a function");
                    }
                    sb.append(START).append("functions.").append(name).append(" to=assistant").append(CHANNEL)
                            .append("commentary").append(MESSAGE).append(m.content()).append(END);
                }
                default -> sb.append(START).append(BuiltinTemplate.role(m)).append(MESSAGE).append(m.content()).append(END);
            }
        }
        if (addAssistantPrompt) sb.append(START).append("assistant");
        return sb.toString();
    }

    /** Whether an assistant turn without calls (a final answer) comes after message {@code i}. */
    private static boolean answeredAfter(List<ChatMessage> messages, int i) {
        for (ChatMessage later : messages.subList(i + 1, messages.size())) {
            if ("assistant".equals(BuiltinTemplate.role(later)) && later.toolCalls().isEmpty()) return true;
        }
        return false;
    }

    /** An earlier reply as it goes back: its final answer, whether it came back with its channels or as plain text. */
    private static String answerOf(String reply) {
        int at = reply.lastIndexOf(FINAL_CHANNEL);
        return at < 0 ? reply : reply.substring(at + FINAL_CHANNEL.length());
    }

    /** {@code <|return|>} ends the reply, {@code <|call|>} a tool call (both end of generation in the vocabulary). */
    @Override
    public List<String> stopStrings() {
        return List.of("<|return|>", "<|call|>");
    }
}
