package cgap.models.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import cgap.models.tokenizer.Goldens;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading rules, the engine's jinja2 configuration and error messages. */
class ChatTemplateTest {
    @TempDir
    Path tmp;

    private static final Clock FIXED = Clock.fixed(Instant.parse("2025-02-03T04:05:06Z"), ZoneOffset.UTC);
    private static final List<ChatMessage> HI = List.of(new ChatMessage("user", "Hi"));

    private static String render(String source, List<ChatMessage> messages, boolean generationPrompt) {
        return ChatTemplate.of("test", source, Map.of("bos_token", "<s>"), FIXED).render(messages, generationPrompt);
    }

    /** Whitespace-control and syntax corner cases rendered by transformers' jinja2 (jinja-cases.json). */
    @Test
    void cornerCasesRenderAsJinja2() throws IOException {
        JsonNode golden = new ObjectMapper().readTree(Goldens.fixtures().resolve("jinja-cases.json").toFile());
        Map<String, String> tokens = Map.of("bos_token", golden.get("bos_token").asText());
        List<String> mismatches = new ArrayList<>();
        for (JsonNode c : golden.get("cases")) {
            String source = c.get("source").asText();
            String text = ChatTemplate.of("case", source, tokens, FIXED)
                    .render(ChatTemplateGoldenTest.messages(c.get("messages")), golden.get("add_generation_prompt").asBoolean());
            if (!text.equals(c.get("text").asText())) {
                mismatches.add(source + " -> jinja2 " + c.get("text") + " but got \"" + text + "\"");
            }
        }
        assertEquals(List.of(), mismatches);
    }

    @Test
    void tokenizerWithoutTemplateHasNone() {
        assertTrue(ChatTemplate.load(Goldens.tokenizerDir("llama2")).isEmpty());
    }

    @Test
    void jinjaFileBesideConfigWins() throws IOException {
        Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"chat_template\": \"config\", \"eos_token\": \"</s>\"}");
        Files.writeString(tmp.resolve("chat_template.jinja"), "file {{ eos_token }}\n");
        assertEquals("file </s>", ChatTemplate.load(tmp).orElseThrow().render(HI, false));
    }

    @Test
    void templateListWithoutDefaultIsAnError() throws IOException {
        Files.writeString(tmp.resolve("tokenizer_config.json"), "{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"x\"}]}");
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> ChatTemplate.load(tmp));
        assertTrue(e.getMessage().contains("no template named 'default' among [tool_use]"), e.getMessage());
    }

    @Test
    void blocksAreTrimmedAsTransformersConfiguresJinja2() {
        String source = "{% for m in messages %}\n    {% if m.role == 'user' %}\n[{{ m.content }}]\n    {% endif %}\n{% endfor %}\n";
        assertEquals("[Hi]\n", render(source, HI, false));
    }

    @Test
    void strftimeNowReadsTheInjectedClock() {
        assertEquals("03 Feb 2025 04:05", render("{{ strftime_now('%d %b %Y %H:%M') }}", HI, false));
    }

    @Test
    void tojsonIsPythonJsonDumps() {
        assertEquals("{\"a\": [1, 2.5, null, true, \"é\\n\"], \"b\": {}}",
                render("{{ {'a': [1, 2.5, none, true, 'é\\n'], 'b': {}} | tojson }}", HI, false));
        assertEquals("[\n  1,\n  2\n]", render("{{ [1, 2] | tojson(indent=2) }}", HI, false));
        assertEquals("1e-05 1e+16 0.1 123456789.0", PythonJson.pythonFloat(1e-5) + " " + PythonJson.pythonFloat(1e16)
                + " " + PythonJson.pythonFloat(0.1) + " " + PythonJson.pythonFloat(123456789.0));
    }

    @Test
    void syntaxErrorsNameTheTemplateAndLine() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> render("line one\nline two\n{{ messages[0].content.nosuchmethod() }}\n", HI, false));
        assertTrue(e.getMessage().startsWith("chat template test line 3:"), e.getMessage());
        assertTrue(e.getMessage().contains("nosuchmethod"), e.getMessage());
    }

    @Test
    void raiseExceptionStopsRendering() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> render("ok\n{{ raise_exception('no system role') }}", HI, false));
        assertTrue(e.getMessage().contains("line 2: raise_exception: no system role"), e.getMessage());
        // Lines eaten by trim_blocks and line breaks inside string literals still count.
        String source = "{% set prefix = 'a\n\nb' %}\n{% for m in messages %}\n{% if m.role == 'user' %}\n"
                + "{{ raise_exception('raised on line 6') }}\n{% endif %}\n{% endfor %}\n";
        e = assertThrows(ChatTemplateException.class, () -> render(source, HI, false));
        assertTrue(e.getMessage().contains("line 6: raise_exception: raised on line 6"), e.getMessage());
    }

    @Test
    void sourceRewritesKeepJinja2Meaning() {
        assertEquals("{% for m in messages|reverse %}", JinjaSource.prepare("{% for m in messages[::-1] %}"));
        assertEquals("{{ namespace(a=(1), b=(x|length - 1)) }}", JinjaSource.prepare("{{ namespace(a=1, b=x|length - 1) }}"));
        assertEquals("{{ f(a == b, 'c=d') }}", JinjaSource.prepare("{{ f(a == b, 'c=d') }}"));
        assertEquals("text [::-1] f(a=1)\nx", JinjaSource.prepare("text [::-1] f(a=1)\r\nx\n"));
        assertEquals("{{ {'a': {'b': 1} } }}", JinjaSource.prepare("{{ {'a': {'b': 1}}}}"));
    }
}
