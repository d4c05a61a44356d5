package cgap.gap.study;

import cgap.gap.cli.DemoCommand;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code cgap demo} on the embedded pair, cut to two prompts: extraction to the cache, the study, the headline. */
class DemoCommandTest {

    @Test
    void runsTheEmbeddedPairOffline(@TempDir Path cache, @TempDir Path out) throws IOException {
        String first = demo(cache, out);
        assertTrue(first.contains("CG = IT - PT"), first);
        List<Path> extracted = list(cache);
        assertEquals(1, extracted.size(), "one content-hash directory: " + extracted);
        Path pair = extracted.getFirst();
        for (String f : List.of("pt/model.safetensors", "it/tokenizer_config.json", "prompts.jsonl")) {
            assertTrue(Files.isRegularFile(pair.resolve(f)), f + " extracted");
        }
        assertEquals(2, new StepsFile(out.resolve("steps.jsonl")).readAll(StepRecord.class).stream()
                .map(StepRecord::promptId).distinct().count());

        // A second run finds the pair in the cache and the finished study in --out.
        long modified = Files.getLastModifiedTime(pair.resolve("pt/model.safetensors")).toMillis();
        String second = demo(cache, out);
        assertTrue(second.contains("2 of 2 prompts already done"), second);
        assertEquals(modified, Files.getLastModifiedTime(pair.resolve("pt/model.safetensors")).toMillis());
        assertEquals(1, list(cache).size());
    }

    static String demo(Path cache, Path out) {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured));
            int exit = new CommandLine(new DemoCommand()).execute("--cache", cache.toString(), "--out", out.toString(),
                    "--limit", "2", "--max-new-tokens", "3");
            assertEquals(0, exit, captured.toString());
        } finally {
            System.setOut(original);
        }
        return captured.toString();
    }

    static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }
}
