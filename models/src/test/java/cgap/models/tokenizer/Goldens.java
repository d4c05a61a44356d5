package cgap.models.tokenizer;

import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where the tokenizer tests find their inputs: the real tokenizers that scripts/fetch_tokenizers.sh
 * caches under .cache/tokenizers/, the tiny ones and all goldens under tests/fixtures/tokenizers/.
 */
public final class Goldens {
    private Goldens() {}

    public static final String[] REAL = {"llama3", "gemma3", "qwen3", "llama2"};
    public static final String[] TINY = {"tiny-bytelevel", "tiny-metaspace", "tiny-affixes"};

    private static final Map<String, Tokenizer> LOADED = new ConcurrentHashMap<>();

    public static Path repoRoot() {
        String root = System.getProperty("cgap.repo.root");
        if (root == null) {
            fail("system property cgap.repo.root is not set (surefire sets it to the repository root)");
        }
        return Path.of(root);
    }

    public static Path fixtures() {
        return repoRoot().resolve("tests/fixtures/tokenizers");
    }

    /** The directory holding name's tokenizer.json; fails when the fetched cache is missing. */
    public static Path tokenizerDir(String name) {
        Path dir = name.startsWith("tiny-") ? fixtures().resolve(name) : repoRoot().resolve(".cache/tokenizers").resolve(name);
        if (!Files.isRegularFile(dir.resolve("tokenizer.json"))) {
            fail(dir.resolve("tokenizer.json") + " is missing: run scripts/fetch_tokenizers.sh first");
        }
        return dir;
    }

    public static Tokenizer tokenizer(String name) {
        return LOADED.computeIfAbsent(name, n -> Tokenizer.load(tokenizerDir(n)));
    }

    public static JsonNode golden(String name) {
        try {
            return new ObjectMapper().readTree(fixtures().resolve(name + ".json").toFile());
        } catch (IOException e) {
            throw new AssertionError("cannot read golden " + name + ".json: " + e.getMessage(), e);
        }
    }

    public static int[] ids(JsonNode array) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = array.get(i).asInt();
        }
        return ids;
    }
}
