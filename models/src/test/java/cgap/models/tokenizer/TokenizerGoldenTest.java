package cgap.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Ids and decodes identical to HF tokenizers (goldens from scripts/gen_tokenizer_goldens.py). */
class TokenizerGoldenTest {

    static Stream<String> tokenizers() {
        return Stream.concat(Arrays.stream(Goldens.REAL), Arrays.stream(Goldens.TINY));
    }

    @ParameterizedTest
    @MethodSource("tokenizers")
    void encodesHardStringsAsHf(String name) {
        Tokenizer tokenizer = Goldens.tokenizer(name);
        JsonNode cases = Goldens.golden(name).get("cases");
        assertTrue(cases.size() >= 40, "at least 40 hard strings");
        List<String> mismatches = new ArrayList<>();
        for (JsonNode c : cases) {
            String text = c.get("text").asText();
            check(mismatches, "ids", text, Goldens.ids(c.get("ids")), tokenizer.encode(text, true));
            check(mismatches, "ids_no_special", text, Goldens.ids(c.get("ids_no_special")), tokenizer.encode(text, false));
        }
        assertEquals(List.of(), mismatches, name + ": " + mismatches.size() + " encodings differ from HF");
    }

    @ParameterizedTest
    @MethodSource("tokenizers")
    void decodesAsHf(String name) {
        Tokenizer tokenizer = Goldens.tokenizer(name);
        JsonNode golden = Goldens.golden(name);
        List<String> mismatches = new ArrayList<>();
        for (JsonNode c : golden.get("cases")) {
            int[] ids = Goldens.ids(c.get("ids"));
            check(mismatches, "decoded", ids, c.get("decoded").asText(), tokenizer.decode(ids, false));
            check(mismatches, "decoded_skip_special", ids, c.get("decoded_skip_special").asText(), tokenizer.decode(ids, true));
        }
        for (JsonNode c : golden.get("decode_cases")) {
            int[] ids = Goldens.ids(c.get("ids"));
            check(mismatches, "text", ids, c.get("text").asText(), tokenizer.decode(ids, false));
            check(mismatches, "text_skip_special", ids, c.get("text_skip_special").asText(), tokenizer.decode(ids, true));
        }
        assertEquals(List.of(), mismatches, name + ": " + mismatches.size() + " decodes differ from HF");
    }

    @ParameterizedTest
    @MethodSource("tokenizers")
    void reportsVocabularyAndSpecialTokensAsHf(String name) {
        Tokenizer tokenizer = Goldens.tokenizer(name);
        JsonNode info = Goldens.golden(name).get("info");
        assertEquals(info.get("vocab_size").asInt(), tokenizer.vocabSize());
        assertEquals(info.get("bos_id").isNull() ? "empty" : info.get("bos_id").asText(),
                tokenizer.bosId().isPresent() ? String.valueOf(tokenizer.bosId().getAsInt()) : "empty");
        assertEquals(info.get("eos_id").asInt(), tokenizer.eosId().orElseThrow());
        List<Integer> special = new ArrayList<>();
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            if (tokenizer.isSpecial(id)) special.add(id);
        }
        List<Integer> expected = new ArrayList<>();
        info.get("special_ids").forEach(n -> expected.add(n.asInt()));
        assertEquals(expected, special);
    }

    private static void check(List<String> mismatches, String what, Object input, Object expected, Object actual) {
        String e = expected instanceof int[] a ? Arrays.toString(a) : String.valueOf(expected);
        String g = actual instanceof int[] a ? Arrays.toString(a) : String.valueOf(actual);
        if (!e.equals(g)) {
            String in = input instanceof int[] a ? Arrays.toString(a) : "'" + input + "'";
            mismatches.add(what + " of " + in + ": HF " + e + " but got " + g);
        }
    }
}
