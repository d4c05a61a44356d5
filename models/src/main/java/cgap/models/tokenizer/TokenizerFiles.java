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
import java.util.stream.IntStream;

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

    /**
     * The sections of tokenizer.json, with the BPE model's vocabulary and its merges already resolved to
     * (left id, right id, merged id) triples in rank order (null when the model is not a BPE with a vocab).
     */
    record Parsed(Map<String, JsonNode> sections, Vocabulary vocab, int[] merges,
                  Map<String, JsonNode> modelOptions) {}

    /** What the JSON holds, before the merges are resolved. */
    private record Raw(Map<String, JsonNode> sections, Vocabulary vocab, List<String[]> merges,
                       Map<String, JsonNode> modelOptions) {}

    /** tokenizer.json parsed, or its earlier parse from the {@link TokenizerCache}. */
    static Parsed readTokenizerJson(Path file) {
        if (!TokenizerCache.enabled()) {
            return parseTokenizerJson(file);
        }
        Path entry;
        try {
            entry = TokenizerCache.entryFor(file);
        } catch (IOException e) {
            return parseTokenizerJson(file); // missing or unreadable: the parse reports it
        }
        Parsed cached = TokenizerCache.read(entry);
        if (cached != null) {
            return cached;
        }
        Parsed parsed = parseTokenizerJson(file);
        TokenizerCache.write(entry, parsed);
        return parsed;
    }

    private static Parsed parseTokenizerJson(Path file) {
        Raw raw = parseJson(file);
        JsonNode type = raw.modelOptions().get("type");
        int[] merges = null;
        if (raw.vocab() != null && (type == null || type.asText().equals("BPE"))) {
            JsonNode prefix = raw.modelOptions().get("continuing_subword_prefix");
            merges = resolveMerges(raw.vocab(), raw.merges() == null ? List.of() : raw.merges(),
                    prefix == null || prefix.isNull() ? "" : prefix.asText(), file);
        }
        return new Parsed(raw.sections(), raw.vocab(), merges, raw.modelOptions());
    }

    /**
     * Merges as (left, right, merged) id triples in rank order; the first merge naming a token outside the
     * vocabulary is reported.
     */
    private static int[] resolveMerges(Vocabulary vocab, List<String[]> merges, String prefix, Path file) {
        int prefixLength = prefix.length();
        // The lookups are independent and most of a cold parse's time: resolve them in parallel, then check
        // in rank order (so the first bad merge is the one reported).
        int[] resolved = new int[3 * merges.size()];
        IntStream.range(0, merges.size()).parallel().forEach(rank -> {
            String[] m = merges.get(rank);
            resolved[3 * rank] = vocab.get(m[0]);
            resolved[3 * rank + 1] = vocab.get(m[1]);
            resolved[3 * rank + 2] = m[1].length() < prefixLength ? -2 : vocab.get(m[0] + m[1].substring(prefixLength));
        });
        for (int rank = 0; rank < merges.size(); rank++) {
            String[] m = merges.get(rank);
            int left = resolved[3 * rank];
            int right = resolved[3 * rank + 1];
            int merged = resolved[3 * rank + 2];
            if (left < 0 || right < 0) {
                throw new TokenizerException(file + ": model.merges[" + rank + "] uses '" + (left < 0 ? m[0] : m[1])
                        + "', which is not in model.vocab");
            }
            if (merged == -2) {
                throw new TokenizerException(file + ": model.merges[" + rank + "] right part '" + m[1]
                        + "' is shorter than continuing_subword_prefix");
            }
            if (merged < 0) {
                throw new TokenizerException(file + ": model.merges[" + rank + "] makes '" + m[0]
                        + m[1].substring(prefixLength) + "', which is not in model.vocab");
            }
        }
        return resolved;
    }

    private static Raw parseJson(Path file) {
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
        return new Raw(sections, vocab, merges, modelOptions);
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
