package cgap.gap.graft;

import cgap.models.chat.ChatMessage;
import cgap.models.chat.ChatTemplate;
import cgap.models.tokenizer.Tokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads a prompt file (the paper's JSONL: {@code id}, {@code category}, {@code formats} {A, B, ...}; or
 * {@code {"id", "prompt"}} with one text for every format) and tokenizes each prompt for a graft run: the teacher
 * (the IT model) reads the IT format in its chat template with the generation prompt; a PT host reads the PT
 * format as raw text (special tokens added, e.g. BOS), an IT host reads what the teacher reads.
 */
public final class GraftPrompts {
    private GraftPrompts() {}

    /** How the two checkpoints read prompts. {@code hostIsIt}: the host is the IT model (the teacher itself). */
    public record Encoding(Tokenizer hostTokenizer, Tokenizer itTokenizer, ChatTemplate itTemplate, boolean hostIsIt,
                           String ptFormat, String itFormat) {}

    /** The first {@code limit} prompts of {@code file} (all when limit is 0), tokenized. */
    public static List<GraftPrompt> read(Path file, int limit, Encoding e) {
        List<GraftPrompt> prompts = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        ObjectMapper json = new ObjectMapper();
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException ex) {
            throw new UncheckedIOException("cannot read prompt file " + file, ex);
        }
        for (int i = 0; i < lines.size() && (limit == 0 || prompts.size() < limit); i++) {
            if (lines.get(i).isBlank()) continue;
            String where = file + " line " + (i + 1);
            JsonNode node;
            try {
                node = json.readTree(lines.get(i));
            } catch (IOException ex) {
                throw new IllegalArgumentException(where + ": not JSON");
            }
            String id = node.path("id").asText("");
            if (id.isEmpty()) throw new IllegalArgumentException(where + ": missing \"id\"");
            if (!ids.add(id)) throw new IllegalArgumentException(where + ": duplicate prompt id '" + id + "'");
            String itText = text(node, e.itFormat(), where), ptText = text(node, e.ptFormat(), where);
            int[] teacher = e.itTokenizer().encode(e.itTemplate().render(List.of(new ChatMessage("user", itText)), true), false);
            int[] host = e.hostIsIt() ? teacher : e.hostTokenizer().encode(ptText, true);
            prompts.add(new GraftPrompt(id, node.path("category").asText(""), host, teacher));
        }
        if (prompts.isEmpty()) throw new IllegalArgumentException(file + ": no prompts");
        return prompts;
    }

    private static String text(JsonNode node, String format, String where) {
        JsonNode formats = node.get("formats");
        if (formats != null && formats.isObject()) {
            JsonNode text = formats.get(format);
            if (text == null || !text.isTextual()) throw new IllegalArgumentException(where + ": no format " + format + " in \"formats\"");
            return text.asText();
        }
        JsonNode prompt = node.get("prompt");
        if (prompt != null && prompt.isTextual()) return prompt.asText();
        throw new IllegalArgumentException(where + ": expected \"formats\" {A, B, ...} or a \"prompt\" string");
    }
}
