package cgap.models.chat;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import cgap.models.tokenizer.Goldens;
import cgap.models.tokenizer.Tokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Rendered prompts identical to transformers' apply_chat_template(tokenize=False). */
class ChatTemplateGoldenTest {

    static Stream<String> templated() {
        return Stream.of("llama3", "gemma3", "qwen3", "tiny-bytelevel", "tiny-metaspace");
    }

    static ChatTemplate template(String name) {
        JsonNode golden = Goldens.golden(name);
        LocalDateTime now = LocalDateTime.parse(golden.get("fixed_now").asText());
        Clock clock = Clock.fixed(now.toInstant(ZoneOffset.UTC), ZoneOffset.UTC);
        return ChatTemplate.load(Goldens.tokenizerDir(name), clock).orElseThrow();
    }

    static List<ChatMessage> messages(JsonNode json) {
        List<ChatMessage> messages = new ArrayList<>();
        json.forEach(m -> messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText())));
        return messages;
    }

    @ParameterizedTest
    @MethodSource("templated")
    void rendersAsTransformers(String name) {
        ChatTemplate template = template(name);
        Tokenizer tokenizer = Goldens.tokenizer(name);
        JsonNode cases = Goldens.golden(name).get("chat");
        assertTrue(cases.size() >= 6);
        for (JsonNode c : cases) {
            String label = name + " " + c.get("name").asText() + " generation_prompt=" + c.get("add_generation_prompt");
            String text = template.render(messages(c.get("messages")), c.get("add_generation_prompt").asBoolean());
            assertEquals(c.get("text").asText(), text, label);
            assertArrayEquals(Goldens.ids(c.get("ids")), tokenizer.encode(text, false), label + " ids");
        }
    }

    @ParameterizedTest
    @MethodSource("templated")
    void templateErrorsCarryTheTemplatesMessage(String name) {
        ChatTemplate template = template(name);
        for (JsonNode c : Goldens.golden(name).get("chat_errors")) {
            ChatTemplateException e = assertThrows(ChatTemplateException.class,
                    () -> template.render(messages(c.get("messages")), false));
            assertTrue(e.getMessage().contains(c.get("message").asText()), e.getMessage());
            assertTrue(e.getMessage().contains("line "), e.getMessage());
        }
    }
}
