package cgap.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad files and bad input fail loudly, naming what is wrong; byte-level BPE round-trips text. */
class TokenizerErrorsTest {
    @TempDir
    Path tmp;

    private Path tinyCopy(java.util.function.Consumer<ObjectNode> edit) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = (ObjectNode) json.readTree(Goldens.tokenizerDir("tiny-bytelevel").resolve("tokenizer.json").toFile());
        edit.accept(root);
        Path dir = Files.createTempDirectory(tmp, "tok");
        json.writeValue(dir.resolve("tokenizer.json").toFile(), root);
        return dir;
    }

    @Test
    void loneSurrogateIsRejected() {
        Tokenizer tokenizer = Goldens.tokenizer("tiny-bytelevel");
        TokenizerException e = assertThrows(TokenizerException.class, () -> tokenizer.encode("ab\uD83Dc", false));
        assertTrue(e.getMessage().contains("lone UTF-16 surrogate U+D83D at index 2"), e.getMessage());
        assertThrows(TokenizerException.class, () -> tokenizer.encode("\uDE00", true));
    }

    @Test
    void missingTokenizerJsonNamesTheFile() {
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(tmp));
        assertTrue(e.getMessage().contains("tokenizer.json") && e.getMessage().contains("not found"), e.getMessage());
    }

    @Test
    void malformedJsonNamesTheFile() throws IOException {
        Files.writeString(tmp.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0,");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(tmp));
        assertTrue(e.getMessage().contains("tokenizer.json: malformed JSON"), e.getMessage());
    }

    @Test
    void unsupportedComponentsAreNamed() throws IOException {
        Path unigram = tinyCopy(root -> ((ObjectNode) root.get("model")).put("type", "Unigram"));
        assertMessage(unigram, "model.type 'Unigram' is not supported");
        Path bert = tinyCopy(root -> root.putObject("normalizer").put("type", "BertNormalizer"));
        assertMessage(bert, "unsupported normalizer type 'BertNormalizer'");
        Path whitespace = tinyCopy(root -> root.putObject("pre_tokenizer").put("type", "Whitespace"));
        assertMessage(whitespace, "unsupported pre_tokenizer type 'Whitespace'");
        Path wordPiece = tinyCopy(root -> root.putObject("decoder").put("type", "WordPiece"));
        assertMessage(wordPiece, "unsupported decoder type 'WordPiece'");
        Path roberta = tinyCopy(root -> root.putObject("post_processor").put("type", "RobertaProcessing"));
        assertMessage(roberta, "unsupported post_processor type 'RobertaProcessing'");
        Path badMerge = tinyCopy(root -> ((com.fasterxml.jackson.databind.node.ArrayNode) root.get("model").get("merges"))
                .insertArray(0).add("nope").add("x"));
        assertMessage(badMerge, "model.merges[0] uses 'nope', which is not in model.vocab");
    }

    @Test
    void unknownIdIsAnErrorNotASilentSkip() {
        Tokenizer tokenizer = Goldens.tokenizer("tiny-bytelevel");
        TokenizerException e = assertThrows(TokenizerException.class, () -> tokenizer.decode(new int[] {5, 99999}, false));
        assertTrue(e.getMessage().contains("token id 99999"), e.getMessage());
    }

    @Test
    void byteLevelDecodeInvertsEncode() {
        for (String name : new String[] {"llama3", "qwen3"}) {
            Tokenizer tokenizer = Goldens.tokenizer(name);
            for (JsonNode c : Goldens.golden(name).get("cases")) {
                String text = c.get("text").asText();
                if (name.equals("qwen3")) { // its normalizer is NFC
                    text = java.text.Normalizer.normalize(text, java.text.Normalizer.Form.NFC);
                }
                int[] ids = tokenizer.encode(text, false);
                assertEquals(text, tokenizer.decode(ids, false), name + " round trip");
                assertArrayEquals(ids, tokenizer.encode(tokenizer.decode(ids, false), false));
            }
        }
    }

    private static void assertMessage(Path dir, String expected) {
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
