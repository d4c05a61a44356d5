package cgap.models.chat;

import java.util.Objects;

/** One turn of a conversation: role is "system", "user" or "assistant" (templates may accept others). */
public record ChatMessage(String role, String content) {
    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }
}
