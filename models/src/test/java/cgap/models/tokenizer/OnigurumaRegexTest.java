package cgap.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Split patterns written for Oniguruma, compared with HF tokenizers' Split(Regex(...),
 * "isolated").pre_tokenize_str on the same text (values recorded from tokenizers 0.23.2).
 */
class OnigurumaRegexTest {
    private static final String TEXT = "日本語のテキスト, αβγ 123 漢字";

    private static List<String> isolated(String regex) {
        List<Split> out = new ArrayList<>();
        new Split(TEXT, true).splitInto(TextPattern.regex(Unicode.compileOniguruma(regex, "test")),
                Split.Behavior.ISOLATED, false, out);
        return out.stream().map(Split::text).toList();
    }

    @Test
    void bareScriptNamesWorkAsInOniguruma() {
        assertEquals(List.of("日本語", "のテキスト, αβγ 123 ", "漢字"), isolated("\\p{Han}+"));
        assertEquals(List.of("日本語", "の", "テキスト", ", αβγ 123 漢字"), isolated("\\p{Hiragana}+|\\p{Katakana}+"));
        assertEquals(List.of("日本語", "のテキスト, αβγ ", "123", " ", "漢字"), isolated("[\\p{Han}\\p{N}]+"));
    }

    @Test
    void posixBracketsAreRefusedRatherThanMisread() {
        TokenizerException e = assertThrows(TokenizerException.class, () -> Unicode.compileOniguruma("[[:alpha:]]+", "test"));
        assertTrue(e.getMessage().contains("POSIX bracket"), e.getMessage());
    }
}
