package cgap.models.tokenizer;

import java.util.regex.Pattern;

/** Character classes as Rust (std, regex crate, Oniguruma) define them, which Java's defaults do not match. */
final class Unicode {
    private Unicode() {}

    /** Rust's char::is_whitespace and regex \s: the Unicode White_Space property. */
    static boolean isWhitespace(int codePoint) {
        return switch (codePoint) {
            case '\t', '\n', 0x0B, '\f', '\r', ' ', 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> codePoint >= 0x2000 && codePoint <= 0x200A;
        };
    }

    private static final Pattern WORD_CHARACTER = Pattern.compile("\\w", Pattern.UNICODE_CHARACTER_CLASS);

    /** Rust regex \w: alphabetic, marks, decimal digits, connector punctuation, join controls. */
    static boolean isWordCharacter(int codePoint) {
        return WORD_CHARACTER.matcher(Character.toString(codePoint)).matches();
    }

    /**
     * Compiles a pattern written for Oniguruma (what HF tokenizers uses): \s, \d, \w and the
     * \p classes are Unicode-wide there, and (?i) folds case by Unicode rules.
     */
    static Pattern compileOniguruma(String regex, String where) {
        if (POSIX_BRACKET.matcher(regex).find()) {
            // Java would read [[:alpha:]] as the set of ':', 'a', 'l', ... and match the wrong text.
            throw new TokenizerException(where + ": POSIX bracket classes like [:alpha:] are not supported in regex " + regex);
        }
        try {
            return Pattern.compile(regex, Pattern.UNICODE_CHARACTER_CLASS);
        } catch (RuntimeException e) {
            try {
                // Oniguruma names scripts bare (\p{Han}); Java wants \p{IsHan}.
                return Pattern.compile(SCRIPT_PROPERTY.matcher(regex).replaceAll("\\\\$1{Is$2}"),
                        Pattern.UNICODE_CHARACTER_CLASS);
            } catch (RuntimeException ignored) {
                throw new TokenizerException(where + ": cannot compile regex " + regex + ": "
                        + e.getMessage().lines().findFirst().orElse(""), e);
            }
        }
    }

    private static final Pattern POSIX_BRACKET = Pattern.compile("\\[:\\^?[a-z]+:\\]");
    private static final Pattern SCRIPT_PROPERTY = Pattern.compile("\\\\([pP])\\{(?!Is|In)([A-Za-z_]+)}");

    /** Index of the first unpaired UTF-16 surrogate in text, or -1: such text has no UTF-8 form. */
    static int loneSurrogateIndex(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (Character.isHighSurrogate(c)) {
                if (i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                } else {
                    return i;
                }
            } else if (Character.isLowSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }
}
