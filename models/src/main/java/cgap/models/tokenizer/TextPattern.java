package cgap.models.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.function.IntPredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a Split pre-tokenizer or a Replace step looks for: {"String": literal} or {"Regex": onig},
 * or (internally) a per-character predicate. Finds non-overlapping matches left to right.
 */
final class TextPattern {
    private final String literal;
    private final Pattern regex;
    private final IntPredicate characterClass;

    private TextPattern(String literal, Pattern regex, IntPredicate characterClass) {
        this.literal = literal;
        this.regex = regex;
        this.characterClass = characterClass;
    }

    static TextPattern fromJson(JsonNode node, String where) {
        if (node != null && node.has("String")) {
            return new TextPattern(node.get("String").asText(), null, null);
        }
        if (node != null && node.has("Regex")) {
            return new TextPattern(null, Unicode.compileOniguruma(node.get("Regex").asText(), where), null);
        }
        throw new TokenizerException(where + ": pattern must be {\"String\": ...} or {\"Regex\": ...}, got " + node);
    }

    static TextPattern regex(Pattern regex) {
        return new TextPattern(null, regex, null);
    }

    /** Every single code point satisfying the predicate is one match. */
    static TextPattern eachCharacter(IntPredicate characterClass) {
        return new TextPattern(null, null, characterClass);
    }

    /** Match bounds as start/end pairs (UTF-16 indices) appended to out. */
    void findMatches(String text, IntList out) {
        if (literal != null) {
            if (literal.isEmpty()) {
                return;
            }
            int from = 0;
            int at;
            while ((at = text.indexOf(literal, from)) >= 0) {
                out.add(at);
                out.add(at + literal.length());
                from = at + literal.length();
            }
        } else if (regex != null) {
            Matcher m = regex.matcher(text);
            while (m.find()) {
                out.add(m.start());
                out.add(m.end());
            }
        } else {
            for (int i = 0; i < text.length(); ) {
                int cp = text.codePointAt(i);
                int next = i + Character.charCount(cp);
                if (characterClass.test(cp)) {
                    out.add(i);
                    out.add(next);
                }
                i = next;
            }
        }
    }

    /** Every match replaced by the literal content (no group references, as in HF). */
    String replaceAll(String text, String content) {
        if (literal != null) {
            return literal.isEmpty() ? text : text.replace(literal, content);
        }
        IntList bounds = new IntList();
        findMatches(text, bounds);
        if (bounds.size() == 0) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        int last = 0;
        for (int k = 0; k < bounds.size(); k += 2) {
            out.append(text, last, bounds.get(k)).append(content);
            last = bounds.get(k + 1);
        }
        return out.append(text, last, text.length()).toString();
    }
}
