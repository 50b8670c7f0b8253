/**
 * Chat prompt formats written in Java and chosen by recognising a model's Jinja template (never run). Start at
 * {@link io.flashllm.engine.chat.ChatTemplates}.
 */
package io.flashllm.engine.chat;
