package cgap.models.tokenizer;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads tokenizer.json: the BPE vocabulary and merges by streaming (they are most of a 30 MB
 * file), every other section as a JSON tree.
 */
final class TokenizerFiles {
    private TokenizerFiles() {}

    static final ObjectMapper JSON = new ObjectMapper();

    /**
     * A parser factory that does not intern field names: the vocabulary's 100k+ tokens are field
     * names, and String.intern on each costs more than parsing them. (Canonicalization stays on:
     * without it Jackson falls back to its slower char-based parser.)
     */
    private static final JsonFactory VOCAB_READER = JsonFactory.builder()
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .build()
            .setCodec(JSON);

    /** The raw sections of tokenizer.json; model parts already resolved. */
    record Parsed(Map<String, JsonNode> sections, Vocabulary vocab, List<String[]> merges,
                  Map<String, JsonNode> modelOptions) {}

    static Parsed readTokenizerJson(Path file) {
        Map<String, JsonNode> sections = new LinkedHashMap<>();
        Vocabulary vocab = null;
        List<String[]> merges = null;
        Map<String, JsonNode> modelOptions = new HashMap<>();
        try (InputStream in = Files.newInputStream(file);
             JsonParser parser = VOCAB_READER.createParser(in)) {
            expect(parser.nextToken(), JsonToken.START_OBJECT, file, "top level");
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String key = parser.currentName();
                parser.nextToken();
                if (!key.equals("model")) {
                    sections.put(key, parser.readValueAsTree());
                    continue;
                }
                expect(parser.currentToken(), JsonToken.START_OBJECT, file, "model");
                while (parser.nextToken() == JsonToken.FIELD_NAME) {
                    String field = parser.currentName();
                    JsonToken value = parser.nextToken();
                    if (field.equals("vocab") && value == JsonToken.START_OBJECT) {
                        vocab = readVocab(parser, file);
                    } else if (field.equals("merges") && value == JsonToken.START_ARRAY) {
                        merges = readMerges(parser, file);
                    } else {
                        modelOptions.put(field, parser.readValueAsTree());
                    }
                }
            }
        } catch (NoSuchFileException e) {
            throw new TokenizerException(file + ": not found (a tokenizer directory needs tokenizer.json)");
        } catch (IOException e) {
            throw new TokenizerException(file + ": malformed JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
        if (!modelOptions.containsKey("type") && vocab == null) {
            throw new TokenizerException(file + ": key 'model' is missing");
        }
        return new Parsed(sections, vocab, merges, modelOptions);
    }

    private static Vocabulary readVocab(JsonParser parser, Path file) throws IOException {
        Vocabulary vocab = new Vocabulary(1 << 16);
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String token = parser.currentName();
            if (parser.nextToken() != JsonToken.VALUE_NUMBER_INT) {
                throw new TokenizerException(file + ": model.vocab['" + token + "'] is not an integer id");
            }
            vocab.put(token, parser.getIntValue());
        }
        return vocab;
    }

    /** Merges as "left right" strings (older files) or [left, right] pairs (newer ones). */
    private static List<String[]> readMerges(JsonParser parser, Path file) throws IOException {
        List<String[]> merges = new ArrayList<>(1 << 18);
        JsonToken t;
        while ((t = parser.nextToken()) != JsonToken.END_ARRAY) {
            if (t == JsonToken.VALUE_STRING) {
                String line = parser.getText();
                int space = line.indexOf(' ');
                if (space < 0 || line.indexOf(' ', space + 1) >= 0) {
                    throw new TokenizerException(file + ": model.merges[" + merges.size() + "] '" + line
                            + "' is not two tokens separated by one space");
                }
                merges.add(new String[] {line.substring(0, space), line.substring(space + 1)});
            } else if (t == JsonToken.START_ARRAY) {
                String[] pair = new String[2];
                int n = 0;
                while ((t = parser.nextToken()) == JsonToken.VALUE_STRING) {
                    if (n < 2) pair[n] = parser.getText();
                    n++;
                }
                if (n != 2 || t != JsonToken.END_ARRAY) {
                    throw new TokenizerException(file + ": model.merges[" + merges.size() + "] is not a pair of strings");
                }
                merges.add(pair);
            } else {
                throw new TokenizerException(file + ": model.merges[" + merges.size() + "] is neither a string nor a pair");
            }
        }
        return merges;
    }

    private static void expect(JsonToken actual, JsonToken expected, Path file, String where) {
        if (actual != expected) {
            throw new TokenizerException(file + ": " + where + " must be a JSON object");
        }
    }

    /** A JSON file as a tree, or null when absent. */
    static JsonNode readOptional(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new TokenizerException(file + ": malformed JSON: " + e.getMessage().lines().findFirst().orElse(""), e);
        }
    }

    /** A special-token entry of tokenizer_config.json: "text" or {"content": "text", ...}; null if absent. */
    static String tokenContent(JsonNode value) {
        if (value == null || value.isNull()) {
            return null;
        }
        if (value.isTextual()) {
            return value.asText();
        }
        if (value.isObject() && value.has("content")) {
            return value.get("content").asText();
        }
        return null;
    }
}
