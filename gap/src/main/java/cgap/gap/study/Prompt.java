package cgap.gap.study;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One study prompt. The paper's JSONL form has {@code id}, {@code category} and {@code formats} (A: bare
 * prompt, B: "Question: ... Answer:", C: a variant); the plain form {@code {"id", "prompt"}} uses its one text
 * for every format.
 */
public record Prompt(String id, String category, Map<String, String> formats, String plainText) {

    /** The text of format {@code letter}; the plain form's text for any letter. */
    public String text(String letter) {
        if (plainText != null) return plainText;
        String text = formats.get(letter);
        if (text == null) throw new IllegalArgumentException("prompt " + id + " has no format " + letter + " (it has " + formats.keySet() + ")");
        return text;
    }

    /** Reads a JSONL prompt file: one object per non-blank line, ids unique. Errors name the file and line. */
    public static List<Prompt> read(Path file) {
        ObjectMapper json = new ObjectMapper();
        List<Prompt> prompts = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int lineNo = 0;
            while ((line = in.readLine()) != null) {
                lineNo++;
                if (line.isBlank()) continue;
                String where = file + " line " + lineNo;
                JsonNode node;
                try {
                    node = json.readTree(line);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalArgumentException(where + ": not JSON (" + e.getOriginalMessage() + ")");
                }
                Prompt p = parse(node, where);
                if (!ids.add(p.id())) throw new IllegalArgumentException(where + ": duplicate prompt id '" + p.id() + "'");
                prompts.add(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read prompt file " + file, e);
        }
        if (prompts.isEmpty()) throw new IllegalArgumentException(file + ": no prompts");
        return prompts;
    }

    static Prompt parse(JsonNode node, String where) {
        if (!node.isObject()) throw new IllegalArgumentException(where + ": expected a JSON object");
        JsonNode id = node.get("id");
        if (id == null || !(id.isTextual() || id.isNumber())) throw new IllegalArgumentException(where + ": missing \"id\"");
        String category = node.hasNonNull("category") ? node.get("category").asText() : "";
        JsonNode formats = node.get("formats");
        if (formats != null && formats.isObject()) {
            Map<String, String> map = new LinkedHashMap<>();
            formats.properties().forEach(e -> { if (e.getValue().isTextual()) map.put(e.getKey(), e.getValue().asText()); });
            if (map.isEmpty()) throw new IllegalArgumentException(where + ": \"formats\" has no text entries");
            return new Prompt(id.asText(), category, map, null);
        }
        JsonNode prompt = node.get("prompt");
        if (prompt != null && prompt.isTextual()) return new Prompt(id.asText(), category, Map.of(), prompt.asText());
        throw new IllegalArgumentException(where + ": expected \"formats\" {A, B, ...} or a \"prompt\" string");
    }
}
