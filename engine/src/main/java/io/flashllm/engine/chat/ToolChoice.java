package io.flashllm.engine.chat;

import io.flashllm.engine.api.ChatTool;
import java.util.List;

/** The API's {@code tool_choice} as the formats' grammars take it: "auto", "required", or one function's name. */
final class ToolChoice {
    static final String AUTO = "auto";
    static final String REQUIRED = "required";

    private ToolChoice() {}

    /** The tools a call may name under {@code choice}. */
    static List<ChatTool> callable(List<ChatTool> tools, String choice) {
        if (choice.equals(AUTO) || choice.equals(REQUIRED)) return tools;
        return tools.stream().filter(t -> t.name().equals(choice)).toList();
    }
}
