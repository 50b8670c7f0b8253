package io.flashllm.engine.chat;

import io.flashllm.engine.api.ChatMessage;
import io.flashllm.engine.api.Reasoning;
import java.util.ArrayList;
import java.util.List;

/**
 * A chat format whose model thinks before it answers, as its own template does it: earlier replies go
 * back without their thinking; the reply's opener holds the opening tag where the model's template puts
 * it there (DeepSeek R1, QwQ); and thinking turned off closes an empty thinking block right away, which
 * is Qwen3's own switch ({@code enable_thinking=false}) and makes the other thinking models answer
 * directly too.
 */
final class ThinkingTemplate implements ChatTemplate {
    private final String id;
    private final ChatTemplate base;
    private final Reasoning reasoning;

    ThinkingTemplate(String id, ChatTemplate base, Reasoning reasoning) {
        this.id = id;
        this.base = base;
        this.reasoning = reasoning;
    }

    /** DeepSeek R1's format; {@code opens}: its reply opener holds {@code <think>} (newer revisions). */
    static ThinkingTemplate deepseekR1(boolean opens) {
        return new ThinkingTemplate("deepseek-r1", BuiltinTemplate.DEEPSEEK_R1, Reasoning.thinkTags(opens));
    }

    /** ChatML for Qwen3 (the model opens its thinking) or QwQ ({@code opens}: the reply opener does). */
    static ThinkingTemplate chatml(boolean opens) {
        return new ThinkingTemplate(opens ? "chatml-think" : "qwen3", BuiltinTemplate.CHATML, Reasoning.thinkTags(opens));
    }

    @Override
    public String id() {
        return id;
    }

    @Override
    public Reasoning reasoning() {
        return reasoning;
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addAssistantPrompt) {
        return render(messages, addAssistantPrompt, true);
    }

    @Override
    public String render(List<ChatMessage> messages, boolean addAssistantPrompt, boolean think) {
        List<ChatMessage> past = new ArrayList<>(messages.size());
        for (ChatMessage m : messages) {
            boolean reply = m.content() != null && "assistant".equals(BuiltinTemplate.role(m));
            past.add(reply ? new ChatMessage(m.role(), reasoning.answerOf(m.content())) : m);
        }
        String prompt = base.render(past, addAssistantPrompt);
        if (!addAssistantPrompt) return prompt;
        if (!think) return prompt + reasoning.open() + "\n\n" + reasoning.close() + "\n\n";
        return reasoning.promptOpens() ? prompt + reasoning.open() + "\n" : prompt;
    }

    @Override
    public List<String> stopStrings() {
        return base.stopStrings();
    }
}
