package cgap.models.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;

/**
 * A Hugging Face tokenizer read from tokenizer.json, producing the same ids as the HF
 * `tokenizers` library: added tokens, normalizer, pre-tokenizer, BPE model, post-processor
 * and decoder as the file describes them. Thread-safe after load.
 */
public final class Tokenizer {
    private final AddedVocabulary addedVocabulary;
    private final Normalizer normalizer;
    private final PreTokenizer preTokenizer;
    private final BpeModel model;
    /** Single-sequence template: special-token ids, with null where the encoded text goes. */
    private final List<int[]> template;
    private final Decoder decoder;
    private final String[] tokenTexts;
    private final boolean[] special;
    private final Vocabulary vocab;
    private final Map<String, Integer> addedIds;
    private final Integer bosId;
    private final Integer eosId;
    private final Set<Integer> eosIds;

    private Tokenizer(Path dir) {
        Path jsonFile = dir.resolve("tokenizer.json");
        TokenizerFiles.Parsed parsed = TokenizerFiles.readTokenizerJson(jsonFile);
        String where = jsonFile.getFileName().toString();
        Map<String, JsonNode> sections = parsed.sections();
        JsonNode truncation = sections.get("truncation");
        if (truncation != null && !truncation.isNull()) {
            throw new TokenizerException(jsonFile + ": key 'truncation' is set; truncating encodings is not supported");
        }
        this.vocab = parsed.vocab();
        this.model = buildModel(parsed, jsonFile);
        this.normalizer = Normalizer.fromJson(sections.get("normalizer"), where + " normalizer");
        this.preTokenizer = PreTokenizer.fromJson(sections.get("pre_tokenizer"), where + " pre_tokenizer");
        this.decoder = Decoder.fromJson(sections.get("decoder"), where + " decoder");

        List<AddedVocabulary.AddedToken> added = new ArrayList<>();
        JsonNode addedJson = sections.get("added_tokens");
        if (addedJson != null) {
            for (JsonNode t : addedJson) {
                if (!t.path("id").isInt() || t.get("id").asInt() < 0 || !t.path("content").isTextual()) {
                    throw new TokenizerException(jsonFile + ": added_tokens entry needs a non-negative id and a content: " + t);
                }
                added.add(new AddedVocabulary.AddedToken(t.get("id").asInt(), t.get("content").asText(),
                        t.path("special").asBoolean(false), t.path("normalized").asBoolean(true),
                        t.path("lstrip").asBoolean(false), t.path("rstrip").asBoolean(false),
                        t.path("single_word").asBoolean(false)));
            }
        }
        this.addedVocabulary = new AddedVocabulary(added, normalizer);

        int[] size = {0};
        vocab.forEach((token, id) -> {
            if (id < 0) {
                throw new TokenizerException(jsonFile + ": model.vocab['" + token + "'] has negative id " + id);
            }
            size[0] = Math.max(size[0], id + 1);
        });
        for (AddedVocabulary.AddedToken t : added) size[0] = Math.max(size[0], t.id() + 1);
        tokenTexts = new String[size[0]];
        special = new boolean[size[0]];
        vocab.forEach((token, id) -> tokenTexts[id] = token);
        addedIds = new HashMap<>();
        for (AddedVocabulary.AddedToken t : added) {
            tokenTexts[t.id()] = t.content();
            special[t.id()] = t.special();
            addedIds.put(t.content(), t.id());
        }
        this.template = buildTemplate(sections.get("post_processor"), jsonFile);

        JsonNode config = TokenizerFiles.readOptional(dir.resolve("tokenizer_config.json"));
        JsonNode generation = TokenizerFiles.readOptional(dir.resolve("generation_config.json"));
        this.bosId = specialId(config, "bos_token", generation, "bos_token_id", dir);
        this.eosId = specialId(config, "eos_token", generation, "eos_token_id", dir);
        Set<Integer> eos = new LinkedHashSet<>();
        if (eosId != null) eos.add(eosId);
        if (generation != null) {
            for (JsonNode id : generation.path("eos_token_id").isArray() ? generation.get("eos_token_id")
                    : List.of(generation.path("eos_token_id"))) {
                if (id.isInt()) eos.add(id.asInt());
            }
        }
        this.eosIds = Collections.unmodifiableSet(eos);
    }

    /**
     * Loads dir/tokenizer.json, plus dir/tokenizer_config.json and dir/generation_config.json
     * for BOS/EOS when present. Errors name the file and key.
     */
    public static Tokenizer load(Path dir) {
        return new Tokenizer(dir);
    }

    /**
     * The ids HF's Tokenizer.encode(text, add_special_tokens) gives. Special-token text in the
     * input becomes the special token.
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        Objects.requireNonNull(text, "text");
        int bad = Unicode.loneSurrogateIndex(text);
        if (bad >= 0) {
            throw new TokenizerException(String.format(
                    "text has a lone UTF-16 surrogate U+%04X at index %d: it has no UTF-8 form to tokenize",
                    (int) text.charAt(bad), bad));
        }
        IntList ids = new IntList(text.length() / 3 + 8);
        for (AddedVocabulary.Piece piece : addedVocabulary.split(text, normalizer)) {
            if (piece.isAdded()) {
                ids.add(piece.addedId());
                continue;
            }
            List<Split> words = preTokenizer == null ? List.of(piece.text()) : preTokenizer.preTokenize(List.of(piece.text()));
            for (Split word : words) {
                ids.addAll(model.tokenize(word.text()));
            }
        }
        if (!addSpecialTokens || template == null) {
            return ids.toArray();
        }
        IntList withSpecial = new IntList(ids.size() + 4);
        for (int[] part : template) {
            withSpecial.addAll(part == null ? ids.toArray() : part);
        }
        return withSpecial.toArray();
    }

    /** The text HF's Tokenizer.decode(ids, skip_special_tokens) gives. Unknown ids are an error. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        List<String> tokens = new ArrayList<>(ids.length);
        for (int id : ids) {
            if (id < 0 || id >= tokenTexts.length || tokenTexts[id] == null) {
                throw new TokenizerException("token id " + id + " is not in the vocabulary (size " + tokenTexts.length + ")");
            }
            if (skipSpecialTokens && special[id]) {
                continue;
            }
            tokens.add(tokenTexts[id]);
        }
        if (decoder == null) {
            return String.join(" ", tokens);
        }
        return String.join("", decoder.decodeChain(tokens));
    }

    /** Number of ids, added tokens included: max id + 1. */
    public int vocabSize() {
        return tokenTexts.length;
    }

    public OptionalInt bosId() {
        return bosId == null ? OptionalInt.empty() : OptionalInt.of(bosId);
    }

    public OptionalInt eosId() {
        return eosId == null ? OptionalInt.empty() : OptionalInt.of(eosId);
    }

    /** Every id that ends generation: eos_token plus generation_config.json's eos_token_id(s). */
    public Set<Integer> eosIds() {
        return eosIds;
    }

    /** The token's string as the vocabulary writes it (byte-level chars, ▁, "<0x0A>", ...). */
    public String tokenText(int id) {
        if (id < 0 || id >= tokenTexts.length || tokenTexts[id] == null) {
            throw new TokenizerException("token id " + id + " is not in the vocabulary (size " + tokenTexts.length + ")");
        }
        return tokenTexts[id];
    }

    /** True for added tokens flagged special (skipped by decode with skipSpecialTokens). */
    public boolean isSpecial(int id) {
        return id >= 0 && id < special.length && special[id];
    }

    /** The id of a token string (added tokens first), or empty. */
    public OptionalInt tokenId(String token) {
        Integer added = addedIds.get(token);
        int id = added != null ? added : vocab.get(token);
        return id < 0 ? OptionalInt.empty() : OptionalInt.of(id);
    }

    private static BpeModel buildModel(TokenizerFiles.Parsed parsed, Path file) {
        Map<String, JsonNode> options = parsed.modelOptions();
        String type = options.containsKey("type") ? options.get("type").asText() : "BPE";
        if (!type.equals("BPE")) {
            throw new TokenizerException(file + ": model.type '" + type + "' is not supported (only BPE)");
        }
        if (parsed.vocab() == null) {
            throw new TokenizerException(file + ": key 'model.vocab' is missing");
        }
        JsonNode dropout = options.get("dropout");
        if (dropout != null && !dropout.isNull() && dropout.asDouble() > 0) {
            throw new TokenizerException(file + ": model.dropout is " + dropout + "; BPE dropout makes encoding random");
        }
        int[] merges = parsed.merges();
        PairMap pairs = new PairMap(merges.length / 3);
        for (int rank = 0; rank < merges.length / 3; rank++) {
            pairs.put(merges[3 * rank], merges[3 * rank + 1], rank, merges[3 * rank + 2]);
        }
        String prefix = text(options.get("continuing_subword_prefix"));
        return new BpeModel(parsed.vocab(), pairs, text(options.get("unk_token")), bool(options.get("fuse_unk")),
                bool(options.get("byte_fallback")), bool(options.get("ignore_merges")), prefix,
                text(options.get("end_of_word_suffix")), file + " model");
    }

    private List<int[]> buildTemplate(JsonNode node, Path file) {
        if (node == null || node.isNull()) {
            return null;
        }
        String type = node.path("type").asText();
        switch (type) {
            case "ByteLevel":
                return null; // only trims offsets
            case "TemplateProcessing": {
                List<int[]> parts = new ArrayList<>();
                for (JsonNode item : node.path("single")) {
                    if (item.has("Sequence")) {
                        parts.add(null);
                    } else if (item.has("SpecialToken")) {
                        String name = item.get("SpecialToken").path("id").asText();
                        JsonNode entry = node.path("special_tokens").path(name);
                        if (!entry.has("ids")) {
                            throw new TokenizerException(file + ": post_processor.special_tokens has no '" + name + "'");
                        }
                        int[] ids = new int[entry.get("ids").size()];
                        for (int i = 0; i < ids.length; i++) ids[i] = entry.get("ids").get(i).asInt();
                        parts.add(ids);
                    } else {
                        throw new TokenizerException(file + ": post_processor.single has an unknown item " + item);
                    }
                }
                return parts;
            }
            case "Sequence": {
                List<int[]> combined = null;
                for (JsonNode step : node.path("processors")) {
                    List<int[]> parts = buildTemplate(step, file);
                    if (parts != null) {
                        if (combined != null) {
                            throw new TokenizerException(file + ": post_processor.Sequence has two templates");
                        }
                        combined = parts;
                    }
                }
                return combined;
            }
            default:
                throw new TokenizerException(file + ": unsupported post_processor type '" + type + "'");
        }
    }

    private Integer specialId(JsonNode config, String configKey, JsonNode generation, String generationKey, Path dir) {
        String content = config == null ? null : TokenizerFiles.tokenContent(config.get(configKey));
        if (content != null) {
            OptionalInt id = tokenId(content);
            if (id.isEmpty()) {
                throw new TokenizerException(dir.resolve("tokenizer_config.json") + ": " + configKey + " '" + content
                        + "' is not a token of tokenizer.json");
            }
            return id.getAsInt();
        }
        if (generation != null) {
            JsonNode id = generation.get(generationKey);
            if (id != null && id.isArray() && !id.isEmpty()) id = id.get(0);
            if (id != null && id.isInt()) return id.asInt();
        }
        return null;
    }

    private static String text(JsonNode node) {
        return node == null || node.isNull() ? null : node.asText();
    }

    private static boolean bool(JsonNode node) {
        return node != null && node.asBoolean(false);
    }
}
