package io.flashllm.engine.chat;

import io.flashllm.engine.api.ChatMessage;
import io.flashllm.engine.api.Reasoning;
import java.time.Clock;
import java.time.LocalDate;
import java.util.List;

/**
 * OpenAI's harmony format (gpt-oss), as its chat template renders a conversation without tools: a system
 * message naming the model, its knowledge cutoff, today's date, the reasoning effort and the valid channels;
 * the user's system prompt as the developer's instructions; each turn {@code <|start|>role<|message|>text<|end|>};
 * earlier replies as their final channel only (their analysis dropped); the reply opened with
 * {@code <|start|>assistant}. The model then writes {@code <|channel|>analysis<|message|>} its thinking,
 * {@code <|end|><|start|>assistant<|channel|>final<|message|>} and its answer, ending with {@code <|return|>}.
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
    static final Reasoning REASONING = new Reasoning(CHANNEL + "analysis" + MESSAGE, FINAL, false, FINAL_CHANNEL);

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
        if (effort != null && !EFFORTS.contains(effort)) {
            throw new IllegalArgumentException("reasoning effort must be low, medium or high, got " + effort);
        }
        String level = effort != null ? effort : think ? "medium" : "low";
        StringBuilder sb = new StringBuilder();
        sb.append(START).append("system").append(MESSAGE)
                .append("You are ChatGPT, a large language model trained by OpenAI.\n")
                .append("Knowledge cutoff: 2024-06\n")
                .append("Current date: ").append(LocalDate.now(clock)).append("\n\n")
                .append("Reasoning: ").append(level).append("\n\n")
                .append("# Valid channels: analysis, commentary, final. Channel must be included for every message.")
                .append(END);
        StringBuilder instructions = new StringBuilder();
        for (ChatMessage m : messages) {
            if (BuiltinTemplate.role(m).equals("system")) {
                instructions.append(instructions.isEmpty() ? "" : "\n\n").append(m.content());
            }
        }
        if (!instructions.isEmpty()) {
            sb.append(START).append("developer").append(MESSAGE).append("# Instructions\n\n").append(instructions)
                    .append("\n\n").append(END);
        }
        for (ChatMessage m : messages) {
            switch (BuiltinTemplate.role(m)) {
                case "system" -> { }
                case "assistant" -> sb.append(FINAL).append(answerOf(m.content())).append(END);
                default -> sb.append(START).append(BuiltinTemplate.role(m)).append(MESSAGE).append(m.content()).append(END);
            }
        }
        if (addAssistantPrompt) sb.append(START).append("assistant");
        return sb.toString();
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
