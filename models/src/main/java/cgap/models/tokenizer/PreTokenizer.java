package cgap.models.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** tokenizer.json "pre_tokenizer": cuts normalized text into the words the model encodes one by one. */
sealed interface PreTokenizer {
    /** The splits that replace the given ones, in order, empty ones dropped. */
    List<Split> preTokenize(List<Split> splits);

    /** GPT-2's split regex, which ByteLevel applies when use_regex is set. */
    Pattern GPT2_REGEX = Unicode.compileOniguruma(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", "ByteLevel");

    static PreTokenizer fromJson(JsonNode node, String where) {
        if (node == null || node.isNull()) {
            return null;
        }
        String type = node.path("type").asText();
        return switch (type) {
            case "Split" -> new SplitOn(
                    TextPattern.fromJson(node.get("pattern"), where + ".Split"),
                    Split.Behavior.fromJson(node.path("behavior").asText(), where + ".Split"),
                    node.path("invert").asBoolean(false));
            case "ByteLevel" -> new ByteLevelWords(node.path("add_prefix_space").asBoolean(true),
                    node.path("use_regex").asBoolean(true));
            case "Metaspace" -> Metaspace.fromJson(node, where);
            case "Digits" -> new Digits(node.path("individual_digits").asBoolean(false));
            case "Sequence" -> {
                List<PreTokenizer> steps = new ArrayList<>();
                for (JsonNode step : node.path("pretokenizers")) {
                    steps.add(fromJson(step, where + ".Sequence"));
                }
                yield new Sequence(steps);
            }
            default -> throw new TokenizerException(where + ": unsupported pre_tokenizer type '" + type + "'");
        };
    }

    record SplitOn(TextPattern pattern, Split.Behavior behavior, boolean invert) implements PreTokenizer {
        public List<Split> preTokenize(List<Split> splits) {
            List<Split> out = new ArrayList<>(splits.size() * 4);
            for (Split split : splits) {
                split.splitInto(pattern, behavior, invert, out);
            }
            return out;
        }
    }

    /** Optional prefix space, optional GPT-2 regex split, then each word's UTF-8 bytes as mapped chars. */
    record ByteLevelWords(boolean addPrefixSpace, boolean useRegex) implements PreTokenizer {
        private static final TextPattern REGEX = TextPattern.regex(GPT2_REGEX);

        public List<Split> preTokenize(List<Split> splits) {
            List<Split> words = new ArrayList<>(splits.size() * 4);
            for (Split split : splits) {
                Split prefixed = split;
                if (addPrefixSpace && !split.text().isEmpty() && !split.text().startsWith(" ")) {
                    prefixed = new Split(" " + split.text(), split.atInputStart());
                }
                if (useRegex) {
                    prefixed.splitInto(REGEX, Split.Behavior.ISOLATED, false, words);
                } else if (!prefixed.text().isEmpty()) {
                    words.add(prefixed);
                }
            }
            List<Split> out = new ArrayList<>(words.size());
            for (Split word : words) {
                out.add(new Split(ByteLevel.encode(word.text()), word.atInputStart()));
            }
            return out;
        }
    }

    /** SentencePiece's convention: spaces become the replacement char (▁), which may also be prepended. */
    record Metaspace(String replacement, PrependScheme prependScheme, boolean split) implements PreTokenizer {
        enum PrependScheme { ALWAYS, FIRST, NEVER }

        static Metaspace fromJson(JsonNode node, String where) {
            String replacement = node.path("replacement").asText("\u2581");
            if (replacement.codePointCount(0, replacement.length()) != 1) {
                throw new TokenizerException(where + ".Metaspace: replacement must be one character, got '" + replacement + "'");
            }
            PrependScheme scheme;
            if (node.has("prepend_scheme")) {
                scheme = switch (node.get("prepend_scheme").asText()) {
                    case "always" -> PrependScheme.ALWAYS;
                    case "first" -> PrependScheme.FIRST;
                    case "never" -> PrependScheme.NEVER;
                    default -> throw new TokenizerException(where + ".Metaspace: unknown prepend_scheme "
                            + node.get("prepend_scheme"));
                };
            } else {
                // Files older than prepend_scheme say add_prefix_space, which meant "always".
                scheme = node.path("add_prefix_space").asBoolean(true) ? PrependScheme.ALWAYS : PrependScheme.NEVER;
            }
            return new Metaspace(replacement, scheme, node.path("split").asBoolean(true));
        }

        public List<Split> preTokenize(List<Split> splits) {
            List<Split> out = new ArrayList<>(splits.size() * 4);
            int replacementChar = replacement.codePointAt(0);
            TextPattern onReplacement = TextPattern.eachCharacter(c -> c == replacementChar);
            for (Split s : splits) {
                String text = s.text().replace(" ", replacement);
                boolean prepend = switch (prependScheme) {
                    case ALWAYS -> true;
                    case FIRST -> s.atInputStart();
                    case NEVER -> false;
                };
                if (prepend && !text.isEmpty() && !text.startsWith(replacement)) {
                    text = replacement + text;
                }
                Split replaced = new Split(text, s.atInputStart());
                if (split) {
                    replaced.splitInto(onReplacement, Split.Behavior.MERGED_WITH_NEXT, false, out);
                } else if (!text.isEmpty()) {
                    out.add(replaced);
                }
            }
            return out;
        }
    }

    /** Numbers (Rust char::is_numeric: Nd, Nl, No) split off, one by one or as runs. */
    record Digits(boolean individualDigits) implements PreTokenizer {
        private static final TextPattern NUMERIC = TextPattern.eachCharacter(c -> {
            int type = Character.getType(c);
            return type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER
                    || type == Character.OTHER_NUMBER;
        });

        public List<Split> preTokenize(List<Split> splits) {
            List<Split> out = new ArrayList<>(splits.size() * 2);
            Split.Behavior behavior = individualDigits ? Split.Behavior.ISOLATED : Split.Behavior.CONTIGUOUS;
            for (Split s : splits) {
                s.splitInto(NUMERIC, behavior, false, out);
            }
            return out;
        }
    }

    record Sequence(List<PreTokenizer> steps) implements PreTokenizer {
        public List<Split> preTokenize(List<Split> splits) {
            for (PreTokenizer step : steps) {
                splits = step.preTokenize(splits);
            }
            return splits;
        }
    }
}
