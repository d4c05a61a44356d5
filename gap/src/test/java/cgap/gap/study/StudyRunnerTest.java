package cgap.gap.study;

import cgap.gap.cli.StudyCommand;
import cgap.gap.lens.LensMetrics;
import cgap.gap.lens.LogitLens;
import cgap.models.Model;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The study loop on a tiny random pair: records, replays, outputs, resume after a kill, refusal of changed inputs. */
class StudyRunnerTest {
    static final int PROMPTS = 4, NEW_TOKENS = 3;

    @TempDir static Path shared;
    static Path pair, prompts;

    @BeforeAll
    static void writePair() {
        pair = TinyPair.write(shared.resolve("pair"));
        prompts = TinyPair.writePrompts(shared.resolve("prompts.jsonl"), PROMPTS);
    }

    static StudyOptions options(Path out, Path promptFile, int newTokens) {
        return new StudyOptions(pair.resolve("pt"), pair.resolve("it"), promptFile, out, newTokens, 0, 7, "B", "A", 10, true);
    }

    static StudyRunner.Result run(StudyOptions o, StudyRunner.AfterPrompt after) {
        return new StudyRunner(o, new PrintStream(new ByteArrayOutputStream()), after).run();
    }

    @Test
    void recordsAreTheLensOfEachStep(@TempDir Path out) {
        run(options(out, prompts, NEW_TOKENS), (id, done, total) -> {});
        for (String f : List.of("run.json", "progress.json", "steps.jsonl", "same_history_js.jsonl", "same_history_js.csv",
                "summary.json", "curves.csv", "report.html")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f + " written");
        }
        List<StepRecord> records = new StepsFile(out.resolve("steps.jsonl")).readAll(StepRecord.class);
        Set<String> cells = new HashSet<>();
        for (StepRecord r : records) cells.add(r.model() + "/" + r.regime() + "/" + r.history());
        // 2 own cells + 2 histories x 3 regimes x 2 models, less the two forced runs that repeat an own cell.
        assertEquals(12, cells.size(), "cells: " + cells);
        assertFalse(cells.contains("it/it_native/it_native"));
        assertFalse(cells.contains("pt/pt_raw/pt_raw"));

        try (StudyModel pt = StudyModel.load("pt", pair.resolve("pt"))) {
            assertEquals(403, pt.scoredVocab, "the 13 padded embedding rows are not scored");
            Prompt p0 = Prompt.read(prompts).getFirst();
            int[] promptTokens = pt.tokenizer.encode(p0.text("B"), true);
            // Step 0 of PT's own decode is the lens at the last prompt position: compare with the fused lens.
            LensMetrics lens = new LogitLens(pt.transformer(), pt.scoredVocab).run(promptTokens);
            StepRecord first = records.stream().filter(r -> r.promptId().equals("p0") && r.model().equals("pt")
                    && r.history().equals("own") && r.step() == 0).findFirst().orElseThrow();
            int last = promptTokens.length - 1;
            for (int l = 0; l <= pt.layers(); l++) {
                assertEquals(lens.kl()[l][last], first.kl()[l], 1e-9, "kl at readout " + l);
                assertEquals(lens.entropy()[l][last], first.entropy()[l], 1e-9, "entropy at readout " + l);
                assertEquals(lens.top1()[l][last], first.top1()[l], "top1 at readout " + l);
            }
            assertEquals(first.top1()[pt.layers()], first.token(), "greedy picks the final top-1");
            assertEquals(lens.finalEntropy()[last], first.finalEntropy(), 1e-9);
            assertEquals(lens.finalTop1Prob()[last], first.finalTop1Prob(), 1e-9);
            for (double js : first.adjacentJs()) assertTrue(js >= 0 && js <= Math.log(2) + 1e-12, "JS in [0, ln 2]: " + js);
        }

        // Every replay of a history forces exactly that history's tokens.
        for (String prompt : List.of("p0", "p3")) {
            int[] itOwn = tokens(records, prompt, "it", "it_native", "own");
            assertEquals(NEW_TOKENS, itOwn.length, "random models rarely stop early: 3 steps");
            assertArrayEquals(itOwn, tokens(records, prompt, "pt", "pt_raw", "it_native"));
            assertArrayEquals(itOwn, tokens(records, prompt, "it", "it_raw", "it_native"));
            assertArrayEquals(tokens(records, prompt, "pt", "pt_raw", "own"), tokens(records, prompt, "it", "it_native", "pt_raw"));
        }
        // Both models share a tokenizer, so every regime gives both identical histories: 6 (regime, history) cells.
        List<SameHistoryJs> js = new StepsFile(out.resolve("same_history_js.jsonl")).readAll(SameHistoryJs.class);
        assertEquals(PROMPTS * 6 * NEW_TOKENS, js.size());
    }

    static int[] tokens(List<StepRecord> records, String prompt, String model, String regime, String history) {
        return records.stream().filter(r -> r.promptId().equals(prompt) && r.model().equals(model) && r.regime().equals(regime)
                && r.history().equals(history)).mapToInt(StepRecord::token).toArray();
    }

    @Test
    void resumesAfterAKillAndLosesNothing(@TempDir Path whole, @TempDir Path killed) throws IOException {
        run(options(whole, prompts, NEW_TOKENS), (id, done, total) -> {});

        class Killed extends RuntimeException {}
        assertThrows(Killed.class, () -> run(options(killed, prompts, NEW_TOKENS), (id, done, total) -> {
            if (done == 2) throw new Killed();
        }));
        // The kill also left half of the next prompt's block behind.
        Files.writeString(killed.resolve("steps.jsonl"), "{\"promptId\":\"p2\",\"cat", StandardOpenOption.APPEND);
        Files.writeString(killed.resolve("same_history_js.jsonl"), "{\"prom", StandardOpenOption.APPEND);

        StudyRunner.Result resumed = run(options(killed, prompts, NEW_TOKENS), (id, done, total) -> {});
        assertEquals(2, resumed.resumedPrompts());
        assertArrayEquals(Files.readAllBytes(whole.resolve("steps.jsonl")), Files.readAllBytes(killed.resolve("steps.jsonl")));
        assertArrayEquals(Files.readAllBytes(whole.resolve("same_history_js.jsonl")), Files.readAllBytes(killed.resolve("same_history_js.jsonl")));
        assertEquals(Files.readString(whole.resolve("curves.csv")), Files.readString(killed.resolve("curves.csv")));
    }

    @Test
    void changedInputsAreRefused(@TempDir Path out) throws IOException {
        Path promptCopy = Files.copy(prompts, out.resolveSibling(out.getFileName() + "-prompts.jsonl"));
        run(options(out, promptCopy, 2), (id, done, total) -> {});
        byte[] steps = Files.readAllBytes(out.resolve("steps.jsonl"));

        IllegalArgumentException moreTokens = assertThrows(IllegalArgumentException.class, () -> run(options(out, promptCopy, 3), (i, d, t) -> {}));
        assertTrue(moreTokens.getMessage().contains("--max-new-tokens was 2, now 3"), moreTokens.getMessage());

        Files.writeString(promptCopy, "{\"id\": \"extra\", \"prompt\": \"word\"}\n", StandardOpenOption.APPEND);
        IllegalArgumentException changed = assertThrows(IllegalArgumentException.class, () -> run(options(out, promptCopy, 2), (i, d, t) -> {}));
        assertTrue(changed.getMessage().contains("the prompt file changed") && changed.getMessage().contains("refusing to mix"), changed.getMessage());
        assertArrayEquals(steps, Files.readAllBytes(out.resolve("steps.jsonl")), "a refused run leaves the results alone");
    }

    @Test
    void studyCommandPrintsTheHeadline(@TempDir Path out) {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int exit;
        try {
            System.setOut(new PrintStream(captured));
            exit = new CommandLine(new StudyCommand()).execute("--pt", pair.resolve("pt").toString(), "--it", pair.resolve("it").toString(),
                    "--prompts", prompts.toString(), "--out", out.toString(), "--max-new-tokens", "2", "--limit", "2", "--bootstrap", "10");
        } finally {
            System.setOut(original);
        }
        assertEquals(0, exit, captured.toString());
        assertTrue(captured.toString().contains("results in " + out), captured.toString());
        assertEquals(2, new StepsFile(out.resolve("steps.jsonl")).readAll(StepRecord.class).stream().map(StepRecord::promptId).distinct().count());
    }
}
