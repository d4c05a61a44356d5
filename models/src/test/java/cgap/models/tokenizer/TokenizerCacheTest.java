package cgap.models.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A tokenizer loaded from its cache entry encodes exactly as the one parsed from tokenizer.json (and as HF). */
class TokenizerCacheTest {
    @TempDir Path cacheDir;
    private String previous;

    @BeforeEach
    void useTemporaryCache() {
        previous = System.getProperty("cgap.cache.dir");
        System.setProperty("cgap.cache.dir", cacheDir.toString());
    }

    @AfterEach
    void restore() {
        if (previous == null) System.clearProperty("cgap.cache.dir");
        else System.setProperty("cgap.cache.dir", previous);
    }

    static Stream<String> tokenizers() {
        return Stream.concat(Arrays.stream(Goldens.REAL), Arrays.stream(Goldens.TINY));
    }

    @ParameterizedTest
    @MethodSource("tokenizers")
    void cachedLoadEncodesAndDecodesAsHf(String name) throws IOException {
        Path json = Goldens.tokenizerDir(name).resolve("tokenizer.json");
        Path entry = TokenizerCache.entryFor(json);
        Tokenizer parsed = Tokenizer.load(json.getParent());
        assertTrue(Files.isRegularFile(entry), "first load writes " + entry);
        Tokenizer cached = Tokenizer.load(json.getParent());
        assertEquals(parsed.vocabSize(), cached.vocabSize());
        for (JsonNode c : Goldens.golden(name).get("cases")) {
            String text = c.get("text").asText();
            int[] ids = Goldens.ids(c.get("ids"));
            assertArrayEquals(ids, cached.encode(text, true), name + " (cached): " + text);
            assertArrayEquals(Goldens.ids(c.get("ids_no_special")), cached.encode(text, false), name + " (cached): " + text);
            assertEquals(parsed.decode(ids, false), cached.decode(ids, false), name + " (cached) decode: " + text);
        }
    }

    @Test
    void damagedEntryFallsBackToTheJsonAndIsRewritten() throws IOException {
        Path dir = Goldens.tokenizerDir("tiny-bytelevel");
        Path entry = TokenizerCache.entryFor(dir.resolve("tokenizer.json"));
        int[] expected = Tokenizer.load(dir).encode("Hello, world! 123", true);
        long size = Files.size(entry);
        Files.write(entry, Arrays.copyOf(Files.readAllBytes(entry), (int) size / 2));
        assertArrayEquals(expected, Tokenizer.load(dir).encode("Hello, world! 123", true));
        assertEquals(size, Files.size(entry), "the damaged entry is replaced");
    }

    @Test
    void anEditedFileGetsItsOwnEntry(@TempDir Path copy) throws IOException {
        Path dir = Goldens.tokenizerDir("tiny-bytelevel");
        Path json = copy.resolve("tokenizer.json");
        Files.copy(dir.resolve("tokenizer.json"), json);
        Path before = TokenizerCache.entryFor(json);
        Files.writeString(json, Files.readString(json) + "\n");
        assertNotEquals(before, TokenizerCache.entryFor(json));
    }

    @Test
    void anEntryWithAnImpossibleMergeCountIsIgnored() throws IOException {
        Path dir = Goldens.tokenizerDir("tiny-bytelevel");
        Path entry = TokenizerCache.entryFor(dir.resolve("tokenizer.json"));
        int[] expected = Tokenizer.load(dir).encode("Hello, world! 123", true);
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(Files.readAllBytes(entry));
        in.position(8); // magic, version
        for (int map = 0; map < 2; map++) { // sections, model options: count, then (key, JSON) strings
            int n = in.getInt();
            for (int i = 0; i < 2 * n; i++) in.position(in.position() + 4 + in.getInt(in.position()));
        }
        assertEquals(1, in.get());
        int vocab = in.getInt();
        for (int i = 0; i < vocab; i++) in.position(in.position() + 8 + in.getInt(in.position() + 4));
        assertEquals(1, in.get());
        in.putInt(in.position(), Integer.MAX_VALUE); // two billion merges: must not be allocated
        Files.write(entry, in.array());
        assertArrayEquals(expected, Tokenizer.load(dir).encode("Hello, world! 123", true));
    }
}
