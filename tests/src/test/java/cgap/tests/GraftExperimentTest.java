package cgap.tests;

import cgap.engine.graft.LayerWindow;
import cgap.engine.runtime.Transformer;
import cgap.gap.graft.GraftExperiment;
import cgap.gap.graft.GraftExperiment.NamedWindow;
import cgap.gap.graft.GraftPrompt;
import cgap.gap.graft.GraftRun;
import cgap.gap.graft.GraftSummary;
import cgap.gap.graft.Intervention;
import cgap.gap.graft.LateKl;
import cgap.gap.graft.PromptResult;
import cgap.gap.lens.LensMetrics;
import cgap.gap.lens.LogitLens;
import cgap.models.Model;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The graft experiment on a PT fixture and an "IT" copy differing only in its late MLPs, where the answers are known. */
class GraftExperimentTest {
    /** Deep enough that the late-KL layers (j >= 8) include one before the final layer; windows early 0-3, late 6-9. */
    static final int LAYERS = 10;
    @TempDir static Path tmp;
    static Model pt, it;
    static final List<GraftPrompt> PROMPTS = List.of(
            new GraftPrompt("p0", "a", new int[] {1, 17, 99, 3}, new int[] {1, 5, 17, 99, 3, 2}),
            new GraftPrompt("p1", "b", new int[] {1, 250, 42}, new int[] {1, 5, 250, 42, 2}),
            new GraftPrompt("p2", "a", new int[] {1, 7, 128, 64, 5, 9}, new int[] {1, 5, 7, 128, 64, 5, 9, 2}));

    @BeforeAll
    static void load() throws IOException {
        Path ptDir = GraftKnownAnswerTest.deepened(Fixtures.hf().resolve("llama-f32"), tmp.resolve("pt"), LAYERS);
        Path itDir = GraftKnownAnswerTest.copyWithShuffled(ptDir, tmp.resolve("it"), GraftKnownAnswerTest.mlpOfLayers(LayerWindow.parse("late", LAYERS)));
        pt = Model.load(ptDir);
        it = Model.load(itDir);
    }

    @AfterAll
    static void close() {
        pt.close();
        it.close();
    }

    static GraftExperiment ptHost(List<Intervention> interventions) {
        List<NamedWindow> windows = List.of(new NamedWindow("early", LayerWindow.parse("early", LAYERS)), new NamedWindow("late", LayerWindow.parse("late", LAYERS)));
        return new GraftExperiment(pt.transformer(), it.transformer(), it.transformer(), Set.of(), 256, windows, interventions, 2, 7, 6);
    }

    @Test
    void lateKlIsTheLensKlOverLateLayersAtTheContinuationsPositions() {
        Transformer t = pt.transformer();
        int[] prompt = {1, 17, 99, 3}, continuation = {40, 41, 42};
        LensMetrics full = new LogitLens(t).run(new int[] {1, 17, 99, 3, 40, 41});
        double sum = 0;
        for (int j = 8; j < LAYERS; j++) for (int pos = 3; pos < 6; pos++) sum += full.kl()[j + 1][pos]; // readout l = j + 1
        double expected = sum / (2 * 3);
        assertTrue(expected > 0);
        assertEquals(expected, LateKl.measure(t, 256, prompt, continuation), 1e-9 * expected);
    }

    @Test
    void knownEffects() {
        GraftExperiment e = ptHost(List.of(Intervention.values()));
        for (GraftPrompt p : PROMPTS) {
            PromptResult r = e.measure(p);
            int[] teacher = cgap.engine.runtime.Generator.greedy(it.transformer(), p.teacherPrompt(), 6, Set.of(),
                    cgap.engine.hooks.HookRegistry.none(), id -> {});
            assertArrayEquals(teacher, r.continuation(), "the IT teacher's own greedy continuation");
            assertEquals(LateKl.measure(pt.transformer(), 256, p.hostPrompt(), teacher), r.baseline());
            double itLateKl = LateKl.measure(it.transformer(), 256, p.hostPrompt(), teacher);
            for (PromptResult.Row row : r.rows()) {
                String what = p.id() + " " + row.window() + " " + row.intervention() + " seed " + row.seed();
                assertEquals(row.lateKl() - r.baseline(), row.effect(), what);
                if (row.intervention().equals("identity")) assertEquals(0.0, row.effect(), what);
                if (row.window().equals("early") && !row.intervention().equals("permute")) {
                    assertEquals(0.0, row.effect(), what + ": donor MLPs equal the host's there");
                }
                if (row.intervention().equals("permute")) assertNotEquals(0.0, row.effect(), what + ": reversed order is a different model");
                if (row.window().equals("late") && row.intervention().equals("graft")) {
                    assertEquals(itLateKl, row.lateKl(), what + ": the grafted host computes exactly what IT computes");
                    assertNotEquals(0.0, row.effect(), what);
                }
                if (row.window().equals("late") && row.intervention().startsWith("random")) assertNotEquals(0.0, row.effect(), what);
            }
            assertEquals(2 * (3 + 2 * 2), r.rows().size(), "2 windows x (graft, identity, permute + 2 seeds x 2 random controls)");
        }
    }

    @Test
    void runWritesOutputsResumesAndRefusesOtherInputs(@TempDir Path out) throws IOException {
        GraftExperiment e = ptHost(List.of(Intervention.GRAFT, Intervention.IDENTITY, Intervention.RANDOM_NORM));
        Map<String, String> fp = Map.of("host", "pt", "donor", "it", "windows", "early,late");
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

        GraftRun.Result first = GraftRun.run(e, PROMPTS.subList(0, 2), out, fp, Map.of("host", "pt"), 0, 200, quiet);
        assertEquals(0, first.resumed());
        Files.writeString(out.resolve("results.jsonl"), "{\"prompt\": \"p2\", \"cat", StandardOpenOption.APPEND); // a killed append
        GraftRun.Result second = GraftRun.run(e, PROMPTS, out, fp, Map.of("host", "pt"), 0, 200, quiet);
        assertEquals(2, second.resumed());
        assertEquals(3, Files.readAllLines(out.resolve("results.jsonl")).size());
        assertEquals(first.results().get(1).baseline(), second.results().get(1).baseline());
        assertEquals(e.measure(PROMPTS.get(2)).rows(), second.results().get(2).rows(), "the resumed prompt measured as in one run");

        for (String f : List.of("run.json", "summary.json", "window_early.csv", "window_late.csv", "effects_early.png", "effects_late.svg", "report.html")) {
            assertTrue(Files.size(out.resolve(f)) > 0, f);
        }
        JsonNode summary = Fixtures.json(out.resolve("summary.json"));
        JsonNode late = summary.get("windows").get(1);
        assertEquals("6-9", late.get("layers").asText());
        double meanEffect = second.results().stream().mapToDouble(r -> r.rows().stream()
                .filter(x -> x.window().equals("late") && x.intervention().equals("graft")).findFirst().orElseThrow().effect()).average().orElseThrow();
        assertEquals(meanEffect, late.get("effects").get("graft").get("mean").asDouble(), 1e-12);
        assertEquals(0.0, late.get("effects").get("identity").get("hi").asDouble());
        assertEquals(2, late.get("effects").get("random-norm").get("per_seed").size());
        List<String> csv = Files.readAllLines(out.resolve("window_late.csv"));
        assertEquals("prompt_id,category,steps,baseline_late_kl,effect_graft,effect_identity,effect_random_norm_seed0,effect_random_norm_seed1", csv.get(0));
        assertEquals(4, csv.size());
        assertTrue(Files.readString(out.resolve("report.html")).contains("Matched-prefix MLP interventions"));

        String refused = assertThrows(IllegalArgumentException.class, () -> GraftRun.run(e, PROMPTS, out,
                Map.of("host", "pt", "donor", "other", "windows", "early,late"), Map.of(), 0, 200, quiet)).getMessage();
        assertTrue(refused.contains("donor was it, now other") && refused.contains("new --out"), refused);
    }
}
