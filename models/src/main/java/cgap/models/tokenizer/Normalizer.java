package cgap.models.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** tokenizer.json "normalizer": rewrites text before pre-tokenization. */
sealed interface Normalizer {
    String normalize(String text);

    static Normalizer fromJson(JsonNode node, String where) {
        if (node == null || node.isNull()) {
            return null;
        }
        String type = node.path("type").asText();
        return switch (type) {
            case "NFC" -> new UnicodeForm(java.text.Normalizer.Form.NFC);
            case "NFD" -> new UnicodeForm(java.text.Normalizer.Form.NFD);
            case "NFKC" -> new UnicodeForm(java.text.Normalizer.Form.NFKC);
            case "NFKD" -> new UnicodeForm(java.text.Normalizer.Form.NFKD);
            case "Lowercase" -> new Lowercase();
            case "Prepend" -> new Prepend(node.path("prepend").asText());
            case "Replace" -> new Replace(TextPattern.fromJson(node.get("pattern"), where + ".Replace"),
                    node.path("content").asText());
            case "Strip" -> new Strip(node.path("strip_left").asBoolean(false), node.path("strip_right").asBoolean(false));
            case "Sequence" -> {
                List<Normalizer> steps = new ArrayList<>();
                for (JsonNode step : node.path("normalizers")) {
                    steps.add(fromJson(step, where + ".Sequence"));
                }
                yield new Sequence(steps);
            }
            default -> throw new TokenizerException(where + ": unsupported normalizer type '" + type + "'");
        };
    }

    record UnicodeForm(java.text.Normalizer.Form form) implements Normalizer {
        public String normalize(String text) {
            return java.text.Normalizer.normalize(text, form);
        }
    }

    record Lowercase() implements Normalizer {
        public String normalize(String text) {
            return text.toLowerCase(Locale.ROOT);
        }
    }

    /** Prepends to non-empty text only (HF's NormalizedString::prepend needs a first char to align to). */
    record Prepend(String prefix) implements Normalizer {
        public String normalize(String text) {
            return text.isEmpty() ? text : prefix + text;
        }
    }

    record Replace(TextPattern pattern, String content) implements Normalizer {
        public String normalize(String text) {
            return pattern.replaceAll(text, content);
        }
    }

    /** Strips Unicode White_Space from either end. */
    record Strip(boolean left, boolean right) implements Normalizer {
        public String normalize(String text) {
            int start = 0;
            int end = text.length();
            if (left) {
                while (start < end && Unicode.isWhitespace(text.codePointAt(start))) {
                    start += Character.charCount(text.codePointAt(start));
                }
            }
            if (right) {
                while (end > start && Unicode.isWhitespace(text.codePointBefore(end))) {
                    end -= Character.charCount(text.codePointBefore(end));
                }
            }
            return text.substring(start, end);
        }
    }

    record Sequence(List<Normalizer> steps) implements Normalizer {
        public String normalize(String text) {
            for (Normalizer step : steps) {
                text = step.normalize(text);
            }
            return text;
        }
    }
}
