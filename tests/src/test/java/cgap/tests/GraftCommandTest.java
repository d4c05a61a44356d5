package cgap.tests;

import cgap.engine.graft.LayerWindow;
import cgap.gap.cli.GraftCommand;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code cgap graft} end to end on a PT/IT pair that differs only in its late MLPs, with a real tokenizer and chat
 * template: the IT MLP graft into PT and the PT MLP swap into IT, each with its known answers.
 */
class GraftCommandTest {
    @TempDir static Path tmp;
    static Path pt, it, prompts;

    @BeforeAll
    static void pair() throws IOException {
        Path tokenizer = Fixtures.repoRoot().resolve("tests/fixtures/tokenizers/tiny-bytelevel");
        pt = GraftKnownAnswerTest.deepened(Fixtures.hf().resolve("llama-f32"), tmp.resolve("pt"), 10, 512);
        it = GraftKnownAnswerTest.copyWithShuffled(pt, tmp.resolve("it"), GraftKnownAnswerTest.mlpOfLayers(LayerWindow.parse("late", 10)));
        for (Path dir : List.of(pt, it)) Files.copy(tokenizer.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
        Files.copy(tokenizer.resolve("tokenizer_config.json"), it.resolve("tokenizer_config.json")); // with the chat template
        Files.writeString(pt.resolve("tokenizer_config.json"), "{\"bos_token\": \"<|bos|>\", \"eos_token\": \"<|im_end|>\"}");
        prompts = tmp.resolve("prompts.jsonl");
        Files.writeString(prompts, """
                {"id": "q1", "category": "FACT", "formats": {"A": "What is the capital of France?", "B": "Question: What is the capital of France?\\nAnswer:"}}
                {"id": "q2", "category": "MATH", "formats": {"A": "Add 2 and 3.", "B": "Question: Add 2 and 3.\\nAnswer:"}}
                {"id": "q3", "category": "FACT", "formats": {"A": "Name a colour.", "B": "Question: Name a colour.\\nAnswer:"}}
                """);
    }

    record Run(int exit, String out, String err) {}

    static Run graft(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out, oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            int exit = new CommandLine(new GraftCommand()).execute(args);
            return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    static JsonNode effects(Path out, int window) {
        return Fixtures.json(out.resolve("summary.json")).get("windows").get(window).get("effects");
    }

    @Test
    void graftAndSwapWithControls() throws IOException {
        Path graftOut = tmp.resolve("graft"), swapOut = tmp.resolve("swap");
        String[] common = {"--prompts", prompts.toString(), "--window", "early,late", "--max-new-tokens", "6", "--bootstrap", "200"};
        Run graft = graft(concat(new String[] {"--host", pt.toString(), "--donor", it.toString(), "--out", graftOut.toString(), "--seeds", "2"}, common));
        assertEquals(0, graft.exit(), graft.err());
        Run swap = graft(concat(new String[] {"--host", it.toString(), "--donor", pt.toString(), "--out", swapOut.toString(), "--seeds", "2"}, common));
        assertEquals(0, swap.exit(), swap.err());
        assertTrue(graft.out().contains("late") && graft.out().contains("random-proj"), graft.out());

        JsonNode run = Fixtures.json(graftOut.resolve("summary.json")).get("run");
        assertTrue(run.get("experiment").asText().startsWith("IT MLPs grafted into the PT host"), run.toString());
        assertTrue(Fixtures.json(swapOut.resolve("summary.json")).get("run").get("experiment").asText().startsWith("PT MLPs swapped"));

        // The teacher is the IT model under its chat template in both directions: the same tokens.
        List<String> graftLines = Files.readAllLines(graftOut.resolve("results.jsonl")), swapLines = Files.readAllLines(swapOut.resolve("results.jsonl"));
        assertEquals(3, graftLines.size());
        for (int i = 0; i < 3; i++) {
            JsonNode g = new com.fasterxml.jackson.databind.ObjectMapper().readTree(graftLines.get(i));
            JsonNode s = new com.fasterxml.jackson.databind.ObjectMapper().readTree(swapLines.get(i));
            assertEquals(g.get("continuation"), s.get("continuation"));
        }
        for (Path out : List.of(graftOut, swapOut)) {
            JsonNode early = effects(out, 0), late = effects(out, 1);
            assertEquals(0.0, early.get("graft").get("mean").asDouble(), "early MLPs are equal in the pair");
            assertEquals(0.0, late.get("identity").get("mean").asDouble());
            assertEquals(0.0, late.get("identity").get("hi").asDouble());
            assertNotEquals(0.0, late.get("graft").get("mean").asDouble());
            assertEquals(2, late.get("random-norm").get("per_seed").size());
        }
        assertTrue(Files.readString(graftOut.resolve("report.html")).contains("IT MLPs grafted into the PT host"));
        assertTrue(Files.size(graftOut.resolve("effects_late.png")) > 1000);

        Run again = graft(concat(new String[] {"--host", pt.toString(), "--donor", it.toString(), "--out", graftOut.toString(), "--seeds", "2"}, common));
        assertEquals(0, again.exit(), again.err());
        assertTrue(again.err().contains("3 of 3 prompts already done"), again.err());
        Run other = graft(concat(new String[] {"--host", pt.toString(), "--donor", it.toString(), "--out", graftOut.toString(),
                "--seeds", "3"}, common));
        assertEquals(1, other.exit());
        assertTrue(other.err().contains("seeds was 2, now 3"), other.err());
    }

    /** The case study: IT generating freely under a late PT swap, beside its native generation, as ids and text. */
    @Test
    void generateUnderASwapPrintsBothContinuationsAsText() {
        String prompt = "1,72,101,108,108,111";
        CliTest.Run r = CliTest.cgap("generate", "--model", it.toString(), "--graft-from", pt.toString(), "--window", "late",
                "--tokens", prompt, "--max-new-tokens", "8", "--ignore-eos");
        assertEquals(0, r.exit(), r.err());
        String[] lines = r.out().strip().split("\n");
        CliTest.Run ptRun = CliTest.cgap("generate", "--model", pt.toString(), "--tokens", prompt, "--max-new-tokens", "8", "--ignore-eos");
        String ptTokens = ptRun.out().strip();
        assertTrue(lines[1].startsWith("grafted: " + ptTokens + " "), "the late swap makes IT compute PT's continuation: " + lines[1]);
        cgap.models.tokenizer.Tokenizer tokenizer = cgap.models.tokenizer.Tokenizer.load(it);
        int[] ids = java.util.Arrays.stream(ptTokens.split(",")).mapToInt(Integer::parseInt).toArray();
        String text = tokenizer.decode(ids, false).replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\"", "\\\"");
        assertEquals("grafted text: \"" + text + "\"", lines[3]);
        assertTrue(lines[0].startsWith("native:  ") && lines[2].startsWith("native text:  \""), r.out());
    }

    @Test
    void unclearTeacherIsRefused() {
        Run r = graft("--host", pt.toString(), "--donor", pt.toString(), "--prompts", prompts.toString(), "--out", tmp.resolve("x").toString());
        assertEquals(1, r.exit());
        assertTrue(r.err().contains("--host-is"), r.err());
    }

    static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
