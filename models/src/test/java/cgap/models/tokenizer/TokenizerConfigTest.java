package cgap.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** BOS/EOS come from tokenizer_config.json, generation_config.json adds end-of-generation ids. */
class TokenizerConfigTest {
    @TempDir
    Path dir;

    private void writeTiny(String tokenizerConfig, String generationConfig) throws IOException {
        Files.copy(Goldens.tokenizerDir("tiny-bytelevel").resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        if (tokenizerConfig != null) Files.writeString(dir.resolve("tokenizer_config.json"), tokenizerConfig);
        if (generationConfig != null) Files.writeString(dir.resolve("generation_config.json"), generationConfig);
    }

    @Test
    void generationConfigAddsEosIds() throws IOException {
        writeTiny("{\"bos_token\": \"<|bos|>\", \"eos_token\": {\"content\": \"<|eos|>\", \"special\": true}}",
                "{\"bos_token_id\": 0, \"eos_token_id\": [1, 3]}");
        Tokenizer tokenizer = Tokenizer.load(dir);
        assertEquals(OptionalInt.of(0), tokenizer.bosId());
        assertEquals(OptionalInt.of(1), tokenizer.eosId());
        assertEquals(Set.of(1, 3), tokenizer.eosIds());
        assertEquals(List.of(1, 3), List.copyOf(tokenizer.eosIds()));
    }

    @Test
    void withoutConfigsThereIsNoBosOrEos() throws IOException {
        writeTiny(null, null);
        Tokenizer tokenizer = Tokenizer.load(dir);
        assertTrue(tokenizer.bosId().isEmpty());
        assertTrue(tokenizer.eosId().isEmpty());
        assertEquals(Set.of(), tokenizer.eosIds());
        assertEquals("<|im_end|>", tokenizer.tokenText(3));
        assertTrue(tokenizer.isSpecial(3));
    }

    @Test
    void generationConfigAloneGivesIds() throws IOException {
        writeTiny(null, "{\"bos_token_id\": 0, \"eos_token_id\": 3}");
        Tokenizer tokenizer = Tokenizer.load(dir);
        assertEquals(OptionalInt.of(0), tokenizer.bosId());
        assertEquals(OptionalInt.of(3), tokenizer.eosId());
        assertEquals(Set.of(3), tokenizer.eosIds());
    }

    @Test
    void unknownSpecialTokenNamesTheKey() throws IOException {
        writeTiny("{\"eos_token\": \"<nope>\"}", null);
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.load(dir));
        assertTrue(e.getMessage().contains("tokenizer_config.json: eos_token '<nope>' is not a token"), e.getMessage());
    }
}
